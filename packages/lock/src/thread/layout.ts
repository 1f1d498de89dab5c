/**
 * Shared-memory layout common to every thread-tier primitive.
 *
 * A primitive lives in `byteLength` bytes of a SharedArrayBuffer at a 4-byte
 * aligned `byteOffset`, so many fit in one buffer. Word 0 is a type tag that
 * says which primitive (and layout version) the memory holds, so memory holding
 * something else is refused with a clear error instead of being misread. Word 1
 * is the id of the owner registry whose thread tags the primitive stores.
 * Zeroed memory is "not yet created": the first constructor to claim it
 * initialises it; every later one checks the tag and attaches. A placement
 * that overlaps another primitive is refused (see `checkPlacement`).
 */
import { TokenError } from '@conc/serialize';
import { describeValue } from '@conc/serialize/internal';
import { ForeignBufferError, isForeignBufferError } from '../core/errors.js';
import type { Liveness } from '../engine/liveness.js';
import { OwnerRegistry, TAG_MASK } from './registry.js';

/** The liveness registries of a tier: this thread's (or process's) own, and any other by the id a header stores. */
export interface Registries {
  home(): Liveness;
  byId(id: number): Liveness | undefined;
}

/** The thread tier's: the owner registries of this process's threads. */
export const threadRegistries: Registries = {
  home: () => OwnerRegistry.home(),
  byId: (id) => OwnerRegistry.byId(id),
};

/** Word indices of the common header. */
export const TAG = 0;
export const REGISTRY = 1;

const MAGIC = 0x636e0000; // 'cn'
const MAGIC_MASK = 0xffff0000 | 0;
const VERSION = 1;
/**
 * The tag word while a constructor writes the initial state: this bit plus the
 * creator's owner tag, so a thread that finds it can tell a creator still at
 * work (microseconds) from one that died mid-construction. Real tags are
 * positive; any negative word (the -1 of older copies too) is "being created".
 */
const CREATING = 1 << 31;
/** Longest wait for a live creator to finish (it takes microseconds; this covers a descheduled one). */
const CREATION_WAIT_MS = 1000;

/** Primitive kinds, in the tag's high byte of its low half. */
export const Kind = {
  Lock: 1,
  RLock: 2,
  Semaphore: 3,
  BoundedSemaphore: 4,
  Condition: 5,
  Event: 6,
  Barrier: 7,
} as const;
export type KindName = keyof typeof Kind;

const NAMES: Record<number, KindName> = Object.fromEntries(
  Object.entries(Kind).map(([k, v]) => [v, k as KindName]),
);

/** The tag word of a kind. */
export function tagOf(kind: KindName): number {
  return MAGIC | (Kind[kind] << 8) | VERSION;
}

function kindOfTag(tag: number): KindName | undefined {
  return (tag & MAGIC_MASK) === MAGIC && (tag & 0xff) === VERSION ? NAMES[(tag >>> 8) & 0xff] : undefined;
}

/** `a Lock`, `an Event`. */
function a(name: string): string {
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

function describeTag(tag: number): string {
  if ((tag & MAGIC_MASK) === MAGIC) {
    const name = NAMES[(tag >>> 8) & 0xff];
    if (name !== undefined)
      return (tag & 0xff) === VERSION ? a(name) : `${a(name)} of layout version ${tag & 0xff}`;
  }
  return `unrelated data (0x${(tag >>> 0).toString(16).padStart(8, '0')})`;
}

/**
 * How big each kind is: the header word holding its size parameter (stored by
 * the creator) and its byte length from that parameter. The one place sizes
 * are computed, so the placement check below measures a primitive exactly as
 * its constructor sized it.
 */
export const SIZE_PARAM = { Semaphore: 6, Condition: 3, Barrier: 6 } as const;
/** Largest parameter any kind accepts (Semaphore holder rows, Condition waiter slots, Barrier parties). */
export const MAX_SIZE_PARAM = 65536;

/** Byte length of a primitive of `kind` whose size parameter is `param`. */
export function spanOf(kind: KindName, param: number): number {
  switch (kind) {
    case 'Semaphore':
    case 'BoundedSemaphore':
      return (8 + param * 2) * 4;
    case 'Condition':
      return (4 + param * 3) * 4;
    case 'Barrier':
      return (8 + param) * 4;
    default:
      return 16;
  }
}

function paramIndexOf(kind: KindName): number | undefined {
  return kind === 'BoundedSemaphore' ? SIZE_PARAM.Semaphore : SIZE_PARAM[kind as keyof typeof SIZE_PARAM];
}

/** The largest primitive: how far back a primitive covering an offset can start. */
const MAX_SPAN = Math.max(
  ...(Object.keys(Kind) as KindName[]).map((k) =>
    spanOf(k, paramIndexOf(k) === undefined ? 0 : MAX_SIZE_PARAM),
  ),
);

/** Where a primitive lives: the memory given to (or allocated by) its constructor. */
export interface Placement {
  /**
   * The SharedArrayBuffer to build the primitive in; zeroed memory creates a
   * new one, memory already holding one of the same kind attaches to it.
   * Omit to allocate a fresh buffer.
   */
  buffer?: SharedArrayBuffer;
  /**
   * Byte offset of the primitive in `buffer`; a multiple of 4.
   * @default 0
   */
  byteOffset?: number;
}

/** Validates a placement and returns the Int32 view of the primitive's words. */
export function region(placement: Placement | undefined, byteLength: number, what: string): Int32Array {
  const buffer = placement?.buffer;
  const byteOffset = placement?.byteOffset ?? 0;
  if (buffer === undefined) {
    if (byteOffset !== 0) throw new RangeError(`${what}: byteOffset given without a buffer`);
    return new Int32Array(new SharedArrayBuffer(byteLength));
  }
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `${what}: buffer must be a SharedArrayBuffer (other threads cannot see an ArrayBuffer), got ${describeValue(buffer)}`,
    );
  }
  checkByteOffset(what, byteOffset);
  if (byteOffset + byteLength > buffer.byteLength) {
    throw new RangeError(
      `${what}: needs ${byteLength} bytes at byteOffset ${byteOffset}, but the buffer has ${buffer.byteLength} bytes`,
    );
  }
  return new Int32Array(buffer, byteOffset, byteLength / 4);
}

/** Checks a byte offset: a non-negative multiple of 4 (`TypeError` for a non-number). */
function checkByteOffset(what: string, byteOffset: unknown): asserts byteOffset is number {
  const message = `${what}: byteOffset must be a non-negative multiple of 4, got ${describeValue(byteOffset)}`;
  if (typeof byteOffset !== 'number') throw new TypeError(message);
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) throw new RangeError(message);
}

/**
 * Reads a tag word, waiting while a constructor is writing the state behind it.
 * A creator that died mid-construction (or takes longer than
 * {@link CREATION_WAIT_MS}) leaves memory nobody can trust:
 * `ForeignBufferError`, never a wait for ever.
 */
function settledTag(
  i32: Int32Array,
  index: number,
  what: string,
  at: number,
  registries: Registries,
): number {
  let started = -1;
  for (;;) {
    const word = Atomics.load(i32, index);
    if (word >= 0) return word;
    const creatorAlive = registries.home().isAlive(word & TAG_MASK);
    const now = performance.now();
    if (started < 0) started = now;
    if (!creatorAlive || now - started > CREATION_WAIT_MS) {
      throw new ForeignBufferError(
        `${what}: the memory at byteOffset ${at} is half-created: the thread that began creating a primitive there ` +
          `${creatorAlive ? `has not finished in ${CREATION_WAIT_MS} ms` : 'died before finishing'}; zero it to create a new one`,
      );
    }
    Atomics.wait(i32, index, word, 5);
  }
}

/**
 * A negative word before a new placement is either state of some primitive
 * (a barrier's `-1`, a semaphore's bound) or the claim of a live thread
 * creating a primitive there right now: wait for that one to finish (bounded)
 * and return what it wrote.
 */
function afterCreation(i32: Int32Array, index: number, word: number, registries: Registries): number {
  const home = registries.home();
  const until = performance.now() + CREATION_WAIT_MS;
  let now = word;
  while (now < 0 && home.isAlive(now & TAG_MASK) && performance.now() < until) {
    Atomics.wait(i32, index, now, 5);
    now = Atomics.load(i32, index);
  }
  return now;
}

/**
 * Refuses a placement that overlaps a live primitive, before a new one is
 * written there. Shared memory is the only record every thread sees (a
 * SharedArrayBuffer is a different object in each thread, so no per-thread map
 * can know what other threads placed), so the memory itself must say what it
 * holds, and it does: every primitive starts with a tag naming its kind, and
 * its size follows from a parameter in its header. Two checks cover both ways
 * to overlap:
 * - the new primitive's own words must all be zero (a primitive starting
 *   inside it has a non-zero tag; other data there is not ours to overwrite);
 * - no primitive starting before it may extend into it: the words before are
 *   scanned backwards for tags. Primitives never overlap (this check keeps it
 *   so), so the scan stops at the first genuine header that ends before this
 *   offset, and never goes further back than the largest primitive's size.
 *   A genuine header also names a registry this thread knows, which a state
 *   word that happens to look like a tag does not.
 * Run after the tag word was claimed: of two threads creating overlapping
 * primitives at once, at least one sees the other's claim and gives way.
 */
function checkPlacement(i32: Int32Array, kind: KindName, registries: Registries): void {
  const at = i32.byteOffset;
  for (let i = 1; i < i32.length; i++) {
    const word = Atomics.load(i32, i);
    if (word === 0) continue;
    const inner = kindOfTag(word);
    throw new ForeignBufferError(
      inner !== undefined
        ? `${kind}: ${a(inner)} starts at byteOffset ${at + i * 4}, inside the ${i32.byteLength} bytes ${a(kind)} needs at byteOffset ${at}`
        : `${kind}: the ${i32.byteLength} bytes at byteOffset ${at} are not zeroed (byteOffset ${at + i * 4} holds 0x${(word >>> 0).toString(16).padStart(8, '0')}); create primitives in zeroed memory no other primitive uses`,
    );
  }
  const all = new Int32Array(i32.buffer, 0, at / 4);
  const stop = Math.max(0, (at - MAX_SPAN) / 4);
  for (let w = all.length - 1; w >= stop; w--) {
    let word = Atomics.load(all, w);
    if (word === 0) continue;
    if (word < 0) word = afterCreation(all, w, word, registries);
    const other = kindOfTag(word);
    if (other === undefined) continue;
    const paramIndex = paramIndexOf(other);
    let param = 0;
    if (paramIndex !== undefined) {
      const paramAt = w * 4 + paramIndex * 4;
      if (paramAt + 4 > i32.buffer.byteLength) continue;
      param = Atomics.load(new Int32Array(i32.buffer, paramAt, 1), 0);
      if (param < 0 || param > MAX_SIZE_PARAM) continue;
    }
    const end = w * 4 + spanOf(other, param);
    if (end > at) {
      throw new ForeignBufferError(
        `${kind}: byteOffset ${at} is inside ${a(other)} that starts at byteOffset ${w * 4} and occupies ${end - w * 4} bytes`,
      );
    }
    if (w + 1 < all.length && registries.byId(Atomics.load(all, w + REGISTRY)) !== undefined) return;
  }
}

/**
 * Creates the primitive in zeroed memory (running `init` once, whoever gets
 * there first) or checks that the memory already holds one of this kind.
 * Returns the registry id stored in the header.
 */
export function claim(
  i32: Int32Array,
  kind: KindName,
  registry: Liveness,
  init: () => void,
  registries: Registries = threadRegistries,
): number {
  const tag = tagOf(kind);
  for (;;) {
    // Read first: an attach never asks for `registry.me` (for processes, taking a row of a table).
    let seen = Atomics.load(i32, TAG);
    if (seen === 0) seen = Atomics.compareExchange(i32, TAG, 0, CREATING | registry.me);
    if (seen === 0) {
      try {
        checkPlacement(i32, kind, registries);
        init();
      } catch (err) {
        Atomics.store(i32, TAG, 0);
        Atomics.notify(i32, TAG);
        throw err;
      }
      Atomics.store(i32, REGISTRY, registry.id);
      Atomics.store(i32, TAG, tag);
      Atomics.notify(i32, TAG);
      return registry.id;
    }
    const now = seen < 0 ? settledTag(i32, TAG, kind, i32.byteOffset, registries) : seen;
    // A creator that gave way (its placement was refused) left the memory zeroed: try again.
    if (now === 0) continue;
    if (now !== tag) {
      throw new ForeignBufferError(
        `${kind}: the memory at byteOffset ${i32.byteOffset} holds ${describeTag(now)}, not ${a(kind)}`,
      );
    }
    return Atomics.load(i32, REGISTRY);
  }
}

/**
 * A size parameter stored by the creator (Semaphore `maxHolders`, Condition
 * `capacity`), read before the size of the primitive is known, so attaching
 * needs no parameters; `undefined` when the memory does not hold a `kind` yet.
 */
export function storedParam(
  placement: Placement | undefined,
  kind: KindName,
  index: number,
  registries: Registries = threadRegistries,
): number | undefined {
  const buffer = placement?.buffer;
  const byteOffset = placement?.byteOffset ?? 0;
  if (!(buffer instanceof SharedArrayBuffer) || !Number.isInteger(byteOffset) || byteOffset % 4 !== 0)
    return undefined;
  if (byteOffset < 0 || byteOffset + (index + 1) * 4 > buffer.byteLength) return undefined;
  const i32 = new Int32Array(buffer, byteOffset, index + 1);
  return settledTag(i32, TAG, kind, byteOffset, registries) === tagOf(kind)
    ? Atomics.load(i32, index)
    : undefined;
}

/** Checks that a header parameter stored at creation matches what the caller asked for. */
export function expectParam(
  i32: Int32Array,
  index: number,
  expected: number | undefined,
  what: string,
  name: string,
): void {
  if (expected === undefined) return;
  const stored = Atomics.load(i32, index);
  if (stored !== expected) {
    throw new ForeignBufferError(
      `${what}: the memory holds a ${what} with ${name} ${stored}, not ${expected}`,
    );
  }
}

/** What a thread-tier token carries: the memory and the registry of owner tags. */
export interface TokenData {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly registry: SharedArrayBuffer;
}

/** Checks the data of a thread-tier token: one `TokenError` naming the field and what it held. */
export function readTokenData(data: unknown, kind: string): TokenData {
  const bad = (what: string, value: unknown): TokenError =>
    new TokenError(`attach: malformed ${kind} token: ${what}, got ${describeValue(value)}`);
  if (typeof data !== 'object' || data === null)
    throw bad('its data must be { buffer, byteOffset, registry }', data);
  const d = data as Partial<Record<keyof TokenData, unknown>>;
  if (!(d.buffer instanceof SharedArrayBuffer)) throw bad('buffer must be a SharedArrayBuffer', d.buffer);
  if (!(d.registry instanceof SharedArrayBuffer))
    throw bad('registry must be a SharedArrayBuffer', d.registry);
  const o = d.byteOffset;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || o % 4 !== 0)
    throw bad('byteOffset must be a non-negative multiple of 4', o);
  return d as TokenData;
}

/**
 * Opens a primitive: validates the placement, creates or checks the header, and
 * finds the registry its owner tags refer to.
 */
export function open(
  placement: Placement | undefined,
  byteLength: number,
  kind: KindName,
  init: (i32: Int32Array) => void,
): { i32: Int32Array; registry: OwnerRegistry } {
  const i32 = region(placement, byteLength, kind);
  const home = OwnerRegistry.home();
  const id = claim(i32, kind, home, () => init(i32));
  const registry = id === home.id ? home : OwnerRegistry.byId(id);
  if (registry === undefined) {
    throw new ForeignBufferError(
      `${kind}: this memory was set up by threads using another owner registry; ` +
        'pass the primitive to this thread with share()/attach() instead of its raw buffer',
    );
  }
  return { i32, registry };
}

/** The data of a primitive's token: where it lives and its owner registry (read back by {@link attachData}). */
export function tokenData(
  at: { readonly buffer: SharedArrayBuffer; readonly byteOffset: number },
  registry: OwnerRegistry,
): { buffer: SharedArrayBuffer; byteOffset: number; registry: SharedArrayBuffer } {
  return { buffer: at.buffer, byteOffset: at.byteOffset, registry: registry.buffer };
}

/**
 * Rebuilds a primitive from the data of its token, learning the token's
 * registry first. Memory that does not hold what the token says (half-created,
 * another primitive, overlapping one) is a `TokenError`: the token is wrong.
 */
export function attachData<T>(data: unknown, kind: string, make: (placement: Placement) => T): T {
  const d = readTokenData(data, kind);
  try {
    OwnerRegistry.of(d.registry);
  } catch (err) {
    throw new TokenError(`attach: malformed ${kind} token: ${(err as Error).message}`, { cause: err });
  }
  try {
    return make({ buffer: d.buffer, byteOffset: d.byteOffset });
  } catch (err) {
    if (!isForeignBufferError(err)) throw err;
    throw new TokenError(`attach: ${(err as Error).message}`, { cause: err });
  }
}
