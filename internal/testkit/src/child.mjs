// Helpers for fixture programs (worker threads and child processes) written as
// plain .mjs: `import { crashPoint, ready } from '@conc/testkit/child'`.
import { isMainThread, parentPort } from 'node:worker_threads';

/**
 * A named crash point. When the environment variable CONC_CRASH_AT names it
 * (or `workerData`-style `crashAt` is passed), the process dies by SIGKILL on
 * the spot (a worker thread exits at once): how fault tests kill a peer at a
 * chosen moment rather than at a random one.
 */
export function crashPoint(name, crashAt = process.env.CONC_CRASH_AT) {
  if (crashAt !== name) return;
  if (isMainThread) process.kill(process.pid, 'SIGKILL');
  else process.exit(137);
}

/** Tells the test this fixture is ready (IPC for a child, postMessage for a worker). */
export function ready(extra = {}) {
  const message = { ready: true, pid: process.pid, ...extra };
  if (!isMainThread) parentPort.postMessage(message);
  else if (process.send) process.send(message);
}

/** Sends a message to the test (IPC for a child, postMessage for a worker). */
export function report(message) {
  if (!isMainThread) parentPort.postMessage(message);
  else if (process.send) process.send(message);
}
