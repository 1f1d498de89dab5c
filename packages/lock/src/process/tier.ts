/**
 * The process tier (see core/tier.ts): primitives in segments of
 * `@conc/shared-memory`, waits on its cross-process futex, holders in a
 * {@link ProcessRegistry}. The algorithms are the thread tier's, unchanged.
 *
 * A primitive lives in a segment of its own, or at `byteOffset` in a
 * `SharedMemory` the user gives (the thread tier's tag and overlap checks
 * apply). Its token names the segment (with the segment's nonce, so a later
 * segment that took the name is refused) and the offset.
 */
import { attach, share, type Token, TokenError } from '@conc/serialize';
import { checkOptions, describeValue } from '@conc/serialize/internal';
import { SharedMemory, wait, waitAsync, wake } from '@conc/shared-memory';
import { isForeignBufferError } from '../core/errors.js';
import type { Tier } from '../core/tier.js';
import type { Liveness } from '../engine/liveness.js';
import type { WaitResult, WaitWake } from '../engine/wait-wake.js';
import { createWaitEngine } from '../engine/waiting.js';
import { claim, type Placement, REGISTRY, type Registries, region, storedParam } from '../thread/layout.js';
import { ProcessRegistry } from './registry.js';

/** Where a process-tier primitive lives. */
export interface ProcessPlacement {
  /**
   * The segment to build the primitive in (zeroed memory creates it; memory
   * holding one of the same kind attaches). Omit for a segment of its own.
   */
  memory?: SharedMemory;
  /**
   * Byte offset in `memory`; a multiple of 4.
   * @default 0
   */
  byteOffset?: number;
}

const TIMED_OUT: WaitResult = 'timed-out';
const timedOut = (): WaitResult => TIMED_OUT;

/**
 * `@conc/shared-memory`'s futex as the engine's wait/wake. An aborted
 * `waitAsync` is withdrawn by the addon (which passes on a wake-up that
 * reached it), so the engine never has to wake an unchanged word for it.
 */
export const futexWaitWake: WaitWake<Int32Array> = {
  wait: (memory, index, expected, timeoutMs) => wait(memory, index, expected, timeoutMs),
  waitAsync(memory, index, expected, timeoutMs, signal) {
    return waitAsync(memory, index, expected, timeoutMs, signal === undefined ? undefined : { signal }).catch(
      timedOut,
    );
  },
  wake: (memory, index, count) => wake(memory, index, count),
  waitAsyncKeepsAlive: true,
};

const registries: Registries = {
  home: () => ProcessRegistry.home(),
  byId: (id) => ProcessRegistry.byId(id),
};

/** This process's home registry, only created when this process creates a primitive. */
const lazyHome: Liveness = {
  get id() {
    return ProcessRegistry.home().id;
  },
  get me() {
    return ProcessRegistry.home().me;
  },
  isAlive: (tag) => ProcessRegistry.home().isAlive(tag),
  holderId: (tag) => ProcessRegistry.home().holderId(tag),
};

/** The segment handle behind each buffer this process placed a primitive in. */
const segments = new WeakMap<SharedArrayBuffer, SharedMemory>();
/** Handles a primitive opened itself (its own segment, or attached from a token): its `close()` closes them. */
const owned = new WeakSet<SharedMemory>();

/** The process tier. */
export const processTier: Tier = {
  engine: createWaitEngine(futexWaitWake),
  holder: 'process',
  open(placement, byteLength, kind, init) {
    const i32 = region(placement, byteLength, kind);
    const id = claim(i32, kind, lazyHome, () => init(i32), registries);
    const registry = ProcessRegistry.byId(id) ?? ProcessRegistry.revive(id);
    registry.retain();
    return { i32, registry };
  },
  storedParam: (placement, kind, index) => storedParam(placement, kind, index, registries),
};

/**
 * Turns process options into the thread tier's placement: the memory's buffer,
 * or a new segment of `byteLength` bytes. `keys` lists the other options the
 * primitive takes (for the unknown-option check).
 */
export function place<O extends ProcessPlacement>(
  what: string,
  options: O | undefined,
  byteLength: (options: O | undefined) => number,
  keys: string,
): Omit<O, 'memory'> & Placement {
  checkOptions(what, options, `{ memory, byteOffset${keys} }`);
  const { memory, ...rest } = options ?? ({} as O);
  if (memory === undefined) {
    if (rest.byteOffset !== undefined && rest.byteOffset !== 0)
      throw new RangeError(`${what}: byteOffset given without a memory`);
    const own = SharedMemory.create({ size: byteLength(options) });
    segments.set(own.buffer, own);
    owned.add(own);
    return { ...rest, buffer: own.buffer, byteOffset: 0 };
  }
  if (!(memory instanceof SharedMemory)) {
    throw new TypeError(
      `${what}: memory must be a SharedMemory from @conc/shared-memory (other processes cannot see anything else), got ${describeValue(memory)}`,
    );
  }
  const buffer = memory.buffer;
  if (!segments.has(buffer)) segments.set(buffer, memory);
  return { ...rest, buffer, byteOffset: rest.byteOffset ?? 0 };
}

/** What a process-tier token carries. */
export interface ProcessTokenData {
  readonly memory: Token<SharedMemory>;
  readonly byteOffset: number;
}

/** Token data of a primitive placed by {@link place}. */
export function processTokenData(at: { buffer: SharedArrayBuffer; byteOffset: number }): ProcessTokenData {
  const memory = segments.get(at.buffer);
  if (memory === undefined) throw new Error('process primitive: its segment is unknown to this process');
  return { memory: share(memory), byteOffset: at.byteOffset };
}

/**
 * Rebuilds a primitive from its token data: attaches the segment (refusing a
 * segment that took the name later) and opens the primitive at the offset.
 * Memory that does not hold what the token says is a `TokenError`.
 */
export function attachProcessData<T>(
  data: unknown,
  kind: string,
  make: (placement: ProcessPlacement) => T,
): T {
  const bad = (what: string, value: unknown): TokenError =>
    new TokenError(`attach: malformed ${kind} token: ${what}, got ${describeValue(value)}`);
  if (typeof data !== 'object' || data === null) throw bad('its data must be { memory, byteOffset }', data);
  const d = data as Partial<Record<keyof ProcessTokenData, unknown>>;
  const o = d.byteOffset;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || o % 4 !== 0)
    throw bad('byteOffset must be a non-negative multiple of 4', o);
  const memory = attach(d.memory as Token<SharedMemory>);
  if (!(memory instanceof SharedMemory)) throw bad('memory must be a SharedMemory token', d.memory);
  owned.add(memory);
  try {
    return make({ memory, byteOffset: o });
  } catch (err) {
    memory.close();
    if (!isForeignBufferError(err)) throw err;
    throw new TokenError(`attach: ${(err as Error).message}`, { cause: err });
  }
}

/** Lets go of a primitive's hold on its registry and, when it owns its segment handle, of the segment. */
export function closePrimitive(at: { buffer: SharedArrayBuffer; byteOffset: number }): void {
  const id = Atomics.load(new Int32Array(at.buffer, at.byteOffset, 2), REGISTRY);
  ProcessRegistry.byId(id)?.release();
  const memory = segments.get(at.buffer);
  if (memory !== undefined && owned.has(memory)) memory.close();
}
