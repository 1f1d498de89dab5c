/**
 * What client and server agree on: the `share()` kind of a proxy, the token
 * data it carries, and the names of the built-in types.
 *
 * A token names the server (address and a random server id), the object and
 * its type, and a one-time `nonce` under which the server keeps the object
 * alive until the receiving process adopts the reference. It never carries
 * the authkey: the attaching process must already know it (see `authkey.ts`).
 */
import type { Address } from '@conc/pipe';

/** The `share()` kind of every manager proxy. */
export const PROXY_KIND = 'manager.Proxy';

/** The data of a proxy token (short keys: tokens travel inside every message that holds a proxy). */
export interface ProxyTokenData {
  /** The server's address. */
  readonly a: Address;
  /** The server's random id (tells two servers at one address apart). */
  readonly s: string;
  /** Object id on the server. */
  readonly i: number;
  /** Type id (`dict`, `lock`, a registered type...). */
  readonly t: string;
  /** The lent reference this token carries (adopted by whoever attaches it). */
  readonly n: string;
  /** Exposed methods (registered types only; built-in proxies know theirs). */
  readonly x?: readonly string[];
}

/** Checks token data from a peer before it is used. */
export function checkTokenData(data: unknown): ProxyTokenData {
  const d = data as Partial<ProxyTokenData> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    (typeof d.a !== 'string' && (typeof d.a !== 'object' || d.a === null)) ||
    typeof d.s !== 'string' ||
    typeof d.i !== 'number' ||
    !Number.isSafeInteger(d.i) ||
    typeof d.t !== 'string' ||
    typeof d.n !== 'string' ||
    (d.x !== undefined && (!Array.isArray(d.x) || !d.x.every((m) => typeof m === 'string')))
  ) {
    throw new TypeError('not the data of a manager proxy token');
  }
  return d as ProxyTokenData;
}

/** Type ids of the built-in shared objects. */
export const BUILTIN_TYPES = [
  'dict',
  'list',
  'value',
  'array',
  'namespace',
  'queue',
  'joinableQueue',
  'lock',
  'rlock',
  'semaphore',
  'boundedSemaphore',
  'condition',
  'event',
  'barrier',
] as const;

export type BuiltinType = (typeof BUILTIN_TYPES)[number];

/** A type registered with `Manager.register`: where the server imports its class from. */
export interface RegisteredType {
  /** A module specifier or file URL the server process can import. */
  readonly module: string;
  /** The export of that module to construct. @default 'default' */
  readonly exportName?: string;
  /** Methods the proxy may call. @default every public method of the class */
  readonly exposed?: readonly string[];
}

/** Names a proxy may never call, whatever a type exposes. */
export const REFUSED_METHODS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** True for a name a proxy may call: not refused, not private (`_x`), not a symbol. */
export function isCallableName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !name.startsWith('_') && !REFUSED_METHODS.has(name);
}
