/**
 * Faults of the Redis queue (RELIABILITY 36-40) with real processes and a
 * real redis-server: consumers SIGKILLed holding items, a blocking
 * connection killed by the server, a server restart, poison items.
 */
import { randomUUID } from 'node:crypto';
import { redisConnection } from '@conc/lock/redis';
import {
  closeRedis,
  connectRedis,
  fixture,
  type RedisServer,
  sleep,
  spawnChild,
  startRedis,
  type TrackedChild,
  within,
} from '@conc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../src/redis/index.js';

let redis: RedisServer;
let client: object;

beforeAll(async () => {
  redis = await startRedis();
  client = await connectRedis('ioredis', redis.url);
});

afterAll(async () => {
  await closeRedis(client);
  await redis?.stop();
});

function consumer(name: string, mode: 'hold' | 'work', extra: Record<string, unknown> = {}): TrackedChild {
  return spawnChild(fixture(import.meta.url, 'redis-consumer.mjs'), [
    'ioredis',
    redis.url,
    JSON.stringify({ name, mode, visibilityTimeout: 500, maxDeliveries: 5, ...extra }),
  ]);
}

describe('Redis queue faults', () => {
  it('36: a consumer SIGKILLed between get and taskDone: the item comes again, counted, and join ends', async () => {
    const name = `kill-${randomUUID()}`;
    const q = new Queue<{ job: number }>({ client, name, visibilityTimeout: 500 });
    try {
      await q.put({ job: 7 });
      const doomed = consumer(name, 'hold');
      expect(await doomed.nextMessage()).toEqual({ ready: true });
      const held = await doomed.nextMessage<{ id: string; deliveries: number; item: unknown }>();
      expect(held).toMatchObject({ deliveries: 1, item: { job: 7 } });
      expect(await q.qsize()).toBe(0);
      await doomed.kill('SIGKILL');
      // Not before the lease runs out, and then to this consumer, as the second delivery.
      const again = await q.receive({ timeout: 10_000 });
      expect(again).toMatchObject({ id: held.id, deliveries: 2, item: { job: 7 } });
      await again.taskDone();
      expect(await within(q.join(), 10_000, 'join after redelivery')).toBe(true);
    } finally {
      await q.destroy();
    }
  });

  it('36: a consumer alive past its lease keeps its item (the lease is renewed)', async () => {
    const name = `renew-${randomUUID()}`;
    const q = new Queue({ client, name, visibilityTimeout: 300 });
    const other = new Queue({ client, name, visibilityTimeout: 300 });
    try {
      await q.put('mine');
      const d = await q.receive();
      await expect(other.get({ timeout: 1200 })).rejects.toMatchObject({ code: 'ERR_CONC_QUEUE_EMPTY' });
      await d.taskDone();
      expect(await q.join({ timeout: 0 })).toBe(true);
    } finally {
      await other.close();
      await q.destroy();
    }
  });

  it('37: CLIENT KILL of the blocking connection of a waiting get: it resumes and gets the next item', async () => {
    const name = `cut-${randomUUID()}`;
    const q = new Queue<string>({ client, name });
    const admin = redisConnection('admin', client);
    try {
      const waiting = q.get({ timeout: 20_000 });
      let killed = 0;
      await within(
        (async () => {
          while (killed === 0) {
            await sleep(20);
            const list = Buffer.from((await admin.send('CLIENT', ['LIST'])) as Uint8Array).toString();
            for (const line of list.split('\n')) {
              if (!line.includes('cmd=blpop')) continue;
              const id = /id=(\d+)/.exec(line)?.[1];
              if (id) killed += Number(await admin.send('CLIENT', ['KILL', 'ID', id]));
            }
          }
        })(),
        10_000,
        'kill the blocked connection',
      );
      await q.put('after the cut');
      expect(await within(waiting, 15_000, 'get after the cut')).toBe('after the cut');
      expect(await q.qsize()).toBe(0);
    } finally {
      await q.destroy();
    }
  });

  it('38: Redis restarted under a blocked get: the get resumes by itself and takes the next item', async () => {
    const name = `restart-${randomUUID()}`;
    const q = new Queue<number>({ client, name });
    try {
      await q.put(1);
      expect(await q.get()).toBe(1);
      await q.taskDone();
      const waiting = q.get({ timeout: 30_000 });
      await sleep(100);
      await redis.restart({ downMs: 300 });
      // A get blocked across the restart resumes by itself: the next item reaches it.
      await within(
        (async () => {
          for (;;) {
            try {
              await q.put(2);
              return;
            } catch {
              await sleep(100);
            }
          }
        })(),
        10_000,
        'put after restart',
      );
      expect(await within(waiting, 15_000, 'get across the restart')).toBe(2);
    } finally {
      await q.destroy().catch(() => {});
    }
  });

  it('40: a poison item goes to the dead letters after maxDeliveries; join ends; it can be requeued', async () => {
    const name = `poison-${randomUUID()}`;
    const q = new Queue<string>({ client, name, visibilityTimeout: 300, maxDeliveries: 2 });
    try {
      await q.put('poison');
      for (let delivery = 1; delivery <= 2; delivery++) {
        const doomed = consumer(name, 'hold', { visibilityTimeout: 300, maxDeliveries: 2 });
        expect(await doomed.nextMessage()).toEqual({ ready: true });
        expect(await doomed.nextMessage(15_000)).toMatchObject({ item: 'poison', deliveries: delivery });
        await doomed.kill('SIGKILL');
      }
      expect(await within(q.join(), 10_000, 'join after dead-lettering')).toBe(true);
      await expect(q.get({ timeout: 0 })).rejects.toMatchObject({ code: 'ERR_CONC_QUEUE_EMPTY' });
      expect(await q.deadLetters()).toEqual([{ id: expect.any(String), deliveries: 2, item: 'poison' }]);
      expect(await q.requeueDeadLetters()).toBe(1);
      expect(await q.join({ timeout: 0 })).toBe(false);
      const back = await q.receive({ timeout: 5000 });
      expect(back).toMatchObject({ item: 'poison', deliveries: 1 });
      await back.taskDone();
      expect(await q.deadLetters()).toEqual([]);
      expect(await q.join({ timeout: 0 })).toBe(true);
    } finally {
      await q.destroy();
    }
  });

  it('total: 2 producers, 3 consumers, one SIGKILLed mid-way: no item lost, join ends', async () => {
    const name = `total-${randomUUID()}`;
    const q = new Queue({ client, name, visibilityTimeout: 500 });
    const count = 300;
    const children: TrackedChild[] = [];
    try {
      const consumers = [0, 1, 2].map(() => consumer(name, 'work'));
      children.push(...consumers);
      for (const c of consumers) expect(await c.nextMessage()).toEqual({ ready: true });
      const producers = [0, 1].map((p) =>
        spawnChild(fixture(import.meta.url, 'redis-queue-peer.mjs'), [
          'ioredis',
          redis.url,
          JSON.stringify({
            kind: 'fifo',
            name,
            maxsize: 50,
            task: { role: 'produce', producer: p, count, mode: 'async' },
          }),
        ]),
      );
      children.push(...producers);
      for (const p of producers) expect(await p.nextMessage()).toEqual({ ready: true });
      const acked = new Map<string, number>();
      const record = (m: { done?: [number, number] }) => {
        if (m.done) acked.set(`${m.done[1]}:${m.done[0]}`, (acked.get(`${m.done[1]}:${m.done[0]}`) ?? 0) + 1);
      };
      // Kill the first consumer after it acknowledged a few items (it may hold one more).
      const victim = consumers[0]!;
      for (let i = 0; i < 20; i++) record(await victim.nextMessage(20_000));
      await victim.kill('SIGKILL');
      // What it reported before dying counts too (a report sent is an item it processed).
      for (;;) {
        const m = await victim.nextMessage<{ done?: [number, number] }>(1000).catch(() => undefined);
        if (m === undefined) break;
        record(m);
      }
      for (const p of producers) expect(await p.nextMessage(60_000)).toEqual({ produced: count });
      expect(await within(q.join(), 60_000, 'join')).toBe(true);
      await q.shutdown();
      for (const c of consumers.slice(1)) {
        for (;;) {
          const m = await c.nextMessage<{ done?: [number, number]; finished?: number }>(20_000);
          if (m.finished !== undefined) break;
          record(m);
        }
      }
      const missing: string[] = [];
      for (let p = 0; p < 2; p++)
        for (let i = 0; i < count; i++) if (!acked.has(`${p}:${i}`)) missing.push(`${p}:${i}`);
      expect(missing).toEqual([]);
      expect(acked.size).toBe(2 * count);
    } finally {
      await Promise.all(children.map((c) => c.kill()));
      await q.destroy();
    }
  }, 120_000);
});
