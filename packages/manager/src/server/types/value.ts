/**
 * The server sides of `m.value()`, `m.array()` and `m.namespace()`: Python's
 * `Value`, `Array` and `Namespace` proxies, with `add` and `compareAndSet`
 * on a value so a shared counter needs no lock.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CallContext } from '../waiters.js';
import { addNumbers, checkKey } from './dict.js';

export class SharedValue {
  static readonly exposed: ReadonlySet<string> = new Set(['get', 'set', 'add', 'compareAndSet', 'getAndSet']);
  #value: unknown;

  constructor(init?: unknown) {
    this.#value = init;
  }

  get(): unknown {
    return this.#value;
  }

  /** What the value holds, for releasing a proxy in it when it is freed. */
  contents(): Iterable<unknown> {
    return [this.#value];
  }

  set(_: CallContext | undefined, value: unknown): void {
    this.#value = value;
  }

  add(_: CallContext | undefined, n: unknown): number | bigint {
    this.#value = addNumbers(this.#value, n, 'value.add');
    return this.#value as number | bigint;
  }

  compareAndSet(_: CallContext | undefined, expected: unknown, next: unknown): boolean {
    if (!isDeepStrictEqual(this.#value, expected)) return false;
    this.#value = next;
    return true;
  }

  getAndSet(_: CallContext | undefined, value: unknown): unknown {
    const old = this.#value;
    this.#value = value;
    return old;
  }
}

/** Python's `array` type codes and the typed arrays that hold them. */
const TYPECODES = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
} as const;

export type Typecode = keyof typeof TYPECODES;

type AnyTypedArray = InstanceType<(typeof TYPECODES)[Typecode]>;

export class SharedArray {
  static readonly exposed: ReadonlySet<string> = new Set(['get', 'set', 'length', 'toArray', 'slice', 'add']);
  readonly #items: AnyTypedArray;
  readonly typecode: Typecode;

  constructor(typecode: unknown, init: unknown) {
    if (typeof typecode !== 'string' || !Object.hasOwn(TYPECODES, typecode)) {
      throw new TypeError(
        `array: unknown typecode ${String(typecode)} (one of ${Object.keys(TYPECODES).join(' ')})`,
      );
    }
    this.typecode = typecode as Typecode;
    const Type = TYPECODES[this.typecode];
    if (typeof init === 'number') this.#items = new Type(init);
    else if (Array.isArray(init) || ArrayBuffer.isView(init))
      this.#items = (Type as unknown as { from(values: unknown): AnyTypedArray }).from(init);
    else throw new TypeError('array: init must be a length or an array of numbers');
  }

  #index(i: unknown, what: string): number {
    const n = this.#items.length;
    if (typeof i !== 'number' || !Number.isInteger(i))
      throw new TypeError(`${what}: index must be an integer`);
    const at = i < 0 ? n + i : i;
    if (at < 0 || at >= n) throw new RangeError(`${what}: array index ${i} out of range`);
    return at;
  }

  get(_: CallContext | undefined, i: unknown): number | bigint {
    return this.#items[this.#index(i, 'array.get')] as number | bigint;
  }

  set(_: CallContext | undefined, i: unknown, value: unknown): void {
    const at = this.#index(i, 'array.set');
    const big = this.#items instanceof BigInt64Array || this.#items instanceof BigUint64Array;
    if (big ? typeof value !== 'bigint' : typeof value !== 'number') {
      throw new TypeError(
        `array.set: an array of typecode '${this.typecode}' holds ${big ? 'bigints' : 'numbers'}`,
      );
    }
    (this.#items as unknown as Array<number | bigint>)[at] = value as number | bigint;
  }

  add(ctx: CallContext | undefined, i: unknown, n: unknown): number | bigint {
    const next = addNumbers(this.get(ctx, i), n, 'array.add');
    this.set(ctx, i, next);
    return this.get(ctx, i);
  }

  length(): number {
    return this.#items.length;
  }

  toArray(): Array<number | bigint> {
    return Array.from(this.#items as ArrayLike<number | bigint>);
  }

  slice(_: CallContext | undefined, start?: number, end?: number): Array<number | bigint> {
    return Array.from(this.#items.slice(start, end) as ArrayLike<number | bigint>);
  }
}

export class SharedNamespace {
  static readonly exposed: ReadonlySet<string> = new Set(['get', 'set', 'has', 'delete', 'toObject']);
  readonly #fields = new Map<string, unknown>();

  constructor(init?: unknown) {
    if (init === undefined || init === null) return;
    if (typeof init !== 'object') throw new TypeError('namespace: init must be an object');
    for (const [k, v] of Object.entries(init)) this.#fields.set(k, v);
  }

  #name(name: unknown, what: string): string {
    const k = checkKey(name, what);
    if (typeof k !== 'string') throw new TypeError(`${what}: a namespace field name is a string`);
    return k;
  }

  get(_: CallContext | undefined, name: unknown): unknown {
    return this.#fields.get(this.#name(name, 'namespace.get'));
  }

  set(_: CallContext | undefined, name: unknown, value: unknown): void {
    this.#fields.set(this.#name(name, 'namespace.set'), value);
  }

  has(_: CallContext | undefined, name: unknown): boolean {
    return this.#fields.has(this.#name(name, 'namespace.has'));
  }

  delete(_: CallContext | undefined, name: unknown): boolean {
    return this.#fields.delete(this.#name(name, 'namespace.delete'));
  }

  /** What the namespace holds, for releasing the proxies in it when it is freed. */
  contents(): Iterable<unknown> {
    return this.#fields.values();
  }

  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.#fields)
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  }
}
