/**
 * Python's threading locks for worker threads: the seed's counter race, with
 * and without a Lock, side by side; then what Python cannot do: a thread that
 * dies holding the lock does not block everyone forever, and the next holder
 * is told.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Barrier, Lock, type OwnerDiedInfo } from '@conc/lock';
import { share } from '@conc/serialize';

export const title = "Python's threading locks across worker threads";

const TIMES = 1000;

function start(name: string, workerData: unknown): Worker {
  return new Worker(new URL(`./workers/lock-${name}.js`, import.meta.url), { workerData });
}

async function finished(w: Worker): Promise<void> {
  const [code] = (await Promise.race([
    once(w, 'exit'),
    once(w, 'error').then(([err]) => Promise.reject(err)),
  ])) as [number];
  if (code !== 0) throw new Error(`worker exited with code ${code}`);
}

/** Two workers, +1 and -1, TIMES each, on one shared counter; with or without a lock. */
async function race(lock: Lock | undefined): Promise<number> {
  const counter = new SharedArrayBuffer(4);
  const startTogether = share(new Barrier(2));
  const common = { counter, start: startTogether, times: TIMES, lock: lock && share(lock) };
  const workers = [start('counter', { ...common, delta: 1 }), start('counter', { ...common, delta: -1 })];
  await Promise.all(workers.map(finished));
  return new Int32Array(counter)[0]!;
}

export async function run(out: (line: string) => void): Promise<void> {
  out(`The counter race: two worker threads share one Int32; one adds 1, the other subtracts 1,`);
  out(`${TIMES} times each, by reading it, yielding, then writing it back. The total should be 0.`);
  const unlocked = await race(undefined);
  out(
    `  without a lock: total = ${unlocked}${unlocked === 0 ? ' (no update was lost this time; run it again)' : ' (updates were lost)'}`,
  );
  const locked = await race(new Lock());
  out(`  with a Lock:    total = ${locked}`);

  out('A holder that dies: Jack takes the Lock and his thread is terminated while he holds it.');
  const lock = new Lock();
  const jack = start('holder', { lock: share(lock) });
  await once(jack, 'message');
  let told: OwnerDiedInfo | undefined;
  const waiting = lock.acquire({ timeout: 5000, onOwnerDied: (info) => (told = info) });
  await jack.terminate();
  const acquired = await waiting;
  out(
    `  Ken: acquire() -> ${acquired}; onOwnerDied says thread ${told?.threadId} died holding the ${told?.primitive}`,
  );
  if (acquired) lock.release();
}
