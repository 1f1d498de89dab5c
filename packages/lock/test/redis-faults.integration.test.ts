/**
 * Faults of the Redis locks (RELIABILITY 39) with real processes and a real
 * redis-server: a holder stopped (SIGSTOP) past its lease.
 */
import { randomUUID } from 'node:crypto';
import {
  closeRedis,
  connectRedis,
  eventually,
  fixture,
  REDIS_DRIVERS,
  type RedisServer,
  spawnChild,
  startRedis,
  within,
} from '@conc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lock, redisConnection } from '../src/redis/index.js';

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

describe.each(REDIS_DRIVERS)('Redis lock faults (%s)', (driver) => {
  it('39: a holder stopped past its lease: the next holder gets a larger fencing token, the stale release is refused', async () => {
    const name = `stop-${randomUUID()}`;
    const lock = new Lock({ client: clients.get(driver)!, name, lease: 400 });
    const holder = spawnChild(fixture(import.meta.url, 'redis-holder.mjs'), [driver, redis.url, name, '400']);
    try {
      const held = await holder.nextMessage<{ held: boolean; fencingToken: number }>();
      expect(held.held).toBe(true);
      expect(await lock.acquire({ blocking: false })).toBe(false);
      holder.child.kill('SIGSTOP');
      const told: unknown[] = [];
      expect(
        await within(lock.acquire({ timeout: 10_000, onOwnerDied: (i) => told.push(i) }), 15_000, 'acquire'),
      ).toBe(true);
      expect(told).toHaveLength(1);
      expect(lock.fencingToken).toBeGreaterThan(held.fencingToken);
      holder.child.kill('SIGCONT');
      // The stalled holder wakes up believing it holds the lock: its release must not free ours.
      await holder.send('release');
      expect(await holder.nextMessage()).toEqual({ error: 'ERR_CONC_LOCK_NOT_OWNED' });
      expect(await lock.locked()).toBe(true);
      await lock.release();
      expect(await lock.locked()).toBe(false);
    } finally {
      await holder.kill();
      await lock.destroy();
    }
  });

  it('39: a holder whose lease key was deleted by hand: release() throws LockNotOwnedError and frees nothing', async () => {
    const name = `deleted-${randomUUID()}`;
    const client = clients.get(driver)!;
    const lock = new Lock({ client, name, lease: 5000 });
    const next = new Lock({ client, name, lease: 5000 });
    try {
      expect(await lock.acquire({ timeout: 5000 })).toBe(true);
      await redisConnection('test', client).send('DEL', [`conc:lock:{${name}}:lease`]);
      // The lock is free now: another instance takes it, told the owner died.
      expect(await next.acquire({ timeout: 5000, onOwnerDied: () => {} })).toBe(true);
      await expect(lock.release()).rejects.toMatchObject({
        name: 'LockNotOwnedError',
        code: 'ERR_CONC_LOCK_NOT_OWNED',
      });
      expect(await lock.locked()).toBe(true);
      await next.release();
      // Deleted with nobody taking it after: the release is refused too.
      expect(await lock.acquire({ timeout: 5000, onOwnerDied: () => {} })).toBe(true);
      await redisConnection('test', client).send('DEL', [`conc:lock:{${name}}:lease`]);
      await expect(lock.release()).rejects.toMatchObject({ code: 'ERR_CONC_LOCK_NOT_OWNED' });
    } finally {
      await next.destroy();
      await lock.destroy();
    }
  });

  it('a waiter is not starved by another process releasing and re-acquiring in a tight loop', async () => {
    const name = `loop-${randomUUID()}`;
    const lock = new Lock({ client: clients.get(driver)!, name, lease: 2000 });
    const looper = spawnChild(fixture(import.meta.url, 'redis-looper.mjs'), [driver, redis.url, name]);
    try {
      expect(await looper.nextMessage()).toEqual({ looping: true });
      // Not first-come, first-served, but the waiter gets its turn (the bound only proves "no starvation").
      for (let i = 0; i < 5; i++) {
        expect(await lock.acquire({ timeout: 15_000 })).toBe(true);
        await lock.release();
        // Let the looper take it back before the next try, so each try waits on a busy lock.
        await eventually(async () => expect(await lock.locked()).toBe(true));
      }
      await looper.send('stop');
      const done = await looper.nextMessage<{ rounds: number }>();
      expect(done.rounds).toBeGreaterThan(0);
    } finally {
      await looper.kill();
      await lock.destroy();
    }
  }, 30_000);

  it('a SIGKILLed holder: its lease ends and the next acquirer gets the lock and is told', async () => {
    const name = `idle-${randomUUID()}`;
    const lock = new Lock({ client: clients.get(driver)!, name, lease: 300 });
    const holder = spawnChild(fixture(import.meta.url, 'redis-holder.mjs'), [driver, redis.url, name, '300']);
    try {
      await holder.nextMessage();
      await holder.kill('SIGKILL');
      expect(await lock.acquire({ timeout: 10_000, onOwnerDied: () => {} })).toBe(true);
      await lock.release();
    } finally {
      await lock.destroy();
    }
  });
});
