// A child process of process.bench.mjs: attaches the process Lock whose token is
// argv[2], waits for the go word (argv[3], a SharedMemory token) to turn 1, then
// does argv[4] acquireSync + release pairs and sends the milliseconds they took.
import { attach } from '@conc/serialize';
import '@conc/lock/process';
import { wait } from '@conc/shared-memory';

const lock = attach(JSON.parse(process.argv[2]));
const go = attach(JSON.parse(process.argv[3]));
const n = Number(process.argv[4]);
const word = new Int32Array(go.buffer, 0, 1);
process.send('ready');
while (Atomics.load(word, 0) === 0) wait(word, 0, 0, 1000);
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  lock.acquireSync();
  lock.release();
}
process.send(performance.now() - t0);
lock.close();
go.close();
process.disconnect();
