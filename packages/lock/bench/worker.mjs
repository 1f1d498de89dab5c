// Bench worker: waits for the go flag, runs its role, reports timings.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '@conc/serialize';
import '@conc/lock';

const { role, n, go } = workerData;
const flag = new Int32Array(go);
parentPort.postMessage({ ready: true });
while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 50);

if (role === 'contend') {
  const lock = attach(workerData.lock);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    lock.release();
  }
  parentPort.postMessage({ ms: performance.now() - t0 });
} else if (role === 'cond-ping' || role === 'cond-pong') {
  // Turn word in shared memory, guarded by the condition's lock.
  const cond = attach(workerData.cond);
  const turn = new Int32Array(workerData.turn);
  const ping = role === 'cond-ping';
  const samples = [];
  cond.acquireSync();
  for (let i = 0; i < n; i++) {
    if (ping) {
      const t0 = performance.now();
      turn[0] = 1;
      cond.notify();
      cond.waitForSync(() => turn[0] === 0);
      samples.push((performance.now() - t0) * 1000);
    } else {
      cond.waitForSync(() => turn[0] === 1);
      turn[0] = 0;
      cond.notify();
    }
  }
  cond.release();
  parentPort.postMessage({ samples });
} else if (role === 'event-ping' || role === 'event-pong') {
  const there = attach(workerData.there);
  const back = attach(workerData.back);
  const samples = [];
  for (let i = 0; i < n; i++) {
    if (role === 'event-ping') {
      const t0 = performance.now();
      there.set();
      back.waitSync();
      back.clear();
      samples.push((performance.now() - t0) * 1000);
    } else {
      there.waitSync();
      there.clear();
      back.set();
    }
  }
  parentPort.postMessage({ samples });
} else if (role === 'hold') {
  attach(workerData.lock).acquireSync();
  parentPort.postMessage({ held: true });
  setInterval(() => {}, 1 << 30);
}
