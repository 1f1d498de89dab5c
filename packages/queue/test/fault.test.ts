/**
 * Faults (RELIABILITY.md 8, 9, 13): workers terminated inside a put, inside a
 * get, mid-copy of an item, and while parked. Crash points come from the
 * test-only hook `CONC_QUEUE_CRASH_AT`: the worker reports where it stopped,
 * then parks there until the test terminates it.
 */
import { share } from '@conc/serialize';
import { fixture, startWorker, type TrackedWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { Queue } from '../src/index.js';

const peer = fixture(import.meta.url, 'queue-peer.mjs');

type Task =
  | { role: 'putOne'; mode: 'sync' | 'async'; item: unknown }
  | { role: 'getOne'; mode: 'sync' | 'async'; timeout?: number }
  | { role: 'produce'; mode: 'sync' | 'async'; producer: number; count: number; report?: number }
  | { role: 'consume'; mode: 'sync' | 'async'; taskDone?: boolean; report?: number };

async function startPeer<T>(
  q: Queue<T>,
  task: Task,
  crashAt?: string,
  env: NodeJS.ProcessEnv = crashAt ? { ...process.env, CONC_QUEUE_CRASH_AT: crashAt } : process.env,
): Promise<TrackedWorker> {
  const w = startWorker(peer, { workerData: { token: share(q), task }, env });
  expect(await w.nextMessage()).toEqual({ ready: true });
  return w;
}

/** Starts a peer that stops at `point`, waits until it is there, and terminates it. */
async function killAt<T>(q: Queue<T>, task: Task, point: string): Promise<void> {
  const w = await startPeer(q, task, point);
  expect(await w.nextMessage()).toEqual({ crashPoint: point });
  await within(w.terminate(), 10_000, 'terminate a worker stopped at a crash point');
}

/** After a fault the queue still works: a stream of items goes through in order. */
async function stillWorks(q: Queue<unknown>): Promise<void> {
  const items = Array.from({ length: 500 }, (_, i) => ({ after: i }));
  await q.putMany(items);
  expect(await q.getMany(1000)).toEqual(items);
}

describe('a producer terminated mid-put', () => {
  it('inside the critical section: its half-made item never shows; the next thread takes the lock over', async () => {
    const q = new Queue<unknown>();
    await q.putMany(['a', 'b', 'c']);
    expect(await q.get()).toBe('a'); // a released block for the dying put to free first
    const waiting = await startPeer(q, { role: 'getOne', mode: 'sync', timeout: 20_000 });
    try {
      expect(await waiting.nextMessage()).toEqual({ item: 'b' });
    } finally {
      await waiting.terminate();
    }
    await killAt(q, { role: 'putOne', mode: 'sync', item: 'half' }, 'put.section');
    // The dead worker still holds the internal lock: this put waits for the takeover, then goes in.
    await within(q.put('d'), 10_000, 'put after the holder died');
    expect(await q.getMany(10)).toEqual(['c', 'd']);
    expect(q.qsize()).toBe(0);
    await stillWorks(q);
  });

  it('mid-copy of a large item: the item never shows and nobody waits', async () => {
    const q = new Queue<unknown>();
    await q.put('before');
    const consumer = await startPeer(q, { role: 'consume', mode: 'sync', taskDone: true });
    try {
      const big = new Uint8Array(1 << 20).fill(7);
      await killAt(q, { role: 'putOne', mode: 'sync', item: big }, 'put.copy');
      await q.put('after');
      await within(q.join(), 10_000, 'join');
      q.shutdown();
      expect(await consumer.nextMessage()).toEqual({ items: ['before', 'after'] });
    } finally {
      await consumer.terminate();
    }
    expect(q.qsize()).toBe(0);
  });
});

describe('liveness by identity, never by time (RELIABILITY 46)', () => {
  it('a holder stalled 2 s inside the critical section is waited for, not taken over: nothing lost or duplicated', async () => {
    const q = new Queue<string>();
    // The worker stops, alive, inside its put's section, with its block allocated and not yet
    // filled; a thread that took the lock over from it would reuse that block for its own item.
    const w = await startPeer(q, { role: 'putOne', mode: 'sync', item: 'stalled-item' }, undefined, {
      ...process.env,
      CONC_QUEUE_STALL_AT: 'put.fill',
      CONC_QUEUE_STALL_MS: '2000',
    });
    try {
      expect(await w.nextMessage()).toEqual({ stalled: 'put.fill' });
      // Blocks this thread until the stalled holder finishes its section, however long that takes.
      q.putSync('main-item-12', { timeout: 20_000 });
      expect(await w.nextMessage()).toEqual({ done: true });
    } finally {
      await w.terminate();
    }
    expect(q.getManySync(10, { block: false })).toEqual(['stalled-item', 'main-item-12']);
    await stillWorks(q as Queue<unknown>);
  });

  it('a worker of the blocked thread dies holding the lock: the thread sees it stop and takes over, without its exit event', async () => {
    const q = new Queue<unknown>();
    await q.putMany(['x', 'y']);
    const w = await startPeer(q, { role: 'getOne', mode: 'sync' }, 'get.section');
    expect(await w.nextMessage()).toEqual({ crashPoint: 'get.section' });
    const terminated = w.terminate(); // not awaited: this thread blocks before its 'exit' event can run
    expect(q.getSync({ timeout: 20_000 })).toBe('x');
    await within(terminated, 10_000, 'terminate');
    expect(await q.get()).toBe('y');
    await stillWorks(q);
  });
});

describe('a consumer terminated mid-get', () => {
  it('inside the critical section: the get is rolled back and the item stays queued', async () => {
    const q = new Queue<unknown>();
    await q.putMany(['x', 'y']);
    await killAt(q, { role: 'getOne', mode: 'sync' }, 'get.section');
    expect(await within(q.getMany(5), 10_000, 'get after the holder died')).toEqual(['x', 'y']);
    await stillWorks(q);
  });

  it('after taking an item, before reading it: that item is lost (at most once), the rest go on', async () => {
    const q = new Queue<unknown>();
    await q.putMany(['x', 'y']);
    await killAt(q, { role: 'getOne', mode: 'async' }, 'get.copy');
    expect(await q.getMany(5, { timeout: 10_000 })).toEqual(['y']);
    await stillWorks(q);
  });
});

describe('workers terminated while parked', () => {
  it('terminate() returns for parked getters and putters; the queue and its other users go on', async () => {
    const q = new Queue<string>({ maxsize: 1 });
    const empty = new Queue<string>();
    const parked = [
      await startPeer(empty, { role: 'getOne', mode: 'sync' }),
      await startPeer(empty, { role: 'getOne', mode: 'async' }),
    ];
    await q.put('full');
    parked.push(await startPeer(q, { role: 'putOne', mode: 'sync', item: 'blocked' }));
    parked.push(await startPeer(q, { role: 'putOne', mode: 'async', item: 'blocked' }));
    await new Promise((r) => setTimeout(r, 100)); // let them park
    await within(Promise.all(parked.map((w) => w.terminate())), 10_000, 'terminate parked workers');
    expect(await q.get()).toBe('full');
    expect(q.qsize()).toBe(0);
    const getter = await startPeer(empty, { role: 'getOne', mode: 'sync' });
    try {
      await empty.put('for the live one');
      expect(await getter.nextMessage()).toEqual({ item: 'for the live one' });
    } finally {
      await getter.terminate();
    }
  });
});

describe('random kills', () => {
  const count = 3000;
  /** More than the victim can put before it is killed: it is always stopped part way. */
  const endless = 10_000_000;
  const randomPause = () => new Promise((r) => setTimeout(r, Math.random() * 20));

  /** Three consumers (one async) drain until shutdown; returns what each live one got, checked for range and repeats. */
  async function drain(q: Queue<[number, number]>, consumers: TrackedWorker[], counts: number[]) {
    q.shutdown();
    const got: Array<[number, number]> = [];
    for (const c of consumers)
      got.push(...(await c.nextMessage<{ items: Array<[number, number]> }>(60_000)).items);
    const seen = new Set<string>();
    const byProducer = new Map<number, number[]>();
    for (const [i, p] of got) {
      expect(Number.isInteger(i) && [0, 1, 2].includes(p) && i >= 0 && i < counts[p]!).toBe(true);
      const key = `${p}:${i}`;
      expect(seen.has(key), `${key} delivered twice`).toBe(false);
      seen.add(key);
      byProducer.set(p, [...(byProducer.get(p) ?? []), i]);
    }
    return { byProducer, total: got.length };
  }

  it('a producer killed at a random moment: survivors deliver everything, the dead one a gapless prefix', async () => {
    const q = new Queue<[number, number]>({ maxsize: 50 });
    const workers: TrackedWorker[] = [];
    try {
      const consumers: TrackedWorker[] = [];
      for (let c = 0; c < 3; c++)
        consumers.push(await startPeer(q, { role: 'consume', mode: c === 0 ? 'async' : 'sync' }));
      workers.push(...consumers);
      const counts = [count, count, endless];
      const producers: TrackedWorker[] = [];
      for (let p = 0; p < 3; p++) {
        producers.push(
          await startPeer(q, {
            role: 'produce',
            mode: p === 0 ? 'async' : 'sync',
            producer: p,
            count: counts[p]!,
            // The victim says when it has put its 100th item: on a loaded machine it may start late.
            ...(p === 2 ? { report: 100 } : {}),
          }),
        );
      }
      workers.push(...producers);
      // The victim has been putting (at least 100 items); kill it wherever it is once the others are done.
      expect(await producers[2]!.nextMessage(60_000)).toEqual({ progress: 100 });
      for (const p of producers.slice(0, 2)) expect(await p.nextMessage(60_000)).toEqual({ produced: count });
      await randomPause();
      await producers[2]!.terminate();
      const { byProducer } = await drain(q, consumers, counts);
      for (const p of [0, 1]) expect(byProducer.get(p)?.length).toBe(count);
      const dead = [...(byProducer.get(2) ?? [])].sort((a, b) => a - b);
      expect(dead.length, 'items the victim put before it was killed').toBeGreaterThanOrEqual(100);
      expect(dead.length, 'the victim was killed part way').toBeLessThan(endless);
      expect(dead).toEqual(dead.map((_, i) => i));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('a consumer killed at a random moment: no item is corrupt or seen twice, the others go on', async () => {
    const q = new Queue<[number, number]>({ maxsize: 50 });
    const workers: TrackedWorker[] = [];
    const taken = 200;
    try {
      const consumers: TrackedWorker[] = [];
      for (let c = 0; c < 3; c++) {
        const victim = c === 2;
        consumers.push(
          await startPeer(q, {
            role: 'consume',
            mode: c === 0 ? 'async' : 'sync',
            ...(victim ? { report: taken } : {}),
          }),
        );
      }
      workers.push(...consumers);
      const producers: TrackedWorker[] = [];
      for (let p = 0; p < 3; p++) {
        producers.push(
          await startPeer(q, { role: 'produce', mode: p === 0 ? 'async' : 'sync', producer: p, count }),
        );
      }
      workers.push(...producers);
      // Kill the victim once it has taken `taken` items, wherever it is a moment later.
      expect(await consumers[2]!.nextMessage(60_000)).toEqual({ progress: taken });
      await randomPause();
      await consumers[2]!.terminate();
      // The others go on: every producer finishes, through a queue of 50, drained by the two left.
      for (const p of producers) expect(await p.nextMessage(60_000)).toEqual({ produced: count });
      const { total } = await drain(q, consumers.slice(0, 2), [count, count, count]);
      // What the victim took is lost (at most once), at least the items it reported; nothing else.
      expect(total).toBeLessThanOrEqual(3 * count - taken);
      expect(total).toBeGreaterThan(0);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
