/**
 * The queue's shared state and its operations on encoded items, each one a
 * short critical section (see memory.ts). Payload bytes are copied into a block
 * inside the section when small, or between two sections when large, and an
 * item becomes visible only when it is linked into the order, so a half-written
 * item is never seen. Consumers copy an item out after the section that took it
 * and hand the block back (see recycler.ts).
 */

import { OwnerRegistry } from '@conc/lock/internal';
import { alloc, blockSize, initArena } from './arena.js';
import { faults } from './faults.js';
import {
  ARENA_START,
  Header,
  ItemWord,
  Kind,
  LAYOUT_VERSION,
  LOG_ALLOC,
  LOG_FREE,
  LOG_HEAP,
  LOG_LINK_PLAIN,
  MAGIC,
  PLAIN_HEADER,
  PRIORITY_HEADER,
} from './layout.js';
import { QueueMemory } from './memory.js';
import { fifo, heap, lifo, type Order } from './order.js';
import { DRAIN_SOME, Recycler } from './recycler.js';

/** How a put section ended: every item in, or why it stopped early. */
export type PutOutcome = 'done' | 'full' | 'shut-down' | 'again';
/**
 * How a take section ended: items taken (see {@link Store.taken}), none there,
 * or shut down (and empty, or shut down immediately).
 */
export type TakeOutcome = 'taken' | 'empty' | 'shut-down';
/** A block reserved for a large item, or why there is none: full, shut down, or try again now. */
export type Reservation = number | 'full' | 'shut-down' | 'again';

/**
 * Encoded items on their way in, and how far they got: item `i` is
 * `bytes[i]` from `start[i]` to `end[i]`, with priority key `keys?.[i]`; the
 * first {@link done} are in the queue.
 */
export interface Batch {
  readonly bytes: Uint8Array[];
  readonly start: number[];
  readonly end: number[];
  readonly keys: (Uint8Array | undefined)[] | undefined;
  done: number;
}

/** A batch of whole arrays (each item the whole of its `bytes`). */
export function batchOf(bytes: Uint8Array[], keys: (Uint8Array | undefined)[] | undefined): Batch {
  return { bytes, start: bytes.map(() => 0), end: bytes.map((b) => b.length), keys, done: 0 };
}

/** Items up to this many bytes are copied inside the critical section. */
export const INLINE_MAX = 4096;
const align8 = (n: number) => (n + 7) & ~7;

export interface StoreInit {
  kind: Kind;
  maxsize: number;
  capacity: number;
  initial: number;
}

export class Store {
  readonly s: QueueMemory;
  readonly kind: Kind;
  readonly maxsize: number;
  /** Bytes of bookkeeping before an item's key and payload. */
  readonly header: number;
  /** Largest `key + payload` that can ever fit. */
  readonly maxItem: number;
  /** Offsets of the blocks the last take() unlinked: the first {@link takenCount}. */
  readonly taken: number[] = [];
  takenCount = 0;
  private readonly order: Order;
  private readonly tasks: boolean;
  private readonly linkCost: number;
  private readonly recycler: Recycler;
  /** An allocation of the section in progress could not reuse a released block as it was. */
  private allocated = false;

  private constructor(sab: SharedArrayBuffer, registry: OwnerRegistry, solo: boolean) {
    this.s = new QueueMemory(sab, registry, solo);
    const a = this.s.i32;
    this.kind = (a[Header.KIND]! & 0xff) as Kind;
    this.maxsize = a[Header.MAXSIZE]!;
    this.header = this.kind === Kind.PRIORITY ? PRIORITY_HEADER : PLAIN_HEADER;
    this.maxItem = a[Header.CAPACITY]! - ARENA_START - this.header;
    this.order = this.kind === Kind.PRIORITY ? heap : this.kind === Kind.LIFO ? lifo : fifo;
    this.tasks = this.kind !== Kind.SIMPLE;
    this.linkCost = LOG_ALLOC + (this.kind === Kind.PRIORITY ? LOG_HEAP : LOG_LINK_PLAIN) + 8;
    this.recycler = new Recycler(this.s, this.linkCost);
  }

  static create(init: StoreInit): Store {
    const capacity = init.capacity & ~7; // blocks are 8-byte multiples, up to the very end
    const initial = Math.min(capacity, Math.max(ARENA_START + 4096, init.initial)) & ~7;
    const sab = new SharedArrayBuffer(initial, { maxByteLength: capacity });
    const a = new Int32Array(sab);
    a[Header.MAGIC] = MAGIC;
    a[Header.KIND] = (LAYOUT_VERSION << 8) | init.kind;
    a[Header.MAXSIZE] = init.maxsize;
    a[Header.CAPACITY] = capacity;
    const registry = OwnerRegistry.home();
    a[Header.REGISTRY] = registry.id;
    initArena(a, ARENA_START, initial);
    return new Store(sab, registry, true); // solo until the queue is shared
  }

  /**
   * Opens a buffer made by {@link Store.create} (in any thread), with the
   * registry its holders are tagged in; refuses anything else.
   */
  static open(sab: unknown, kind: Kind, registryBuffer: unknown): Store {
    if (!(sab instanceof SharedArrayBuffer) || !sab.growable || sab.byteLength < ARENA_START) {
      throw new TypeError(
        'not a conc queue buffer (expected the growable SharedArrayBuffer of a share() token)',
      );
    }
    const a = new Int32Array(sab, 0, 8);
    if (a[Header.MAGIC] !== MAGIC) throw new TypeError('not a conc queue buffer (bad magic word)');
    if (a[Header.KIND]! >> 8 !== LAYOUT_VERSION) {
      throw new TypeError(
        `conc queue buffer of layout version ${a[Header.KIND]! >> 8}; this copy reads ${LAYOUT_VERSION}`,
      );
    }
    if ((a[Header.KIND]! & 0xff) !== kind) throw new TypeError('the buffer holds a different kind of queue');
    if (!(registryBuffer instanceof SharedArrayBuffer)) {
      throw new TypeError('not a conc queue token (expected the owner registry of a share() token)');
    }
    const registry = OwnerRegistry.of(registryBuffer);
    if (registry.id !== a[Header.REGISTRY]) {
      throw new TypeError("the token's owner registry is not the one the queue's holders are tagged in");
    }
    return new Store(sab, registry, false);
  }

  /** The owner registry's memory, for share tokens. */
  get registryBuffer(): SharedArrayBuffer {
    return this.s.registry.buffer;
  }

  /** The buffer, to send to another thread: from now on every section takes the lock and keeps its undo log. */
  get sab(): SharedArrayBuffer {
    this.s.share();
    return this.s.sab;
  }

  count(): number {
    return Atomics.load(this.s.i32, Header.COUNT);
  }

  usedBytes(): number {
    return Atomics.load(this.s.i32, Header.USED);
  }

  state(): number {
    return Atomics.load(this.s.i32, Header.STATE);
  }

  // ---- put ------------------------------------------------------------------

  /**
   * Puts the items of `batch` from `batch.done` up to `to` (each at most
   * INLINE_MAX bytes) in one section, in order, advancing `batch.done`.
   * Returns 'done' when all of them went in, else why it stopped early.
   */
  put(batch: Batch, to: number): PutOutcome {
    const s = this.s;
    if (this.fullNow()) return 'full';
    s.acquire();
    this.allocated = false;
    try {
      const a = s.i32;
      const from = batch.done;
      let i = from;
      let outcome: PutOutcome = 'done';
      if (a[Header.STATE] !== 0) outcome = 'shut-down';
      else {
        const room = this.maxsize > 0 ? this.maxsize - a[Header.COUNT]! : Number.POSITIVE_INFINITY;
        const { bytes, start, end, keys } = batch;
        for (; i < to; i++) {
          if (i - from >= room) {
            outcome = 'full';
            break;
          }
          if (s.logRoom() < this.linkCost + 16) {
            outcome = 'again';
            break;
          }
          const key = keys?.[i];
          const first = start[i]!;
          const len = end[i]! - first;
          const b = this.allocItem(len, key ? key.length : 0);
          if (typeof b !== 'number') {
            outcome = b;
            break;
          }
          faults?.hit('put.fill');
          this.fill(b, bytes[i]!, first, len, key);
          faults?.hit('put.section');
          this.link(b);
        }
        if (i > from) this.counted(i - from);
        // Released blocks an allocation could not reuse are freed a few at a time.
        if (this.allocated) this.recycler.drain(DRAIN_SOME);
      }
      s.commit();
      batch.done = i;
      return outcome;
    } catch (err) {
      s.rollback();
      throw err;
    }
  }

  /**
   * Lock free, queue full, still open: a put would fail with FULL, so it can
   * say so without taking the lock (and holding up the getter that is making
   * room). As in {@link take}, a held lock may be a dead holder's whose section
   * must be rolled back first, and only the count's read must be ordered.
   */
  private fullNow(): boolean {
    if (this.maxsize === 0) return false;
    const a = this.s.i32;
    if (this.s.solo) return a[Header.COUNT]! >= this.maxsize && a[Header.STATE] === 0;
    return a[Header.LOCK] === 0 && Atomics.load(a, Header.COUNT) >= this.maxsize && a[Header.STATE] === 0;
  }

  /** Reserves an unlinked block for a large item (filled outside the lock). */
  reserve(len: number, keyLen: number): Reservation {
    return this.s.run((a) => {
      if (a[Header.STATE] !== 0) return 'shut-down';
      if (this.maxsize > 0 && a[Header.COUNT]! >= this.maxsize) return 'full';
      this.recycler.drain(DRAIN_SOME);
      return this.allocItem(len, keyLen);
    });
  }

  /** Copies a large item into its reserved block, outside the lock. */
  fillReserved(b: number, bytes: Uint8Array, key: Uint8Array | undefined): void {
    if (faults?.point === 'put.copy') {
      // Stop half way through the payload, as a worker terminated mid-copy would.
      this.fill(b, bytes, 0, bytes.length >> 1, key);
      faults.hit('put.copy');
    }
    this.fill(b, bytes, 0, bytes.length, key);
  }

  /** Links a filled reserved block: 'done', 'full' (block kept) or 'shut-down' (block freed). */
  commitReserved(b: number): 'done' | 'full' | 'shut-down' {
    return this.s.run((a) => {
      if (a[Header.STATE] !== 0) {
        this.recycler.freeItem(b);
        return 'shut-down';
      }
      if (this.maxsize > 0 && a[Header.COUNT]! >= this.maxsize) return 'full';
      this.link(b);
      this.counted(1);
      return 'done';
    });
  }

  /** Gives back a reserved block that will not be linked (the put gave up). */
  discardReserved(b: number): void {
    this.s.run(() => this.recycler.freeItem(b));
  }

  /** An item block for `keyLen + len` bytes: reused, allocated, or why not ('full', or 'again' once released blocks are freed). */
  private allocItem(len: number, keyLen: number): number | 'full' | 'again' {
    const s = this.s;
    const size = align8(this.header + keyLen + len);
    const r = this.recycler.reuse(size);
    if (r === 0) this.allocated = true;
    else {
      // Still allocated and counted in USED: only the item words change.
      const w = r >> 2;
      s.write(w + ItemWord.LEN, len);
      if (this.kind === Kind.PRIORITY) s.write(w + ItemWord.RANK_KEY, keyLen << 8);
      return r;
    }
    let b = alloc(s, size);
    if (b === 0) {
      // Free what consumers handed back, as much as this section's log allows, then try again.
      if (this.recycler.drain(Number.POSITIVE_INFINITY) > 0) b = alloc(s, size);
      if (b === 0) {
        const a = s.i32;
        // Blocks this handle still holds go back first, for the retry to free.
        if (this.recycler.flushReleased()) return 'again';
        return a[Header.DRAIN] !== 0 || Atomics.load(a, Header.RELEASED) !== 0 ? 'again' : 'full';
      }
    }
    const w = b >> 2;
    s.write(w + ItemWord.LEN, len);
    if (this.kind === Kind.PRIORITY) s.write(w + ItemWord.RANK_KEY, keyLen << 8);
    s.write(Header.USED, s.i32[Header.USED]! + blockSize(s.i32, b));
    return b;
  }

  /** Copies an item's key and `src[first, first + len)` into block `b`. */
  private fill(b: number, src: Uint8Array, first: number, len: number, key: Uint8Array | undefined): void {
    const u8 = this.s.u8;
    let at = b + this.header;
    if (key !== undefined) {
      u8.set(key, at);
      at += key.length;
    }
    // A loop beats set() for the small items that dominate.
    if (len <= 128) for (let k = 0; k < len; k++) u8[at + k] = src[first + k]!;
    else u8.set(first === 0 && len === src.length ? src : src.subarray(first, first + len), at);
  }

  private link(b: number): void {
    const s = this.s;
    if (this.kind === Kind.PRIORITY) {
      const a = s.i32;
      const lo = a[Header.SEQ_LO]!;
      s.write((b >> 2) + ItemWord.SEQ_LO, lo);
      s.write((b >> 2) + ItemWord.SEQ_HI, a[Header.SEQ_HI]!);
      s.write(Header.SEQ_LO, (lo + 1) | 0);
      if (lo === -1) s.write(Header.SEQ_HI, (a[Header.SEQ_HI]! + 1) | 0);
    }
    this.order.push(s, b);
  }

  private counted(added: number): void {
    const s = this.s;
    const a = s.i32;
    s.write(Header.COUNT, a[Header.COUNT]! + added);
    if (this.tasks) s.write(Header.UNFINISHED, a[Header.UNFINISHED]! + added);
  }

  // ---- get ------------------------------------------------------------------

  /**
   * Unlinks up to `max` items: 'taken' (the first {@link takenCount} of
   * {@link taken}), 'empty', or 'shut-down' (shut down and empty, or shut down
   * immediately).
   */
  take(max: number): TakeOutcome {
    const s = this.s;
    const taken = this.taken;
    // Lock free, nothing queued, still open: EMPTY without taking the lock. (A putter's count
    // is visible here by the time it looks for waiters to wake, so no wake-up is lost; a held
    // lock may be a dead holder's whose section must be rolled back first, so that goes the long way.)
    const a0 = s.i32;
    if (s.solo) {
      if (a0[Header.COUNT] === 0 && a0[Header.STATE] === 0) return 'empty';
    } else if (
      // Only the count's read must be ordered (after a waiter counted itself); the others may be plain.
      a0[Header.LOCK] === 0 &&
      Atomics.load(a0, Header.COUNT) === 0 &&
      a0[Header.STATE] === 0
    ) {
      return 'empty';
    }
    s.acquire();
    try {
      const a = s.i32;
      const state = a[Header.STATE]!;
      let n = 0;
      let outcome: TakeOutcome = 'taken';
      if (state === 2) outcome = 'shut-down';
      else if (a[Header.COUNT] === 0) outcome = state === 0 ? 'empty' : 'shut-down';
      else {
        const cost = this.kind === Kind.PRIORITY ? LOG_HEAP : 4;
        while (n < max && s.logRoom() > cost + 8) {
          const b = this.order.pop(s);
          if (b === 0) break;
          taken[n++] = b;
        }
        const left = a[Header.COUNT]! - n;
        s.write(Header.COUNT, left);
        faults?.hit('get.section');
        this.recycler.afterTake(n);
      }
      s.commit();
      this.takenCount = n;
      return outcome;
    } catch (err) {
      s.rollback();
      throw err;
    }
  }

  /** Payload length of an item block. */
  lengthOf(b: number): number {
    return this.s.i32[(b >> 2) + ItemWord.LEN]!;
  }

  /** Copies the payload of a taken block into the start of `into` (at least {@link lengthOf} long); returns its length. */
  copyOut(b: number, into: Uint8Array): number {
    const s = this.s;
    const a = s.i32;
    const w = b >> 2;
    const len = a[w + ItemWord.LEN]!;
    const start = b + this.header + (this.kind === Kind.PRIORITY ? a[w + ItemWord.RANK_KEY]! >>> 8 : 0);
    const u8 = s.u8;
    if (len <= 64) for (let k = 0; k < len; k++) into[k] = u8[start + k]!;
    else into.set(u8.subarray(start, start + len));
    return len;
  }

  /** Hands the first `n` taken blocks back (lock-free; see Recycler.release). */
  release(blocks: readonly number[], n: number): void {
    this.recycler.release(blocks, n);
  }

  // ---- tasks and shutdown ---------------------------------------------------

  /** Marks `n` tasks done; returns the unfinished count left, or 'too-often' (nothing changed). */
  taskDone(n: number): number | 'too-often' {
    return this.s.run((a) => {
      const u = a[Header.UNFINISHED]!;
      if (u < n) return 'too-often';
      this.s.write(Header.UNFINISHED, u - n);
      return u - n;
    });
  }

  /** Unfinished tasks, read under the lock (a consistent value, not a racy snapshot). */
  unfinished(): number {
    return this.s.run((a) => a[Header.UNFINISHED]!);
  }

  /** Shuts the queue down; `immediate` also drops every item, counting each as done. */
  shutdown(immediate: boolean): void {
    const s = this.s;
    const state = immediate ? 2 : 1;
    // Dropping items goes in batches that fit a section's undo log.
    for (let more = true; more; ) {
      more = s.run((a) => {
        if (a[Header.STATE]! < state) s.write(Header.STATE, state);
        if (!immediate) return false;
        let n = 0;
        while (s.logRoom() > LOG_HEAP + LOG_FREE + 16) {
          const b = this.order.pop(s);
          if (b === 0) break;
          this.recycler.freeItem(b);
          n++;
        }
        if (n === 0) return false;
        s.write(Header.COUNT, a[Header.COUNT]! - n);
        if (this.tasks) s.write(Header.UNFINISHED, Math.max(0, a[Header.UNFINISHED]! - n));
        return a[Header.FIRST] !== 0;
      });
    }
  }

  // ---- wake-ups -------------------------------------------------------------

  /**
   * After a change waiters of `word` may want: bumps the word when anyone
   * waits (spinners watch it), and wakes up to `n` sleepers when any sleep.
   * Costs one load when nobody waits.
   */
  wake(word: number, waiters: number, n: number): void {
    const a = this.s.i32;
    if (this.s.solo ? a[waiters]! > 0 : Atomics.load(a, waiters) > 0) {
      Atomics.add(a, word, 1);
      if (Atomics.load(a, waiters + 1) > 0) Atomics.notify(a, word, n);
    }
  }

  /** After a shutdown or the last task done: bumps the word and wakes every sleeper. */
  wakeAll(word: number): void {
    const a = this.s.i32;
    Atomics.add(a, word, 1);
    Atomics.notify(a, word);
  }
}
