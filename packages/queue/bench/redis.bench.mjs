// @conc/queue/redis against raw ioredis on the same private redis-server, in the same run.
// Rows: queue.redis.xfer (SimpleQueue put+get one at a time vs LPUSH+BRPOP),
// queue.redis.xfer.reliable (Queue put+get+taskDone), queue.redis.batch (putMany/getMany).
import { randomUUID } from 'node:crypto';
import { Queue, SimpleQueue } from '@conc/queue/redis';
import { Redis } from 'ioredis';
import { startBenchRedis } from '../../../scripts/bench-redis.mjs';

const item = { id: 1, name: 'rose', ts: 1.5 };

export default async function (h) {
  const server = await startBenchRedis();
  if (!server) {
    h.log('redis-server not found: Redis rows skipped');
    return;
  }
  const client = new Redis(server.url);
  const raw = new Redis(server.url);
  const rawBlocking = new Redis(server.url);
  try {
    const n = h.quick ? 2000 : 10_000;
    const simple = new SimpleQueue({ client, name: `bench-${randomUUID()}` });
    const rawKey = `bench-raw-${randomUUID()}`;
    const body = Buffer.from(JSON.stringify(item));
    await h.compare({
      id: 'queue.redis.xfer',
      unit: 'ops/s',
      note: 'SimpleQueue: one awaited put + get at a time, small item, loopback',
      ours: () =>
        h.opsPerSec(n, async () => {
          for (let i = 0; i < n; i++) {
            await simple.put(item);
            await simple.get();
          }
        }),
      baseline: {
        id: 'ioredis.LPUSH+BRPOP.one-at-a-time',
        run: () =>
          h.opsPerSec(n, async () => {
            for (let i = 0; i < n; i++) {
              await raw.lpush(rawKey, body);
              await rawBlocking.brpopBuffer(rawKey, 1);
            }
          }),
      },
    });

    const reliable = new Queue({ client, name: `bench-${randomUUID()}` });
    await h.compare({
      id: 'queue.redis.xfer.reliable',
      unit: 'ops/s',
      note: 'Queue (leased, acknowledged): one awaited put + get + taskDone at a time',
      ours: () =>
        h.opsPerSec(n, async () => {
          for (let i = 0; i < n; i++) {
            await reliable.put(item);
            await reliable.get();
            await reliable.taskDone();
          }
        }),
      baseline: {
        id: 'ioredis.LPUSH+BRPOP.one-at-a-time',
        run: () =>
          h.opsPerSec(n, async () => {
            for (let i = 0; i < n; i++) {
              await raw.lpush(rawKey, body);
              await rawBlocking.brpopBuffer(rawKey, 1);
            }
          }),
      },
    });

    const batch = 100;
    const nb = h.quick ? 20_000 : 100_000;
    await h.compare({
      id: 'queue.redis.batch',
      unit: 'items/s',
      note: `SimpleQueue putMany/getMany of ${batch}; target >= 70k items/s`,
      ours: () =>
        h.opsPerSec(nb, async () => {
          const items = Array.from({ length: batch }, () => item);
          for (let i = 0; i < nb; i += batch) {
            await simple.putMany(items);
            let got = 0;
            while (got < batch) got += (await simple.getMany(batch)).length;
          }
        }),
      baseline: {
        id: 'BENCHMARKS.redis.batched.target',
        run: async () => 70_000,
      },
    });
    await h.compare({
      id: 'queue.redis.batch.reliable',
      unit: 'items/s',
      note: `Queue putMany/getMany of ${batch}, every item acknowledged (taskDone calls pipelined)`,
      ours: () =>
        h.opsPerSec(nb, async () => {
          const items = Array.from({ length: batch }, () => item);
          for (let i = 0; i < nb; i += batch) {
            await reliable.putMany(items);
            let got = 0;
            while (got < batch) {
              const taken = await reliable.getMany(batch);
              got += taken.length;
              await Promise.all(taken.map(() => reliable.taskDone()));
            }
          }
        }),
      baseline: { id: 'BENCHMARKS.redis.batched.target', run: async () => 70_000 },
    });
    await simple.destroy();
    await reliable.destroy();
  } finally {
    client.disconnect();
    raw.disconnect();
    rawBlocking.disconnect();
    await server.stop();
  }
}
