// Redis clients for tests and fixtures, by driver name: `ioredis` or `node-redis`.
// Plain .mjs so fixture programs (run by node against dist) can use it too.

/** The drivers the Redis tier supports; every Redis contract runs against each. */
export const REDIS_DRIVERS = ['ioredis', 'node-redis'];

/**
 * A connected client of `driver` for `url`. Failures of the connection are
 * reported by the commands (rejections), never as an unhandled 'error' event.
 */
export async function connectRedis(driver, url) {
  if (driver === 'ioredis') {
    const { Redis } = await import('ioredis');
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    client.on('error', () => {});
    await client.connect();
    return client;
  }
  if (driver === 'node-redis') {
    const { createClient } = await import('redis');
    const client = createClient({ url });
    client.on('error', () => {});
    await client.connect();
    return client;
  }
  throw new Error(`unknown Redis driver ${driver}`);
}

/** Closes a client made by {@link connectRedis}. */
export async function closeRedis(client) {
  if (typeof client.callBuffer === 'function') client.disconnect();
  else if (typeof client.destroy === 'function') client.destroy();
  else await client.quit();
}
