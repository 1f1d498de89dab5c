// @conc/manager against Python's multiprocessing.Manager, measured in the same run.
// Rows: manager.dict.getset (one awaited call at a time), manager.dict.getset.pipelined
// (calls in flight, awaited in groups), manager.value.add and .pipelined (atomic, against
// Python's `with lock: d[k] += 1`), manager.lock.increment (acquire, get, set, release:
// the same loop as Python's).
import { Manager } from '@conc/manager';

/** Calls in flight per group in the pipelined rows. */
const IN_FLIGHT = 256;

async function opsPerSec(n, fn) {
  const t0 = performance.now();
  await fn();
  return n / ((performance.now() - t0) / 1000);
}

export default async function (h) {
  const q = h.quick;
  const nSerial = q ? 5000 : 20_000;
  const nPipelined = q ? 50_000 : 200_000;
  const nLocked = q ? 1500 : 5000;

  const m = await Manager.start();
  try {
    await run(h, m, nSerial, nPipelined, nLocked);
  } finally {
    await m.shutdown();
  }
}

async function run(h, m, nSerial, nPipelined, nLocked) {
  const d = await m.dict({ k: 0 });
  const v = await m.value(0);
  const lock = await m.lock();
  // Warm both ends up so the measured loops run optimized code.
  for (let i = 0; i < 2000; i++) await d.set('k', i);
  await Promise.all(Array.from({ length: 20_000 }, (_, i) => d.set('k', i)));

  const pyGetset = {
    id: 'python.multiprocessing.Manager.dict.getset',
    run: async () => (await h.python('manager_ops.py', ['getset', nSerial])).ops_per_sec,
  };
  const pyLocked = {
    id: 'python.multiprocessing.Manager.locked_add',
    run: async () => (await h.python('manager_ops.py', ['locked_add', nLocked])).ops_per_sec,
  };

  await h.compare({
    id: 'manager.dict.getset',
    unit: 'ops/s',
    ours: () =>
      opsPerSec(nSerial, async () => {
        for (let i = 0; i < nSerial; i += 2) {
          await d.set('k', i);
          await d.get('k');
        }
      }),
    baseline: pyGetset,
    note: 'one awaited call at a time (set, then get)',
  });
  await h.compare({
    id: 'manager.dict.getset.pipelined',
    unit: 'ops/s',
    ours: () =>
      opsPerSec(nPipelined, async () => {
        for (let i = 0; i < nPipelined; i += IN_FLIGHT) {
          const group = [];
          for (let j = 0; j < IN_FLIGHT; j += 2) group.push(d.set('k', i + j), d.get('k'));
          await Promise.all(group);
        }
      }),
    baseline: pyGetset,
    note: `${IN_FLIGHT} calls in flight, awaited together; Python's proxy calls block one at a time`,
  });
  await h.compare({
    id: 'manager.value.add',
    unit: 'ops/s',
    ours: () =>
      opsPerSec(nSerial, async () => {
        for (let i = 0; i < nSerial; i++) await v.add(1);
      }),
    baseline: pyLocked,
    note: 'atomic add, one awaited call at a time, vs with lock: d[k] += 1',
  });
  await h.compare({
    id: 'manager.value.add.pipelined',
    unit: 'ops/s',
    ours: () =>
      opsPerSec(nPipelined, async () => {
        for (let i = 0; i < nPipelined; i += IN_FLIGHT) {
          await Promise.all(Array.from({ length: IN_FLIGHT }, () => v.add(1)));
        }
      }),
    baseline: pyLocked,
    note: `atomic adds, ${IN_FLIGHT} in flight, vs with lock: d[k] += 1`,
  });
  await h.compare({
    id: 'manager.lock.increment',
    unit: 'ops/s',
    ours: () =>
      opsPerSec(nLocked, async () => {
        for (let i = 0; i < nLocked; i++) {
          await lock.acquire();
          const k = await d.get('k');
          await d.set('k', k + 1);
          await lock.release();
        }
      }),
    baseline: pyLocked,
    note: 'acquire, get, set, release: four round trips, as Python',
  });
}
