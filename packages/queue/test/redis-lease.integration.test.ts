/**
 * RELIABILITY 38 (queue side), against both drivers on a private
 * redis-server: a vanished item lease is `LeaseLostError` at `taskDone()`
 * (the consumer stalled past it with SIGSTOP, or the lease was deleted), the
 * item counting once; and a server that may evict keys is warned about.
 */
import { randomUUID } from 'node:crypto';
import { redisConnection } from '@conc/lock/redis';
import {
  closeRedis,
  connectRedis,
  eventually,
  fixture,
  REDIS_DRIVERS,
  type RedisServer,
  sleep,
  spawnChild,
  startRedis,
  within,
} from '@conc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../src/redis/index.js';

let redis: RedisServer;
const clients = new Map<string, object>();

beforeAll(async () => {
  redis = await startRedis();
  for (const driver of REDIS_DRIVERS) clients.set(driver, await connectRedis(driver, redis.url));
});

afterAll(async () => {
  for (const client of clients.values()) await closeRedis(client);
  await redis?.stop();
});

describe.each(REDIS_DRIVERS)('Redis queue leases (%s)', (driver) => {
  it('38: a consumer stopped past its lease: its taskDone() is LeaseLostError, the item counts once', async () => {
    const name = `stall-${randomUUID()}`;
    const q = new Queue<{ job: number }>({ client: clients.get(driver)!, name, visibilityTimeout: 400 });
    const stalled = spawnChild(fixture(import.meta.url, 'redis-consumer.mjs'), [
      driver,
      redis.url,
      JSON.stringify({ name, mode: 'stall', visibilityTimeout: 400, maxDeliveries: 0 }),
    ]);
    try {
      await q.put({ job: 1 });
      expect(await stalled.nextMessage()).toEqual({ ready: true });
      const first = await stalled.nextMessage<{ id: string; deliveries: number }>();
      expect(first).toMatchObject({ deliveries: 1, item: { job: 1 } });
      // Stopped: no renewals; the lease runs out and the item comes here, as the second delivery.
      stalled.child.kill('SIGSTOP');
      const again = await q.receive({ timeout: 10_000 });
      expect(again).toMatchObject({ id: first.id, deliveries: 2, item: { job: 1 } });
      await again.taskDone();
      stalled.child.kill('SIGCONT');
      await stalled.send('ack');
      expect(await stalled.nextMessage()).toEqual({ error: 'ERR_CONC_LEASE_LOST', name: 'LeaseLostError' });
      // Acknowledged once: nothing unfinished, join ends, and the stale ack did not count a second time.
      expect(await q.unfinished()).toBe(0);
      expect(await within(q.join(), 10_000, 'join')).toBe(true);
      await expect(q.taskDone()).rejects.toMatchObject({ code: 'ERR_CONC_QUEUE_TASK_DONE' });
    } finally {
      await stalled.kill();
      await q.destroy();
    }
  });

  it('38: an item whose lease was deleted by hand: taskDone() is LeaseLostError', async () => {
    const name = `gone-${randomUUID()}`;
    const client = clients.get(driver)!;
    const q = new Queue<string>({ client, name, visibilityTimeout: 5000 });
    try {
      await q.put('a');
      const d = await q.receive({ timeout: 5000 });
      await redisConnection('test', client).send('ZREM', [`conc:queue:{${name}}:lease`, d.id]);
      await expect(d.taskDone()).rejects.toMatchObject({
        name: 'LeaseLostError',
        code: 'ERR_CONC_LEASE_LOST',
      });
    } finally {
      await q.destroy();
    }
  });
});

describe('Redis queue eviction policy', () => {
  async function warningsFrom(setup: (admin: object) => Promise<void>): Promise<Error[]> {
    const warnings: Error[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === 'ERR_CONC_REDIS_EVICTION') warnings.push(w);
    };
    process.on('warning', onWarning);
    const server = await startRedis();
    try {
      const admin = await connectRedis('ioredis', server.url);
      await setup(admin);
      await closeRedis(admin);
      for (let round = 0; round < 2; round++) {
        for (const driver of REDIS_DRIVERS) {
          const client = await connectRedis(driver, server.url);
          const q = new Queue<number>({ client, name: `ev-${randomUUID()}` });
          await q.put(1);
          const d = await q.receive({ timeout: 5000 });
          await d.taskDone();
          await q.destroy();
          await closeRedis(client);
        }
      }
      await sleep(200);
      return warnings;
    } finally {
      process.off('warning', onWarning);
      await server.stop();
    }
  }

  it('38: a server with maxmemory-policy allkeys-lru is warned about exactly once', async () => {
    const warnings = await warningsFrom(async (admin) => {
      await (admin as { call(...a: string[]): Promise<unknown> }).call(
        'CONFIG',
        'SET',
        'maxmemory-policy',
        'allkeys-lru',
      );
    });
    await eventually(() => expect(warnings).toHaveLength(1));
    expect(warnings[0]!.message).toMatch(/items/);
  });

  it('38: a noeviction server is not warned about', async () => {
    expect(await warningsFrom(async () => {})).toHaveLength(0);
  });
});
