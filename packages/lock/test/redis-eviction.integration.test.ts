/**
 * RELIABILITY 38 (locks side): a Redis server that may evict keys is warned
 * about, once per server, whichever drivers and primitives talk to it; a
 * `noeviction` server is not. A private redis-server per test.
 */
import { randomUUID } from 'node:crypto';
import {
  closeRedis,
  connectRedis,
  eventually,
  REDIS_DRIVERS,
  type RedisServer,
  sleep,
  startRedis,
} from '@conc/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Lock, Semaphore } from '../src/redis/index.js';

const CODE = 'ERR_CONC_REDIS_EVICTION';
let warnings: Array<Error & { code?: string }> = [];
const onWarning = (w: Error & { code?: string }) => {
  if (w.code === CODE) warnings.push(w);
};

beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** Uses a Lock and a Semaphore on a client of each driver; resolves once all is done. */
async function useServer(redis: RedisServer): Promise<void> {
  const clients = await Promise.all(REDIS_DRIVERS.map((d) => connectRedis(d, redis.url)));
  try {
    for (const client of clients) {
      const lock = new Lock({ client, name: `ev-${randomUUID()}` });
      const sem = new Semaphore({ client, name: `ev-${randomUUID()}`, value: 2 });
      expect(await lock.acquire({ timeout: 5000 })).toBe(true);
      await lock.release();
      expect(await sem.acquire({ timeout: 5000 })).toBe(true);
      await sem.release();
      await lock.destroy();
      await sem.destroy();
    }
  } finally {
    for (const client of clients) await closeRedis(client);
  }
}

describe('Redis eviction policy', () => {
  it('38: a server with maxmemory-policy allkeys-lru is warned about exactly once', async () => {
    const redis = await startRedis();
    try {
      const admin = await connectRedis('ioredis', redis.url);
      await (admin as { call(...a: string[]): Promise<unknown> }).call(
        'CONFIG',
        'SET',
        'maxmemory-policy',
        'allkeys-lru',
      );
      await closeRedis(admin);
      await useServer(redis);
      await eventually(() => expect(warnings.length).toBeGreaterThan(0), { timeout: 5000 });
      // Another round on new clients of the same server: still the one warning.
      await useServer(redis);
      await sleep(200);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.name).toBe('ConcWarning');
      expect(warnings[0]!.message).toMatch(/allkeys-lru/);
      expect(warnings[0]!.message).toMatch(/noeviction/);
    } finally {
      await redis.stop();
    }
  });

  it('38: a noeviction server (the default) is not warned about', async () => {
    const redis = await startRedis();
    try {
      await useServer(redis);
      await useServer(redis);
      await sleep(200);
      expect(warnings).toHaveLength(0);
    } finally {
      await redis.stop();
    }
  });
});
