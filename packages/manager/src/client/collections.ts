/**
 * Proxies of the shared collections: `m.dict()`, `m.list()`, `m.value()`,
 * `m.array()`, `m.namespace()`. Each method is one round trip to the server
 * and runs there whole, so `add`, `compareAndSet` and `getAndSet` are atomic
 * across every client without a lock.
 */
import { BaseProxy } from './proxy.js';

/** A key of a shared dict: a primitive (an object key could never be found again once it crossed a process). */
export type DictKey = string | number | bigint | boolean | null;

/** Python's `manager.dict()`: a Map on the server. */
export class DictProxy<K extends DictKey = DictKey, V = unknown> extends BaseProxy {
  /** The value at `key`, or `fallback` (default undefined) when missing. */
  get(key: K, fallback?: V): Promise<V | undefined> {
    return this._call('get', fallback === undefined ? [key] : [key, fallback]);
  }
  set(key: K, value: V): Promise<void> {
    return this._call('set', [key, value]);
  }
  has(key: K): Promise<boolean> {
    return this._call('has', [key]);
  }
  /** Removes `key`; true when it was there. */
  delete(key: K): Promise<boolean> {
    return this._call('delete', [key]);
  }
  keys(): Promise<K[]> {
    return this._call('keys', []);
  }
  values(): Promise<V[]> {
    return this._call('values', []);
  }
  items(): Promise<Array<[K, V]>> {
    return this._call('items', []);
  }
  size(): Promise<number> {
    return this._call('size', []);
  }
  /** Sets every entry of `[key, value]` pairs, a Map or a plain object. */
  update(entries: Iterable<readonly [K, V]> | Record<string, V>): Promise<void> {
    const plain =
      entries instanceof Map || Array.isArray(entries)
        ? entries
        : Symbol.iterator in entries
          ? [...(entries as Iterable<readonly [K, V]>)]
          : entries;
    return this._call('update', [plain]);
  }
  /** Removes `key` and returns its value; `fallback` when missing, or `KeyError` without one. */
  pop(key: K, ...fallback: [V?]): Promise<V> {
    return this._call('pop', [key, ...fallback]);
  }
  /** The value at `key`, setting it to `fallback` first when missing. */
  setdefault(key: K, fallback?: V): Promise<V> {
    return this._call('setdefault', [key, fallback]);
  }
  clear(): Promise<void> {
    return this._call('clear', []);
  }
  /** A snapshot as a plain object (keys as strings). */
  toObject(): Promise<Record<string, V>> {
    return this._call('toObject', []);
  }
  /** Atomically adds `n` to the number (or bigint) at `key` (missing: 0) and returns the new value. */
  add(key: K, n: number): Promise<number>;
  add(key: K, n: bigint): Promise<bigint>;
  add(key: K, n: number | bigint): Promise<number | bigint> {
    return this._call('add', [key, n]);
  }
  /** Atomically sets `key` to `next` if its value deep-equals `expected` (missing counts as undefined); true if it did. */
  compareAndSet(key: K, expected: V | undefined, next: V): Promise<boolean> {
    return this._call('compareAndSet', [key, expected, next]);
  }
  /** Atomically sets `key` and returns the previous value. */
  getAndSet(key: K, value: V): Promise<V | undefined> {
    return this._call('getAndSet', [key, value]);
  }
}

/** Python's `manager.list()`: an array on the server, with Python's negative indices. */
export class ListProxy<T = unknown> extends BaseProxy {
  append(value: T): Promise<void> {
    return this._call('append', [value]);
  }
  extend(values: Iterable<T>): Promise<void> {
    return this._call('extend', [[...values]]);
  }
  /** The item at `index` (`-1` is the last); `RangeError` out of range. */
  get(index: number): Promise<T> {
    return this._call('get', [index]);
  }
  set(index: number, value: T): Promise<void> {
    return this._call('set', [index, value]);
  }
  /** Removes and returns the item at `index` (default: the last). */
  pop(index?: number): Promise<T> {
    return this._call('pop', index === undefined ? [] : [index]);
  }
  insert(index: number, value: T): Promise<void> {
    return this._call('insert', [index, value]);
  }
  /** Removes the first item deep-equal to `value`; `RangeError` when there is none. */
  remove(value: T): Promise<void> {
    return this._call('remove', [value]);
  }
  /** Index of the first item deep-equal to `value`; `RangeError` when there is none. */
  index(value: T): Promise<number> {
    return this._call('index', [value]);
  }
  length(): Promise<number> {
    return this._call('length', []);
  }
  slice(start?: number, end?: number): Promise<T[]> {
    return this._call('slice', [start, end]);
  }
  toArray(): Promise<T[]> {
    return this._call('toArray', []);
  }
}

/** Python's `manager.Value()`, with atomic `add` and `compareAndSet`. */
export class ValueProxy<T = unknown> extends BaseProxy {
  get(): Promise<T> {
    return this._call('get', []);
  }
  set(value: T): Promise<void> {
    return this._call('set', [value]);
  }
  /** Atomically adds `n` and returns the new value. */
  add(n: T extends bigint ? bigint : number): Promise<T> {
    return this._call('add', [n]);
  }
  /** Atomically sets `next` if the value deep-equals `expected`; true if it did. */
  compareAndSet(expected: T, next: T): Promise<boolean> {
    return this._call('compareAndSet', [expected, next]);
  }
  /** Atomically sets the value and returns the previous one. */
  getAndSet(value: T): Promise<T> {
    return this._call('getAndSet', [value]);
  }
}

/** Python's `manager.Array(typecode, init)`: a typed array on the server. */
export class ArrayProxy<T extends number | bigint = number> extends BaseProxy {
  get(index: number): Promise<T> {
    return this._call('get', [index]);
  }
  set(index: number, value: T): Promise<void> {
    return this._call('set', [index, value]);
  }
  /** Atomically adds `n` to the element at `index` and returns the new value. */
  add(index: number, n: T): Promise<T> {
    return this._call('add', [index, n]);
  }
  length(): Promise<number> {
    return this._call('length', []);
  }
  slice(start?: number, end?: number): Promise<T[]> {
    return this._call('slice', [start, end]);
  }
  toArray(): Promise<T[]> {
    return this._call('toArray', []);
  }
}

/** Python's `manager.Namespace()`: named fields. */
export class NamespaceProxy<T extends Record<string, unknown> = Record<string, unknown>> extends BaseProxy {
  get<K extends keyof T & string>(name: K): Promise<T[K]> {
    return this._call('get', [name]);
  }
  set<K extends keyof T & string>(name: K, value: T[K]): Promise<void> {
    return this._call('set', [name, value]);
  }
  has(name: string): Promise<boolean> {
    return this._call('has', [name]);
  }
  delete(name: string): Promise<boolean> {
    return this._call('delete', [name]);
  }
  toObject(): Promise<Partial<T>> {
    return this._call('toObject', []);
  }
}
