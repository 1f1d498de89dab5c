/**
 * The lock contract on Redis, against both drivers (ioredis, node-redis), on
 * a private redis-server; peers are real child processes with clients of
 * their own. Leases are short (1 s) so a killed holder's lock passes on fast.
 */
import { randomUUID } from 'node:crypto';
import {
  closeRedis,
  connectRedis,
  fixture,
  lockContract,
  REDIS_DRIVERS,
  type RedisServer,
  spawnChild,
  startRedis,
} from '@conc/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  redisConnection,
  Semaphore,
} from '../src/redis/index.js';

const LEASE = 1000;
let redis: RedisServer;
const clients = new Map<string, object>();
/** How a peer opens each primitive: its kind and name (and what else its constructor took). */
const descriptors = new WeakMap<object, Record<string, unknown>>();

beforeAll(async () => {
  redis = await startRedis();
  for (const driver of REDIS_DRIVERS) clients.set(driver, await connectRedis(driver, redis.url));
});

afterAll(async () => {
  for (const client of clients.values()) await closeRedis(client);
  await redis?.stop();
});

function described<T extends object>(x: T, d: Record<string, unknown>): T {
  descriptors.set(x, d);
  return x;
}

for (const driver of REDIS_DRIVERS) {
  const client = () => clients.get(driver)!;
  const base = (kind: string) => ({ kind, name: `${kind}-${randomUUID()}`, lease: LEASE });
  lockContract(`redis (${driver})`, {
    // Not FIFO-fair: a process that releases and acquires again at once tends to win (see
    // README), and every hand-over costs Redis round trips, so fewer peers and increments than
    // the thread tier keep each peer within the contract's 10 s bound on a loaded machine.
    peers: 3,
    increments: 30,
    modelRuns: 20,
    createLock() {
      const d = base('Lock');
      return described(new Lock({ client: client(), ...d }), d);
    },
    createRLock() {
      const d = base('RLock');
      return described(new RLock({ client: client(), ...d }), d);
    },
    createSemaphore(value) {
      const d = { ...base('Semaphore'), value };
      return described(new Semaphore({ client: client(), ...d }), d);
    },
    createBoundedSemaphore(value) {
      const d = { ...base('BoundedSemaphore'), value };
      return described(new BoundedSemaphore({ client: client(), ...d }), d);
    },
    createCondition(lock) {
      const l = (lock as Lock | RLock | undefined) ?? this.createRLock();
      const d = { kind: 'Condition', name: `Condition-${randomUUID()}`, lock: descriptors.get(l as object) };
      return described(new Condition({ client: client(), name: d.name, lock: l as Lock }), d);
    },
    createEvent() {
      const d = base('Event');
      return described(new Event({ client: client(), name: d.name }), d);
    },
    createBarrier(parties, options) {
      const d = { ...base('Barrier'), parties, timeout: options?.timeout };
      return described(new Barrier({ client: client(), ...d, action: options?.action }), d);
    },
    createCounter() {
      const name = `counter-${randomUUID()}`;
      const c = redisConnection('counter', client());
      return described(
        {
          read: async () => Number((await c.send('GET', [name])) ?? 0),
          write: async (v: number) => {
            await c.send('SET', [name, v]);
          },
        },
        { kind: 'Counter', name },
      );
    },
    async destroy(x) {
      const d = x as { destroy?: () => Promise<void> };
      await d.destroy?.();
    },
    async startPeer(task, shared) {
      const data: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(shared)) data[name] = descriptors.get(value as object);
      const child = spawnChild(fixture(import.meta.url, 'redis-peer.mjs'), [
        driver,
        redis.url,
        JSON.stringify({ task, shared: data }),
      ]);
      expect(await child.nextMessage(10_000)).toEqual({ ready: true });
      return {
        next: (ms) => child.nextMessage(ms),
        kill: async () => {
          await child.kill('SIGKILL');
        },
        stop: async () => {
          await child.kill('SIGKILL');
        },
      };
    },
  });
}
