/**
 * The server side of `m.dict()`: a Map with Python's dict methods, plus the
 * atomic read-modify-write operations Python's manager lacks. Each method
 * runs whole on the server's one thread, so `add` and `compareAndSet` need
 * no lock.
 */
import { isDeepStrictEqual } from 'node:util';
import { KeyError } from '../../errors.js';
import type { CallContext } from '../waiters.js';

type Key = string | number | bigint | boolean | null;

/** Dict keys are primitives: an object decoded from a message is a new object, so it could never be found again. */
export function checkKey(key: unknown, what: string): Key {
  if (key === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof key)) return key as Key;
  throw new TypeError(
    `${what}: keys must be strings, numbers, bigints, booleans or null (got ${typeof key})`,
  );
}

/** `a + b` for numbers or bigints, with a clear error otherwise. */
export function addNumbers(current: unknown, n: unknown, what: string): number | bigint {
  if (typeof current === 'number' && typeof n === 'number') return current + n;
  if (typeof current === 'bigint' && typeof n === 'bigint') return current + n;
  throw new TypeError(`${what}: can only add a number to a number or a bigint to a bigint`);
}

export class SharedDict {
  static readonly exposed: ReadonlySet<string> = new Set([
    'get',
    'set',
    'has',
    'delete',
    'keys',
    'values',
    'items',
    'size',
    'update',
    'pop',
    'setdefault',
    'clear',
    'toObject',
    'add',
    'compareAndSet',
    'getAndSet',
  ]);
  readonly #map = new Map<Key, unknown>();

  constructor(init?: unknown) {
    if (init !== undefined && init !== null) this.update(undefined, init);
  }

  get(_: CallContext | undefined, key: unknown, fallback?: unknown): unknown {
    const k = checkKey(key, 'dict.get');
    return this.#map.has(k) ? this.#map.get(k) : fallback;
  }

  set(_: CallContext | undefined, key: unknown, value: unknown): void {
    this.#map.set(checkKey(key, 'dict.set'), value);
  }

  has(_: CallContext | undefined, key: unknown): boolean {
    return this.#map.has(checkKey(key, 'dict.has'));
  }

  delete(_: CallContext | undefined, key: unknown): boolean {
    return this.#map.delete(checkKey(key, 'dict.delete'));
  }

  keys(): Key[] {
    return [...this.#map.keys()];
  }

  values(): unknown[] {
    return [...this.#map.values()];
  }

  items(): Array<[Key, unknown]> {
    return [...this.#map.entries()];
  }

  size(): number {
    return this.#map.size;
  }

  /** From `[key, value]` pairs, a Map, or a plain object's own entries. */
  update(_: CallContext | undefined, entries: unknown): void {
    let pairs: Iterable<unknown>;
    if (entries instanceof Map || Array.isArray(entries)) pairs = entries;
    else if (typeof entries === 'object' && entries !== null) pairs = Object.entries(entries);
    else throw new TypeError('dict.update: expected [key, value] pairs, a Map or an object');
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw new TypeError('dict.update: every entry must be a [key, value] pair');
      this.#map.set(checkKey(pair[0], 'dict.update'), pair[1]);
    }
  }

  pop(_: CallContext | undefined, key: unknown, ...fallback: unknown[]): unknown {
    const k = checkKey(key, 'dict.pop');
    if (this.#map.has(k)) {
      const v = this.#map.get(k);
      this.#map.delete(k);
      return v;
    }
    if (fallback.length > 0) return fallback[0];
    throw new KeyError(`dict.pop: no key ${String(k)}`);
  }

  setdefault(_: CallContext | undefined, key: unknown, fallback?: unknown): unknown {
    const k = checkKey(key, 'dict.setdefault');
    if (this.#map.has(k)) return this.#map.get(k);
    this.#map.set(k, fallback);
    return fallback;
  }

  clear(): void {
    this.#map.clear();
  }

  /** What the dict holds, for releasing the proxies in it when it is freed. */
  contents(): Iterable<unknown> {
    return this.#map.values();
  }

  /** A plain object (keys as strings); `__proto__` is kept as data, never as a prototype. */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.#map)
      Object.defineProperty(out, String(k), {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }

  /** Adds `n` to the number at `key` (missing: 0) and returns the new value. */
  add(_: CallContext | undefined, key: unknown, n: unknown): number | bigint {
    const k = checkKey(key, 'dict.add');
    const current = this.#map.has(k) ? this.#map.get(k) : typeof n === 'bigint' ? 0n : 0;
    const next = addNumbers(current, n, 'dict.add');
    this.#map.set(k, next);
    return next;
  }

  /** Sets `key` to `next` only if it holds a value equal to `expected` (missing counts as undefined). */
  compareAndSet(_: CallContext | undefined, key: unknown, expected: unknown, next: unknown): boolean {
    const k = checkKey(key, 'dict.compareAndSet');
    if (!isDeepStrictEqual(this.#map.get(k), expected)) return false;
    this.#map.set(k, next);
    return true;
  }

  /** Sets `key` and returns what it held before. */
  getAndSet(_: CallContext | undefined, key: unknown, value: unknown): unknown {
    const k = checkKey(key, 'dict.getAndSet');
    const old = this.#map.get(k);
    this.#map.set(k, value);
    return old;
  }
}
