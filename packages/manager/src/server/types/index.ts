/**
 * How the server makes each type: built-in shared objects, and types
 * registered with `Manager.register` (imported in the server process).
 */

import { BaseProxy } from '../../client/proxy.js';
import { isCallableName, type RegisteredType } from '../../protocol.js';
import { localServers } from '../local.js';
import type { Session } from '../session.js';
import { SharedBarrier, SharedCondition, SharedEvent } from './condition.js';
import { SharedDict } from './dict.js';
import { SharedList } from './list.js';
import { SharedLock } from './lock.js';
import { SharedQueue } from './queue.js';
import { SharedSemaphore } from './semaphore.js';
import { SharedArray, SharedNamespace, SharedValue } from './value.js';

/** A type the server can make. */
export interface TypeDef {
  readonly exposed: ReadonlySet<string>;
  readonly builtin: boolean;
  create(args: unknown[], session: Session, id: () => number): object;
}

function builtin(
  cls: { exposed: ReadonlySet<string> },
  create: (args: unknown[], session: Session, id: () => number) => object,
): TypeDef {
  return { exposed: cls.exposed, builtin: true, create };
}

function lockOf(value: unknown): SharedLock {
  if (value === undefined || value === null) return new SharedLock(true);
  if (value instanceof BaseProxy && value._local) {
    const obj = localServers.get(value._data.s)?.get(value._data.i).obj;
    if (obj instanceof SharedLock) return obj;
  }
  throw new TypeError('condition: the lock must be a Lock or RLock of the same manager');
}

export const BUILTIN_DEFS: ReadonlyMap<string, TypeDef> = new Map<string, TypeDef>([
  ['dict', builtin(SharedDict, ([init]) => new SharedDict(init))],
  ['list', builtin(SharedList, ([init]) => new SharedList(init))],
  ['value', builtin(SharedValue, ([init]) => new SharedValue(init))],
  ['array', builtin(SharedArray, ([typecode, init]) => new SharedArray(typecode, init))],
  ['namespace', builtin(SharedNamespace, ([init]) => new SharedNamespace(init))],
  ['queue', builtin(SharedQueue, ([maxsize]) => new SharedQueue(maxsize ?? 0))],
  ['joinableQueue', builtin(SharedQueue, ([maxsize]) => new SharedQueue(maxsize ?? 0))],
  ['lock', builtin(SharedLock, () => new SharedLock(false))],
  ['rlock', builtin(SharedLock, () => new SharedLock(true))],
  ['semaphore', builtin(SharedSemaphore, ([n]) => new SharedSemaphore(n ?? 1, false))],
  ['boundedSemaphore', builtin(SharedSemaphore, ([n]) => new SharedSemaphore(n ?? 1, true))],
  ['condition', builtin(SharedCondition, ([lock]) => new SharedCondition(lockOf(lock)))],
  ['event', builtin(SharedEvent, () => new SharedEvent())],
  [
    'barrier',
    builtin(SharedBarrier, ([parties, timeout, hasAction], session, id) => {
      // The action is a function in the creating client: the server asks that client to run it.
      const action =
        hasAction === true
          ? async () => {
              if (session.ended)
                throw new Error('the client that created the barrier (and holds its action) is gone');
              await session.peer.call('barrierAction', [id()]);
            }
          : undefined;
      return new SharedBarrier(parties, timeout, action);
    }),
  ],
]);

/** Public method names of a class: own and inherited prototype methods, minus private and refused ones. */
function publicMethods(cls: { prototype: object }): string[] {
  const names = new Set<string>();
  for (let p: object | null = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const desc = Object.getOwnPropertyDescriptor(p, name);
      if (desc && typeof desc.value === 'function' && isCallableName(name)) names.add(name);
    }
  }
  return [...names];
}

/** Imports a registered type's class in the server process. */
export async function loadRegistered(typeId: string, def: RegisteredType): Promise<TypeDef> {
  const mod = (await import(def.module)) as Record<string, unknown>;
  const exportName = def.exportName ?? 'default';
  const cls = mod[exportName];
  if (typeof cls !== 'function') {
    throw new TypeError(`Manager.register(${typeId}): ${def.module} has no class export "${exportName}"`);
  }
  const Class = cls as new (...args: unknown[]) => object;
  const exposed = (def.exposed ?? publicMethods(Class)).filter(isCallableName);
  return { exposed: new Set(exposed), builtin: false, create: (args) => new Class(...args) };
}
