/**
 * This thread's workers, and whether one has stopped, read synchronously.
 *
 * A thread blocked in a sync wait (waiting for the queue's internal lock, or
 * in `getSync`) runs no events, so it cannot see its own worker's `'exit'`,
 * the event on which `@conc/lock`'s registry marks a thread dead. If that
 * worker died holding the queue's lock, the blocked parent is the only thread
 * that can tell, so it probes its workers on each timed-out slice of a wait.
 *
 * A stand-in: `@conc/lock` probes its own waits the same way (its
 * `probeChildren`, which `@conc/lock/internal` does not export); the queue
 * drops this file when it moves onto that one engine.
 */
import type { Worker } from 'node:worker_threads';

const children = new Map<number, Worker>();

process.on('worker', (worker: Worker) => {
  const id = worker.threadId;
  children.set(id, worker);
  // The first reading caches the worker's loop start; only later readings can say "stopped".
  worker.once('online', () => stopped(worker));
  worker.once('exit', () => children.delete(id));
});

/**
 * True when `threadId` is a worker this thread created and it has stopped (its
 * `'exit'` event may not have been delivered yet). Never true for any other thread.
 */
export function childStopped(threadId: number): boolean {
  const worker = children.get(threadId);
  return worker !== undefined && stopped(worker);
}

/**
 * A stopped worker reports an idle time of -1 before its `'exit'` event can be
 * delivered to this thread. Undocumented, so only a fallback to that event.
 */
function stopped(worker: Worker): boolean {
  try {
    return worker.performance.eventLoopUtilization().idle === -1;
  } catch {
    return false;
  }
}
