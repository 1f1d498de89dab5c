/**
 * The queue contract on Redis, against both drivers (ioredis, node-redis),
 * on a private redis-server; peers are real child processes with clients of
 * their own.
 */
import { randomUUID } from 'node:crypto';
import {
  closeRedis,
  connectRedis,
  fixture,
  queueContract,
  REDIS_DRIVERS,
  type RedisServer,
  spawnChild,
  startRedis,
} from '@conc/testkit';
import { afterAll, beforeAll } from 'vitest';
import { LifoQueue, PriorityQueue, Queue, SimpleQueue } from '../src/redis/index.js';

type AnyQueue = Queue | LifoQueue | PriorityQueue | SimpleQueue;

let redis: RedisServer;
const clients = new Map<string, object>();
const kinds = new WeakMap<object, { kind: string; name: string; maxsize: number }>();

beforeAll(async () => {
  redis = await startRedis();
  for (const driver of REDIS_DRIVERS) clients.set(driver, await connectRedis(driver, redis.url));
});

afterAll(async () => {
  for (const client of clients.values()) await closeRedis(client);
  await redis?.stop();
});

for (const driver of REDIS_DRIVERS) {
  queueContract<AnyQueue>(`redis (${driver})`, {
    kinds: ['fifo', 'lifo', 'priority', 'simple'],
    itemsPerProducer: 300,
    modelRuns: 30,
    create(kind, { maxsize = 0 }) {
      const client = clients.get(driver)!;
      const name = `contract-${randomUUID()}`;
      const options = { client, name, maxsize, visibilityTimeout: 5000 };
      const q =
        kind === 'fifo'
          ? new Queue(options)
          : kind === 'lifo'
            ? new LifoQueue(options)
            : kind === 'priority'
              ? new PriorityQueue(options)
              : new SimpleQueue({ client, name });
      kinds.set(q, { kind, name, maxsize });
      return q;
    },
    async destroy(q) {
      await q.destroy();
    },
    async startPeer(q, task) {
      const info = kinds.get(q)!;
      const child = spawnChild(fixture(import.meta.url, 'redis-queue-peer.mjs'), [
        driver,
        redis.url,
        JSON.stringify({ ...info, task }),
      ]);
      await child.nextMessage(10_000);
      return {
        next: (ms = 10_000) => child.nextMessage(ms),
        stop: async () => {
          await child.kill();
        },
      };
    },
  });
}
