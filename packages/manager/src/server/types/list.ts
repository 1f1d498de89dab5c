/** The server side of `m.list()`: Python's list methods over an array, with Python's negative indices. */
import { isDeepStrictEqual } from 'node:util';
import type { CallContext } from '../waiters.js';

function indexIn(length: number, i: unknown, what: string): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new TypeError(`${what}: index must be an integer`);
  const at = i < 0 ? length + i : i;
  if (at < 0 || at >= length) throw new RangeError(`${what}: list index ${i} out of range`);
  return at;
}

export class SharedList {
  static readonly exposed: ReadonlySet<string> = new Set([
    'append',
    'extend',
    'get',
    'set',
    'pop',
    'insert',
    'remove',
    'index',
    'length',
    'slice',
    'toArray',
  ]);
  #items: unknown[];

  constructor(init?: unknown) {
    if (init !== undefined && init !== null && !Array.isArray(init))
      throw new TypeError('list: init must be an array');
    this.#items = init ? [...(init as unknown[])] : [];
  }

  append(_: CallContext | undefined, value: unknown): void {
    this.#items.push(value);
  }

  extend(_: CallContext | undefined, values: unknown): void {
    if (!Array.isArray(values)) throw new TypeError('list.extend: expected an array');
    for (const v of values) this.#items.push(v);
  }

  get(_: CallContext | undefined, i: unknown): unknown {
    return this.#items[indexIn(this.#items.length, i, 'list.get')];
  }

  set(_: CallContext | undefined, i: unknown, value: unknown): void {
    this.#items[indexIn(this.#items.length, i, 'list.set')] = value;
  }

  pop(_: CallContext | undefined, i: unknown = -1): unknown {
    if (this.#items.length === 0) throw new RangeError('list.pop: pop from empty list');
    return this.#items.splice(indexIn(this.#items.length, i, 'list.pop'), 1)[0];
  }

  insert(_: CallContext | undefined, i: unknown, value: unknown): void {
    if (typeof i !== 'number' || !Number.isInteger(i))
      throw new TypeError('list.insert: index must be an integer');
    const n = this.#items.length;
    const at = i < 0 ? Math.max(0, n + i) : Math.min(n, i);
    this.#items.splice(at, 0, value);
  }

  remove(ctx: CallContext | undefined, value: unknown): void {
    this.#items.splice(this.index(ctx, value), 1);
  }

  index(_: CallContext | undefined, value: unknown): number {
    const at = this.#items.findIndex((x) => isDeepStrictEqual(x, value));
    if (at < 0) throw new RangeError('list: value not in list');
    return at;
  }

  length(): number {
    return this.#items.length;
  }

  slice(_: CallContext | undefined, start?: number, end?: number): unknown[] {
    return this.#items.slice(start, end);
  }

  toArray(): unknown[] {
    return [...this.#items];
  }

  /** What the list holds, for releasing the proxies in it when it is freed. */
  contents(): Iterable<unknown> {
    return this.#items;
  }
}
