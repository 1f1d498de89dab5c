// @conc/lock/redis against a raw ioredis lock (SET NX PX + Lua compare-and-delete) on the
// same private redis-server, in the same run. Row: lock.redis.uncontended.
import { randomUUID } from 'node:crypto';
import { Lock } from '@conc/lock/redis';
import { Redis } from 'ioredis';
import { startBenchRedis } from '../../../scripts/bench-redis.mjs';

const RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export default async function (h) {
  const server = await startBenchRedis();
  if (!server) {
    h.log('redis-server not found: Redis rows skipped');
    return;
  }
  const client = new Redis(server.url);
  const raw = new Redis(server.url);
  try {
    const n = h.quick ? 2000 : 10_000;
    const lock = new Lock({ client, name: `bench-${randomUUID()}`, lease: 10_000 });
    const key = `bench-raw-${randomUUID()}`;
    const sha = await raw.script('LOAD', RELEASE);
    await h.compare({
      id: 'lock.redis.uncontended',
      unit: 'ops/s',
      note: 'acquire + release, one at a time, loopback (ours also takes a fencing token)',
      ours: () =>
        h.opsPerSec(n, async () => {
          for (let i = 0; i < n; i++) {
            await lock.acquire();
            await lock.release();
          }
        }),
      baseline: {
        id: 'ioredis.SET-NX-PX+EVALSHA-release',
        run: () =>
          h.opsPerSec(n, async () => {
            const token = randomUUID();
            for (let i = 0; i < n; i++) {
              await raw.set(key, token, 'PX', 10_000, 'NX');
              await raw.evalsha(sha, 1, key, token);
            }
          }),
      },
    });
    await lock.destroy();
  } finally {
    client.disconnect();
    raw.disconnect();
  }
  await server.stop();
}
