// @conc/lock thread tier against Python's threading and async-mutex in the same run.
// Rows: lock.thread.{sync.uncontended, sync.contended2, async.uncontended,
// condition.roundtrip.p50/p99, event.roundtrip.p50/p99, ownerDied.detect}.
import { Worker } from 'node:worker_threads';
import { Condition, Event, Lock } from '@conc/lock';
import { share } from '@conc/serialize';
import { Mutex } from 'async-mutex';

import { together as startTogether } from '../../../scripts/bench-lib.mjs';

const workerUrl = new URL('./worker.mjs', import.meta.url);

/** One worker per role, released together (see scripts/bench-lib.mjs). */
const together = (roles) => startTogether(workerUrl, roles);

function syncUncontended(n) {
  const lock = new Lock();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    lock.release();
  }
  return n / ((performance.now() - t0) / 1000);
}

async function contended2(n) {
  const lock = share(new Lock());
  const reports = await together([
    { role: 'contend', lock, n: n / 2 },
    { role: 'contend', lock, n: n / 2 },
  ]);
  return n / (Math.max(...reports.map((r) => r.ms)) / 1000);
}

async function asyncUncontended(n) {
  const lock = new Lock();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
  return n / ((performance.now() - t0) / 1000);
}

async function asyncMutex(n) {
  const mutex = new Mutex();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const release = await mutex.acquire();
    release();
  }
  return n / ((performance.now() - t0) / 1000);
}

async function conditionRoundTrip(n) {
  const cond = share(new Condition(new Lock()));
  const turn = new SharedArrayBuffer(4);
  const [ping] = await together([
    { role: 'cond-ping', cond, turn, n },
    { role: 'cond-pong', cond, turn, n },
  ]);
  return ping.samples.slice(Math.floor(n / 10));
}

async function eventRoundTrip(n) {
  const there = share(new Event());
  const back = share(new Event());
  const [ping] = await together([
    { role: 'event-ping', there, back, n },
    { role: 'event-pong', there, back, n },
  ]);
  return ping.samples.slice(Math.floor(n / 10));
}

/** Milliseconds from terminating a holder to the waiter holding the lock, told it was abandoned. */
async function detect() {
  const lock = new Lock();
  const w = new Worker(workerUrl, {
    workerData: {
      role: 'hold',
      lock: share(lock),
      go: new Int32Array(new SharedArrayBuffer(4)).fill(1).buffer,
    },
  });
  await new Promise((resolve) => w.once('message', resolve));
  await new Promise((resolve) => w.once('message', resolve));
  let told = false;
  const acquired = lock.acquire({ onOwnerDied: () => (told = true) });
  const t0 = performance.now();
  await w.terminate();
  await acquired;
  const ms = performance.now() - t0;
  if (!told) throw new Error('the waiter was not told the holder died');
  lock.release();
  return ms;
}

export default async function (h) {
  const q = h.quick;
  const python = (file, ...args) => h.python(file, args);

  const nSync = q ? 5_000_000 : 20_000_000;
  syncUncontended(nSync / 10); // warm up
  await h.compare({
    id: 'lock.thread.sync.uncontended',
    unit: 'ops/s',
    ours: () => syncUncontended(nSync),
    baseline: {
      id: 'python.threading.Lock.uncontended',
      run: async () => (await python('lock_uncontended.py', q ? 2_000_000 : 5_000_000)).ops_per_sec,
    },
    note: 'acquireSync + release in one thread vs threading.Lock acquire + release',
  });

  const nContended = q ? 2_000_000 : 6_000_000;
  await h.compare({
    id: 'lock.thread.sync.contended2',
    unit: 'ops/s',
    ours: () => contended2(nContended),
    baseline: {
      id: 'python.threading.Lock.contended2',
      run: async () => (await python('lock_contended.py', q ? 1_000_000 : 3_000_000)).ops_per_sec,
    },
    note: '2 workers (2 threads) each doing acquireSync + release on one lock; pairs/s in all',
  });

  const nAsync = q ? 1_000_000 : 3_000_000;
  await asyncUncontended(nAsync / 10);
  await asyncMutex(nAsync / 10);
  await h.compare({
    id: 'lock.thread.async.uncontended',
    unit: 'ops/s',
    ours: () => asyncUncontended(nAsync),
    baseline: { id: 'async-mutex.Mutex.uncontended', run: () => asyncMutex(nAsync) },
    note: 'await acquire() + release() vs async-mutex Mutex: await acquire() + release()',
  });

  const nTrip = q ? 10_000 : 50_000;
  for (const [kind, run] of [
    ['condition', conditionRoundTrip],
    ['event', eventRoundTrip],
  ]) {
    const p50 = [];
    const p99 = [];
    const py50 = [];
    const py99 = [];
    for (let i = 0; i < h.runs; i++) {
      const samples = await run(nTrip);
      p50.push(h.percentile(samples, 50));
      p99.push(h.percentile(samples, 99));
      const py = await python('wake_roundtrip.py', kind, nTrip);
      py50.push(py.p50_us);
      py99.push(py.p99_us);
    }
    const Name = kind === 'condition' ? 'Condition' : 'Event';
    for (const [p, ours, base] of [
      ['p50', p50, py50],
      ['p99', p99, py99],
    ]) {
      h.row({
        id: `lock.thread.${kind}.roundtrip.${p}`,
        unit: 'µs',
        value: h.median(ours),
        baseline: { id: `python.threading.${Name}.roundtrip.${p}`, value: h.median(base) },
        runs: h.runs,
        note: `2 workers, sync waits: ${kind === 'condition' ? 'notify -> wait returns -> notify back' : 'set -> wait returns -> set back'}`,
      });
    }
  }

  const reps = q ? 5 : 15;
  const ms = [];
  for (let i = 0; i < reps; i++) ms.push(await detect());
  h.row({
    id: 'lock.thread.ownerDied.detect',
    unit: 'ms',
    value: h.median(ms),
    baseline: { id: 'RELIABILITY.T_detect', value: 1000 },
    runs: reps,
    note: `holder terminated -> async waiter holds the lock and is told; max ${Math.max(...ms).toFixed(1)} ms (Python: never)`,
  });
}
