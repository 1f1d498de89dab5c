/**
 * Shared-memory layout common to every thread-tier primitive.
 *
 * A primitive lives in `byteLength` bytes of a SharedArrayBuffer at a 4-byte
 * aligned `byteOffset`, so many fit in one buffer. Word 0 is a type tag that
 * says which primitive (and layout version) the memory holds, so memory holding
 * something else is refused with a clear error instead of being misread. Word 1
 * is the id of the owner registry whose thread tags the primitive stores.
 * Zeroed memory is "not yet created": the first constructor to claim it
 * initialises it; every later one checks the tag and attaches.
 */
import { ForeignBufferError } from '../core/errors.js';
import { OwnerRegistry } from './registry.js';

/** Word indices of the common header. */
export const TAG = 0;
export const REGISTRY = 1;

const MAGIC = 0x636e0000; // 'cn'
const MAGIC_MASK = 0xffff0000 | 0;
const VERSION = 1;
/** Claimed by a constructor that is still writing the initial state. */
const INITIALISING = -1;

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

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(Kind).map(([k, v]) => [v, k]));

/** The tag word of a kind. */
export function tagOf(kind: KindName): number {
  return MAGIC | (Kind[kind] << 8) | VERSION;
}

function describeTag(tag: number): string {
  if ((tag & MAGIC_MASK) === MAGIC) {
    const name = NAMES[(tag >>> 8) & 0xff];
    if (name !== undefined)
      return (tag & 0xff) === VERSION ? `a ${name}` : `a ${name} of layout version ${tag & 0xff}`;
  }
  return `unrelated data (0x${(tag >>> 0).toString(16).padStart(8, '0')})`;
}

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
      `${what}: buffer must be a SharedArrayBuffer (other threads cannot see an ArrayBuffer)`,
    );
  }
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) {
    throw new RangeError(
      `${what}: byteOffset must be a non-negative multiple of 4, got ${String(byteOffset)}`,
    );
  }
  if (byteOffset + byteLength > buffer.byteLength) {
    throw new RangeError(
      `${what}: needs ${byteLength} bytes at byteOffset ${byteOffset}, but the buffer has ${buffer.byteLength} bytes`,
    );
  }
  return new Int32Array(buffer, byteOffset, byteLength / 4);
}

/**
 * Creates the primitive in zeroed memory (running `init` once, whoever gets
 * there first) or checks that the memory already holds one of this kind.
 * Returns the registry id stored in the header.
 */
export function claim(i32: Int32Array, kind: KindName, registryId: number, init: () => void): number {
  const tag = tagOf(kind);
  const seen = Atomics.compareExchange(i32, TAG, 0, INITIALISING);
  if (seen === 0) {
    init();
    Atomics.store(i32, REGISTRY, registryId);
    Atomics.store(i32, TAG, tag);
    Atomics.notify(i32, TAG);
    return registryId;
  }
  let now = seen;
  // Another thread is writing the initial state right now: a few microseconds.
  while (now === INITIALISING) {
    Atomics.wait(i32, TAG, INITIALISING, 5);
    now = Atomics.load(i32, TAG);
  }
  if (now !== tag) {
    throw new ForeignBufferError(
      `${kind}: the memory at this byteOffset holds ${describeTag(now)}, not a ${kind}`,
    );
  }
  return Atomics.load(i32, REGISTRY);
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
): number | undefined {
  const buffer = placement?.buffer;
  const byteOffset = placement?.byteOffset ?? 0;
  if (!(buffer instanceof SharedArrayBuffer) || !Number.isInteger(byteOffset) || byteOffset % 4 !== 0)
    return undefined;
  if (byteOffset < 0 || byteOffset + (index + 1) * 4 > buffer.byteLength) return undefined;
  const i32 = new Int32Array(buffer, byteOffset, index + 1);
  return Atomics.load(i32, TAG) === tagOf(kind) ? Atomics.load(i32, index) : undefined;
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

/** Checks the data of a thread-tier token. */
export function readTokenData(data: unknown): TokenData {
  const d = data as Partial<TokenData> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    !(d.buffer instanceof SharedArrayBuffer) ||
    !(d.registry instanceof SharedArrayBuffer) ||
    typeof d.byteOffset !== 'number'
  ) {
    throw new TypeError(
      'expected { buffer: SharedArrayBuffer, byteOffset: number, registry: SharedArrayBuffer }',
    );
  }
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
  const id = claim(i32, kind, home.id, () => init(i32));
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

/** Rebuilds a primitive from the data of its token, learning the token's registry first. */
export function attachData<T>(data: unknown, make: (placement: Placement) => T): T {
  const d = readTokenData(data);
  OwnerRegistry.of(d.registry);
  return make({ buffer: d.buffer, byteOffset: d.byteOffset });
}
