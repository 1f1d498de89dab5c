// Jack: takes the lock and then hangs on to it until his thread is terminated.
import { parentPort, workerData } from 'node:worker_threads';
import { Lock } from '@conc/lock';
import { attach, type Token } from '@conc/serialize';

const lock = attach(workerData.lock as Token<Lock>);
if (!(lock instanceof Lock)) throw new TypeError('lock-holder: expected a Lock');
lock.acquireSync();
parentPort?.postMessage('held');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
