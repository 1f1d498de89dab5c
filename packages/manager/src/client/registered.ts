/**
 * Proxies of types registered with `Manager.register`: one async method per
 * exposed method of the class, named as on the class.
 */
import type { ProxyTokenData } from '../protocol.js';
import type { ObjectTable } from '../server/objects.js';
import type { ManagerConnection } from './connection.js';
import { BaseProxy } from './proxy.js';

/** The proxy type of a registered class `T`: each method async, returning what it returns (awaited). */
export type Remote<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
} & RegisteredProxy;

export class RegisteredProxy extends BaseProxy {
  constructor(conn: ManagerConnection, data: ProxyTokenData, local?: ObjectTable) {
    super(conn, data, local);
    for (const name of data.x ?? []) {
      if (name in this) continue;
      Object.defineProperty(this, name, {
        value: (...args: unknown[]) => this.callMethod(name, ...args),
        enumerable: false,
      });
    }
  }

  /** Calls any method by name (the server refuses names the type does not expose). */
  callMethod<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
    // A registered method may be async and take its time: never batched with others.
    return this._conn.call<R>('c', [this._data.i, name, args]);
  }
}
