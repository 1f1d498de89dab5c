/**
 * How a thread-tier queue comes to be: its options validated and its shared
 * store made, or its store opened from a share token in another thread; and
 * the registry of queue classes (their order and token kind).
 */
import {
  type Codec,
  type CodecName,
  getCodec,
  registerKind,
  resolveCodec,
  TokenError,
} from '@conc/serialize';
import { checkFunction, checkInt, checkOptions, checkToken, describeValue } from '@conc/serialize/internal';
import { defaultPriority, encodePriority } from '../core/priority-key.js';
import { ARENA_START, Kind, MAX_CAPACITY, MAX_KEY_BYTES } from '../engine/layout.js';
import { Store } from '../engine/store.js';

/** Options every thread-tier queue takes. */
export interface BaseQueueOptions {
  /**
   * How items become bytes: a codec object, or the name of one of
   * `@conc/serialize`'s codecs. Every thread that attaches the queue decodes
   * with the codec of the same name.
   * @default the default codec (MessagePack, structured-clone mode: Map, Set, Date, BigInt, typed arrays, cycles)
   * @example
   * ```ts
   * new Queue({ codec: 'json' });
   * ```
   */
  codec?: Codec | CodecName;
  /**
   * The most memory the queue may use, in bytes: its shared buffer grows on
   * demand up to this size. When items fill it, `put` waits for room as it does
   * for `maxsize`; an item that could never fit fails at once with
   * `ItemTooLargeError`.
   * @default 268435456 (256 MiB)
   * @example
   * ```ts
   * new Queue({ capacityBytes: 1024 ** 3 }); // room for big items
   * ```
   */
  capacityBytes?: number;
}

const DEFAULT_CAPACITY = 256 * 1024 * 1024;
// 68 KiB of arena: a free-list class midpoint, so a queue that stays nearly empty does not
// flip its one free block between two classes on every put and get.
const INITIAL_BYTES = ARENA_START + 68 * 1024;

/** How a queue is built: a fresh store, or one attached from a token. */
export interface QueueSetup {
  readonly store: Store;
  readonly codec: Codec;
  /** Priority queues: item → encoded priority. */
  readonly keyOf?: ((item: never) => Uint8Array) | undefined;
  /** Priority queues: whether priorities come from a user key function (which cannot travel). */
  readonly keyed?: boolean;
}

/** Options of the static `attach(token, options)` of each queue class. */
export interface AttachOptions {
  /**
   * The codec to decode with, when the queue was made with a codec object that
   * this thread cannot find by name.
   * @default the codec named in the token
   */
  codec?: Codec | CodecName;
}

/**
 * The setup of the queue {@link fromSetup} is building: its constructor takes
 * it instead of reading options (set and cleared around that one `new`).
 */
let attaching: QueueSetup | undefined;

/** Each queue class: its order and its share-token kind (see {@link defineQueueClass}). */
const classes = new Map<unknown, { kind: Kind; token: string }>();

/** The share-token kind of a queue instance's class. */
export function kindName(q: object): string {
  const c = classOf(Object.getPrototypeOf(q)?.constructor);
  if (c === undefined) throw new TypeError('share: not a conc queue');
  return c.token;
}

/** The registration of `cls` or of its nearest registered superclass. */
function classOf(cls: unknown): { kind: Kind; token: string } | undefined {
  for (let c = cls as object | null; c; c = Object.getPrototypeOf(c)) {
    const found = classes.get(c);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Validates the options and makes the shared store (or takes the one being attached). */
export function setup(kind: Kind, where: string, options: object | undefined): QueueSetup {
  const attached = attaching;
  if (attached !== undefined) {
    attaching = undefined;
    return attached;
  }
  const o = (checkOptions(where, options, '{ maxsize, capacityBytes, codec }') ?? {}) as BaseQueueOptions & {
    maxsize?: unknown;
    key?: unknown;
  };
  const maxsize = checkMaxsize(where, o.maxsize ?? 0);
  const capacity = checkInt(
    where,
    'capacityBytes',
    o.capacityBytes ?? DEFAULT_CAPACITY,
    INITIAL_BYTES,
    MAX_CAPACITY,
  );
  const codec = withWhere(where, () => resolveCodec(o.codec));
  const key = checkFunction<KeyFn>(where, 'key', o.key);
  const keyed = key !== undefined;
  const store = Store.create({ kind, maxsize, capacity, initial: INITIAL_BYTES });
  return {
    codec,
    store,
    keyed,
    keyOf: kind === Kind.PRIORITY ? priorityKeyOf(key) : undefined,
  };
}

/** Python's maxsize: any integer, 0 or less meaning unbounded (held as 0). */
function checkMaxsize(where: string, maxsize: unknown): number {
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize) || maxsize > 0x7fffffff) {
    const message = `${where}: maxsize must be an integer up to ${0x7fffffff} (0 or less: unbounded), got ${describeValue(maxsize)}`;
    throw typeof maxsize === 'number' ? new RangeError(message) : new TypeError(message);
  }
  return Math.max(0, maxsize);
}

type KeyFn = (item: unknown) => unknown;

function withWhere<R>(where: string, fn: () => R): R {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) throw new TypeError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

function priorityKeyOf(key: KeyFn | undefined): (item: never) => Uint8Array {
  return (item) => {
    const bytes = encodePriority(key ? key(item) : defaultPriority(item));
    if (bytes.length > MAX_KEY_BYTES) {
      throw new RangeError(
        `PriorityQueue: a priority encodes to ${bytes.length} bytes; the limit is ${MAX_KEY_BYTES}`,
      );
    }
    return bytes;
  };
}

function refuseUnkeyed(): never {
  throw new TypeError(
    'PriorityQueue: this queue orders items by a key function, which cannot travel between threads; attach it with PriorityQueue.attach(token, { key })',
  );
}

/**
 * Rebuilds the setup of a queue from its share token's data, in another
 * thread. Data that `share()` cannot have made is a `TokenError` saying what
 * was found; a wrong option of this side's is a `TypeError`.
 */
export function attachSetup(
  kind: Kind,
  data: unknown,
  options: (AttachOptions & { key?: unknown }) | undefined,
): QueueSetup {
  const o = checkOptions('attach', options, '{ codec, key }');
  const d = data as { buffer?: unknown; codec?: unknown; keyed?: unknown; registry?: unknown } | null;
  if (typeof d !== 'object' || d === null) {
    throw new TokenError(
      `attach: malformed queue token: expected { buffer, codec, keyed, registry } from share(), got ${describeValue(d)}`,
    );
  }
  if (typeof d.codec !== 'string') {
    throw new TokenError(
      `attach: malformed queue token: its codec must be a codec name, got ${describeValue(d.codec)}`,
    );
  }
  let store: Store;
  try {
    store = Store.open(d.buffer, kind, d.registry);
  } catch (err) {
    throw new TokenError(`attach: ${(err as Error).message}`, { cause: err });
  }
  if (typeof d.keyed !== 'boolean') {
    throw new TokenError(
      `attach: malformed queue token: keyed must be a boolean, got ${describeValue(d.keyed)}`,
    );
  }
  let codec: Codec;
  if (o?.codec !== undefined) codec = withWhere('attach', () => resolveCodec(o.codec));
  else {
    try {
      codec = getCodec(d.codec);
    } catch {
      throw new TypeError(
        `the queue's codec "${d.codec}" is not known in this thread; pass it: attach(token, { codec })`,
      );
    }
  }
  const keyed = d.keyed;
  const key = checkFunction<KeyFn>('attach', 'key', o?.key);
  let keyOf: ((item: never) => Uint8Array) | undefined;
  if (kind === Kind.PRIORITY) {
    if (keyed !== (key !== undefined)) {
      if (key !== undefined)
        throw new TypeError('attach: this PriorityQueue takes priorities from its items, not a key');
      keyOf = refuseUnkeyed;
    } else keyOf = priorityKeyOf(key);
  }
  return { store, codec, keyed, keyOf };
}

/** The `data` of a token of the expected kind. */
export function tokenData(token: unknown, kind: string): unknown {
  checkToken('attach', token, kind);
  return token.data;
}

/** The order of the class being constructed (Queue, or a subclass that registered its own). */
export function kindOf(target: unknown): Kind {
  return classOf(target)?.kind ?? Kind.FIFO;
}

/** Registers a queue class: its order and its share-token kind (`queue.thread.<Name>`). */
export function defineQueueClass(
  cls: abstract new (...args: never[]) => object,
  kind: Kind,
  name: string,
  attach: (data: unknown) => unknown,
): void {
  const token = `queue.thread.${name}`;
  classes.set(cls, { kind, token });
  registerKind({ kind: token, attach, Class: cls });
}

/** Builds a queue of class `cls` around an attached setup. */
export function fromSetup<Q>(cls: new () => Q, init: QueueSetup): Q {
  attaching = init;
  try {
    return new cls();
  } finally {
    attaching = undefined;
  }
}
