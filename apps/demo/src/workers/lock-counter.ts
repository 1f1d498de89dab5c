// One side of the counter race: adds `delta` to a shared Int32, `times` times,
// reading, yielding, then writing: a read-modify-write that is not atomic.
import { workerData } from 'node:worker_threads';
import { Barrier, Lock } from '@conc/lock';
import { attach, type Token } from '@conc/serialize';

const { counter, lock, start, delta, times } = workerData as {
  counter: SharedArrayBuffer;
  lock?: Token<Lock>;
  start: Token<Barrier>;
  delta: number;
  times: number;
};
const total = new Int32Array(counter);
const guard = lock === undefined ? undefined : attach(lock);
const gate = attach(start);
if (!(gate instanceof Barrier) || (guard !== undefined && !(guard instanceof Lock))) {
  throw new TypeError('lock-counter: expected a Barrier and a Lock');
}
const nap = new Int32Array(new SharedArrayBuffer(4));

gate.waitSync(); // both sides start together
for (let i = 0; i < times; i++) {
  guard?.acquireSync();
  const seen = total[0]!;
  Atomics.wait(nap, 0, 0, 0.05); // the yield point: the other thread runs here
  total[0] = seen + delta;
  guard?.release();
}
