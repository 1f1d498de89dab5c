/**
 * Owner identity and thread liveness: the registry.
 *
 * A lock must know whether its holder is still alive, and threads can be
 * terminated at any instruction without running a line of JavaScript, so a
 * dying thread cannot be relied on to say goodbye. The registry is one small
 * SharedArrayBuffer per process (1023 slots of 16 bytes). Each thread that uses
 * a primitive takes a slot; its *tag* (slot index and a per-slot generation)
 * is what a lock stores as its owner. `isAlive(tag)` is one atomic load, so
 * waiters check it on every wake-up (they park in bounded slices).
 *
 * Who marks a slot dead:
 * - the thread that created the worker: every thread that has loaded this
 *   package listens to `process.on('worker')` and each new Worker's `'exit'`,
 *   and marks the worker's slot (and the slots of the workers *it* created,
 *   which Node terminates with it) dead. While that thread is itself blocked in
 *   a sync wait of ours it cannot run events, so it also probes its workers
 *   synchronously on each wait slice;
 * - the thread itself, when it ends on its own (end of script, `process.exit`,
 *   uncaught exception), from its `process.on('exit')`.
 *
 * Identity: Node never reuses a `threadId` inside one process, and a slot is
 * reused only with the next generation of a 20-bit counter that starts at a
 * random value, so a stale tag never matches a live thread (it would take a
 * million reuses of one slot while a lock still held the old tag).
 *
 * The registry travels to workers automatically as environment data
 * (`setEnvironmentData`) and inside every token, so all threads of a process
 * normally share one. Every copy of this package in a thread (ESM and CJS, two
 * versions) shares the per-thread state through a global symbol.
 */
import {
  getEnvironmentData,
  isMainThread,
  setEnvironmentData,
  threadId,
  type Worker,
} from 'node:worker_threads';
import { LockCapacityError } from '../core/errors.js';
import { type Liveness, TAG_MASK } from '../engine/liveness.js';

const ENV_REGISTRY = 'conc.lock.registry/1';
const ENV_PARENT = 'conc.lock.parentThreadId/1';
const STATE_KEY = Symbol.for('conc.lock.threadState/1');

const MAGIC = 0x636e5247; // 'cnRG'
const H_MAGIC = 0;
const H_ID = 1;
const H_CAPACITY = 2;
const H_CURSOR = 3;
const HEADER_WORDS = 8;
const SLOT_WORDS = 4;
const S_LIFE = 0;
const S_THREAD = 1;
const S_PARENT = 2;
const S_NONCE = 3;

/** Slots in a registry; the last one is reserved for {@link ABANDONED}. */
const SLOTS = 1024;
const GEN_BITS = 20;
const GEN_MASK = (1 << GEN_BITS) - 1;
const ALIVE = 1 << GEN_BITS;
const DEAD = 2 << GEN_BITS;
const CLAIMING = 3 << GEN_BITS;
const STATE_MASK = 3 << GEN_BITS;

export { TAG_MASK };

/**
 * A tag that is never alive: a primitive handed back "still abandoned" stores
 * it, so the next acquirer takes over and is told, as from a dead thread.
 */
export const ABANDONED = ((SLOTS - 1) << GEN_BITS) | 1;

/** One registry as this thread sees it. */
interface RegistryRecord {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly id: number;
  /** This thread's tag in it; 0 until the thread first uses a primitive bound to it. */
  tag: number;
}

interface ThreadState {
  readonly home: RegistryRecord;
  readonly registries: Map<number, RegistryRecord>;
  /** Workers this thread created, with the threadId they had. */
  readonly children: Map<Worker, number>;
  readonly parentThreadId: number;
  lastProbe: number;
}

function randomInt32(): number {
  return crypto.getRandomValues(new Int32Array(1))[0]!;
}

function createRegistry(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer((HEADER_WORDS + SLOTS * SLOT_WORDS) * 4);
  const i32 = new Int32Array(buffer);
  // Positive: a header word that could be negative would look like a creation claim (layout.ts).
  let id = 0;
  while (id === 0) id = randomInt32() & 0x7fffffff;
  i32[H_ID] = id;
  i32[H_CAPACITY] = SLOTS - 1;
  i32[H_MAGIC] = MAGIC;
  return buffer;
}

function recordOf(buffer: SharedArrayBuffer): RegistryRecord {
  const i32 = new Int32Array(buffer);
  if (buffer.byteLength !== (HEADER_WORDS + SLOTS * SLOT_WORDS) * 4 || Atomics.load(i32, H_MAGIC) !== MAGIC) {
    throw new TypeError('not a @conc/lock owner registry');
  }
  return { buffer, i32, id: Atomics.load(i32, H_ID), tag: 0 };
}

function threadState(): ThreadState {
  const g = globalThis as unknown as Record<symbol, ThreadState | undefined>;
  const existing = g[STATE_KEY];
  if (existing) return existing;
  const inherited = getEnvironmentData(ENV_REGISTRY);
  const parent = getEnvironmentData(ENV_PARENT);
  const home = recordOf(inherited instanceof SharedArrayBuffer ? inherited : createRegistry());
  const state: ThreadState = {
    home,
    registries: new Map([[home.id, home]]),
    children: new Map(),
    parentThreadId: typeof parent === 'number' && !isMainThread ? parent : -1,
    lastProbe: 0,
  };
  g[STATE_KEY] = state;
  // Workers created from now on inherit the registry and learn who supervises them.
  setEnvironmentData(ENV_REGISTRY, home.buffer);
  setEnvironmentData(ENV_PARENT, threadId);
  process.on('worker', (worker: Worker) => {
    const id = worker.threadId;
    state.children.set(worker, id);
    // The first reading caches the worker's loop start time; only after that does
    // a reading taken once the worker has stopped say so (idle time -1).
    worker.once('online', () => stoppedNow(worker));
    worker.once('exit', () => {
      state.children.delete(worker);
      markThreadDead(id);
    });
  });
  process.on('exit', () => {
    for (const r of state.registries.values()) {
      if (r.tag !== 0) markSlotDead(r, slotOf(r.tag));
    }
  });
  return state;
}

// Supervision must be in place before the first Worker is created, so it starts
// when the package loads, not when the first primitive is built.
threadState();

function slotOf(tag: number): number {
  return tag >>> GEN_BITS;
}

function base(slot: number): number {
  return HEADER_WORDS + slot * SLOT_WORDS;
}

function join(r: RegistryRecord, parentThreadId: number): number {
  const capacity = Atomics.load(r.i32, H_CAPACITY);
  const start = Atomics.load(r.i32, H_CURSOR);
  for (let n = 0; n < capacity; n++) {
    const slot = (start + n) % capacity;
    const at = base(slot);
    const life = Atomics.load(r.i32, at + S_LIFE);
    const state = life & STATE_MASK;
    if (life !== 0 && state !== DEAD) continue;
    const prevGen = life & GEN_MASK;
    const gen =
      life === 0 ? 1 + ((randomInt32() >>> 0) % (GEN_MASK - 1)) : prevGen === GEN_MASK ? 1 : prevGen + 1;
    if (Atomics.compareExchange(r.i32, at + S_LIFE, life, CLAIMING | gen) !== life) continue;
    Atomics.store(r.i32, at + S_THREAD, threadId);
    Atomics.store(r.i32, at + S_PARENT, parentThreadId);
    Atomics.store(r.i32, at + S_NONCE, randomInt32());
    Atomics.store(r.i32, at + S_LIFE, ALIVE | gen);
    Atomics.store(r.i32, H_CURSOR, (slot + 1) % capacity);
    return (slot << GEN_BITS) | gen;
  }
  throw new LockCapacityError(
    `@conc/lock: the owner registry is full (${capacity} live threads use conc primitives in this process)`,
  );
}

function markSlotDead(r: RegistryRecord, slot: number): boolean {
  const at = base(slot) + S_LIFE;
  const life = Atomics.load(r.i32, at);
  if ((life & STATE_MASK) !== ALIVE) return false;
  return Atomics.compareExchange(r.i32, at, life, DEAD | (life & GEN_MASK)) === life;
}

/**
 * Marks every slot of thread `id` dead in every registry this thread knows, and
 * the slots of threads it had created (Node terminates them with it).
 */
export function markThreadDead(id: number): void {
  const state = threadState();
  const dead = [id];
  while (dead.length > 0) {
    const t = dead.pop()!;
    for (const r of state.registries.values()) {
      const capacity = Atomics.load(r.i32, H_CAPACITY);
      for (let slot = 0; slot < capacity; slot++) {
        const at = base(slot);
        if ((Atomics.load(r.i32, at + S_LIFE) & STATE_MASK) !== ALIVE) continue;
        if (Atomics.load(r.i32, at + S_THREAD) === t) {
          markSlotDead(r, slot);
        } else if (Atomics.load(r.i32, at + S_PARENT) === t) {
          const child = Atomics.load(r.i32, at + S_THREAD);
          if (!dead.includes(child)) dead.push(child);
        }
      }
    }
  }
}

/**
 * Synchronous check of this thread's workers, for waits that block the event
 * loop (where `'exit'` events cannot run). Rate-limited; cheap when idle.
 */
export function probeChildren(): void {
  const state = threadState();
  if (state.children.size === 0) return;
  const now = performance.now();
  if (now - state.lastProbe < 20) return;
  state.lastProbe = now;
  for (const [worker, id] of state.children) {
    if (stoppedNow(worker)) {
      state.children.delete(worker);
      markThreadDead(id);
    }
  }
}

/**
 * True when `worker` has stopped, read synchronously: a stopped worker reports
 * an idle time of -1 before its 'exit' event can be delivered to this thread.
 * Undocumented, so only a fallback to the 'exit' event.
 */
function stoppedNow(worker: Worker): boolean {
  try {
    return worker.performance.eventLoopUtilization().idle === -1;
  } catch {
    return false;
  }
}

/**
 * The owner registry as primitives use it: this thread's owner tag, and
 * whether the thread behind a tag is alive. For packages building their own
 * shared-memory primitives (store `me` as the owner; a waiter that finds
 * `isAlive(owner)` false may take over).
 *
 * @example
 * ```ts
 * const registry = OwnerRegistry.home();
 * if (Atomics.compareExchange(word, 0, 0, registry.me) !== 0 && !registry.isAlive(Atomics.load(word, 0))) {
 *   // the holder died: take over
 * }
 * ```
 */
export class OwnerRegistry implements Liveness {
  readonly #r: RegistryRecord;

  private constructor(record: RegistryRecord) {
    this.#r = record;
  }

  /** The registry this thread creates primitives in. */
  static home(): OwnerRegistry {
    return new OwnerRegistry(threadState().home);
  }

  /** The registry in `buffer` (from a token), learning it if this thread has not seen it. */
  static of(buffer: SharedArrayBuffer): OwnerRegistry {
    const state = threadState();
    const r = recordOf(buffer);
    const known = state.registries.get(r.id);
    if (known) return new OwnerRegistry(known);
    state.registries.set(r.id, r);
    return new OwnerRegistry(r);
  }

  /** A registry this thread already knows, by id. */
  static byId(id: number): OwnerRegistry | undefined {
    const r = threadState().registries.get(id);
    return r ? new OwnerRegistry(r) : undefined;
  }

  /** Random id of the registry, stored in each primitive's header. */
  get id(): number {
    return this.#r.id;
  }

  /** The shared memory of the registry (what tokens carry). */
  get buffer(): SharedArrayBuffer {
    return this.#r.buffer;
  }

  /** This thread's tag: what a primitive stores as its owner. Joins on first use. */
  get me(): number {
    const r = this.#r;
    if (r.tag === 0) r.tag = join(r, threadState().parentThreadId);
    return r.tag;
  }

  /** True while the thread that got `tag` is alive (one atomic load). */
  isAlive(tag: number): boolean {
    const slot = tag >>> GEN_BITS;
    if (slot >= SLOTS - 1) return false;
    return Atomics.load(this.#r.i32, base(slot) + S_LIFE) === (ALIVE | (tag & GEN_MASK));
  }

  /** The threadId behind `tag`, or -1 once its slot has been reused. */
  holderId(tag: number): number {
    const slot = tag >>> GEN_BITS;
    if (slot >= SLOTS - 1) return -1;
    const at = base(slot);
    const id = Atomics.load(this.#r.i32, at + S_THREAD);
    return (Atomics.load(this.#r.i32, at + S_LIFE) & GEN_MASK) === (tag & GEN_MASK) ? id : -1;
  }
}
