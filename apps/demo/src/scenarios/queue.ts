/**
 * Python's queue module in Node: the three orders, then Ken handing Jack a
 * rose across two worker threads, with `join()` telling Ken when Jack is done
 * (`taskDone()`). The lines the workers say travel through a queue too, so
 * they print in the order things happened.
 */
import { Worker } from 'node:worker_threads';
import { LifoQueue, PriorityQueue, Queue } from '@conc/queue';
import { share } from '@conc/serialize';

export const title = "Python's queue module across worker threads";

async function drain<T>(q: { getMany(max: number): Promise<T[]> }, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) out.push(...(await q.getMany(n - out.length)));
  return out;
}

export async function run(out: (line: string) => void): Promise<void> {
  const fifo = new Queue<number>();
  await fifo.putMany([1, 2, 3]);
  out(`Queue (first in, first out): ${(await drain(fifo, 3)).join(' ')}`);

  const lifo = new LifoQueue<number>();
  await lifo.putMany([1, 2, 3]);
  out(`LifoQueue (last in, first out): ${(await drain(lifo, 3)).join(' ')}`);

  const priority = new PriorityQueue<[number, string]>();
  await priority.putMany([
    [10, 'A'],
    [50, 'B'],
    [30, 'C'],
  ]);
  const byPriority = await drain(priority, 3);
  out(
    `PriorityQueue (lowest first): ${byPriority.map(([p, d]) => `[${p},'${d}']`).join(' ')} -> ${byPriority.map(([, d]) => d).join(' ')}`,
  );

  out('Ken and Jack, two worker threads sharing one Queue:');
  const roses = new Queue<{ flower: string; from: string }>();
  const said = new Queue<string>();
  const data = { roses: share(roses), said: share(said) };
  const workers = ['jack', 'ken'].map(
    (who) => new Worker(new URL(`./workers/queue-${who}.js`, import.meta.url), { workerData: data }),
  );
  const exited = workers.map(
    (w) =>
      new Promise<void>((resolve, reject) => {
        w.once('error', reject);
        w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
      }),
  );
  for (let i = 0; i < 3; i++) out(`  ${await said.get({ timeout: 20_000 })}`);
  await Promise.all(exited);
}
