/**
 * How a process knows the authkey of a manager whose proxies it attaches.
 *
 * Python hands `current_process().authkey` down to every child it starts.
 * Here a process learns a key in one of three ways, never from a token:
 * - it started or connected to the manager itself (`Manager.start`,
 *   `Manager.connect`): the key is remembered for that server;
 * - `Manager.setDefaultAuthkey(key)` (for example with a key received over
 *   an IPC channel from the parent);
 * - the environment variable `CONC_MANAGER_AUTHKEY` (base64 or hex), read
 *   once when `@conc/manager` is first imported and then deleted from
 *   `process.env`, so this process's own children and error reports do not
 *   inherit it by accident.
 */

/** The environment variable a child reads its default authkey from. */
export const AUTHKEY_ENV = 'CONC_MANAGER_AUTHKEY';

const KEYS = Symbol.for('conc.manager.authkeys');

interface Keyring {
  byServer: Map<string, Uint8Array>;
  fallback: Uint8Array | undefined;
}

function decodeEnv(value: string): Uint8Array {
  if (/^[0-9a-f]+$/i.test(value) && value.length % 2 === 0) return Buffer.from(value, 'hex');
  return Buffer.from(value, 'base64');
}

function keyring(): Keyring {
  const g = globalThis as unknown as Record<symbol, Keyring | undefined>;
  let ring = g[KEYS];
  if (!ring) {
    const env = process.env[AUTHKEY_ENV];
    delete process.env[AUTHKEY_ENV];
    ring = { byServer: new Map(), fallback: env ? decodeEnv(env) : undefined };
    g[KEYS] = ring;
  }
  return ring;
}

// Read (and scrub) the variable at import, before anything can spawn a child with it.
keyring();

/** The key as bytes (a string is taken as UTF-8, as Python's authkey bytes would be written). */
export function keyBytes(key: Uint8Array | string, what: string): Uint8Array {
  if (typeof key === 'string') {
    if (key.length === 0) throw new TypeError(`${what}: the authkey is empty`);
    return Buffer.from(key, 'utf8');
  }
  if (!(key instanceof Uint8Array) || key.length === 0)
    throw new TypeError(`${what}: authkey must be a non-empty string or Uint8Array`);
  return key;
}

export function rememberAuthkey(serverId: string, key: Uint8Array): void {
  keyring().byServer.set(serverId, key);
}

export function setDefaultAuthkey(key: Uint8Array | string): void {
  keyring().fallback = keyBytes(key, 'Manager.setDefaultAuthkey');
}

export function authkeyFor(serverId: string): Uint8Array | undefined {
  const ring = keyring();
  return ring.byServer.get(serverId) ?? ring.fallback;
}
