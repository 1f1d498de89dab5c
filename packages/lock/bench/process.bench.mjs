// @conc/lock process tier against Python's multiprocessing.Lock in the same run.
// Rows: lock.process.{uncontended, contended2}.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { Lock } from '@conc/lock/process';
import { share } from '@conc/serialize';
import { SharedMemory, wake } from '@conc/shared-memory';

const peerUrl = new URL('./process-peer.mjs', import.meta.url);

function uncontended(n) {
  const lock = new Lock();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    lock.release();
  }
  const ops = n / ((performance.now() - t0) / 1000);
  lock.close();
  return ops;
}

/** Two child processes on one lock, started together; pairs/s from the slower one's own time. */
async function contended2(n) {
  const lock = new Lock();
  const go = SharedMemory.create({ size: 8 });
  const word = new Int32Array(go.buffer, 0, 1);
  const args = [JSON.stringify(share(lock)), JSON.stringify(share(go)), String(n / 2)];
  const children = [0, 1].map(() => fork(peerUrl, args, { stdio: 'inherit' }));
  await Promise.all(children.map((c) => once(c, 'message')));
  const times = children.map((c) => once(c, 'message').then(([ms]) => ms));
  Atomics.store(word, 0, 1);
  wake(word, 0);
  const ms = Math.max(...(await Promise.all(times)));
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  lock.close();
  go.close();
  return n / (ms / 1000);
}

export default async function (h) {
  const q = h.quick;
  const python = (...args) => h.python('mp_lock.py', args);

  const nUnc = q ? 2_000_000 : 10_000_000;
  uncontended(nUnc / 10); // warm up
  await h.compare({
    id: 'lock.process.uncontended',
    unit: 'ops/s',
    ours: () => uncontended(nUnc),
    baseline: {
      id: 'python.multiprocessing.Lock.uncontended',
      run: async () => (await python('uncontended', q ? 1_000_000 : 3_000_000)).ops_per_sec,
    },
    note: 'acquireSync + release of a process Lock in one process vs multiprocessing.Lock acquire + release',
  });

  const nCont = q ? 1_000_000 : 4_000_000;
  await h.compare({
    id: 'lock.process.contended2',
    unit: 'ops/s',
    ours: () => contended2(nCont),
    baseline: {
      id: 'python.multiprocessing.Lock.contended2',
      run: async () => (await python('contended2', q ? 400_000 : 1_000_000)).ops_per_sec,
    },
    note: '2 child processes each doing acquireSync + release on one lock vs 2 forked Python processes; pairs/s in all',
  });
}
