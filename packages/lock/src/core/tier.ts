/**
 * A tier: the memory a primitive lives in and how its waits reach the others.
 * The primitives' algorithms (thread/*.ts) are written once; each reads its
 * tier through `this[kTier]`, a prototype getter, so it is already in place
 * while the base constructor runs. The thread tier (thread/tier.ts) is
 * SharedArrayBuffers with `Atomics` waits and the owner registry of the
 * process; the process tier (process/tier.ts) is segments of
 * `@conc/shared-memory` with its cross-process futex and a table of
 * processes: one engine, two memories.
 */
import type { Liveness } from '../engine/liveness.js';
import type { WaitEngine } from '../engine/waiting.js';
import type { KindName, Placement } from '../thread/layout.js';
import type { OwnerDiedInfo } from './options.js';

/** Where a primitive finds its tier. */
export const kTier: unique symbol = Symbol('conc.lock.tier');

/** What a tier supplies to the primitives. */
export interface Tier {
  /** The waiting engine on the tier's wait/wake primitive. */
  readonly engine: WaitEngine<Int32Array>;
  /** Who holds a primitive in this tier, for messages: `'thread'` or `'process'`. */
  readonly holder: string;
  /** Creates or attaches the primitive's memory and finds the liveness its holder tags refer to. */
  open(
    placement: Placement | undefined,
    byteLength: number,
    kind: KindName,
    init: (i32: Int32Array) => void,
  ): { i32: Int32Array; registry: Liveness };
  /** A size parameter the creator stored (see layout.ts `storedParam`). */
  storedParam(placement: Placement | undefined, kind: KindName, index: number): number | undefined;
}

/** What `onOwnerDied` is told: the dead holder as the tier knows it (`threadId`, or `pid` for processes). */
export function ownerDiedInfo(
  tier: Tier,
  primitive: string,
  holderId: number,
  recovered: number,
): OwnerDiedInfo {
  return tier.holder === 'process'
    ? { primitive, threadId: -1, pid: holderId, recovered }
    : { primitive, threadId: holderId, recovered };
}
