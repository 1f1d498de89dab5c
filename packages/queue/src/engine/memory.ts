/**
 * The queue's shared memory and its internal lock.
 *
 * Every critical section is a transaction: each Int32 word it changes goes
 * through {@link QueueMemory.write}, which first records `[index, old value]` in an
 * undo log inside the buffer. A section commits by emptying the log and then
 * releasing the lock. So a thread that stops anywhere inside a section (a
 * worker terminated by `worker.terminate()`, or an exception) leaves a log
 * that the next holder replays backwards: the queue is as if the section
 * never started.
 *
 * Liveness by identity, never by time: the lock is `@conc/lock`'s robust
 * mutex (engine/robust-mutex.ts) on one word holding the holder's tag in the
 * registry of live threads (0 when free; bit 30 while a waiter may be
 * parked). A waiter takes the lock over only from a holder the registry knows
 * is dead (its thread terminated or ended, or, probed by the engine while this
 * thread is blocked, a worker of its own that has stopped): a
 * compare-and-swap, so exactly one waiter does, and it rolls the dead
 * holder's section back. A holder that is alive but stalled
 * (GC, a debugger, a starved or stopped process) is waited for however long
 * it takes, so nobody ever runs over a live holder's section, and a holder
 * never has to check that it still holds the lock.
 *
 * Memory model: a log entry and the log length are stored before the word
 * itself. A terminated thread stops only at an interrupt check (a call or a
 * loop back-edge), never between those stores, so a holder that dies leaves a
 * log that covers every word it changed (at worst one entry restoring a value
 * it never changed). Its death reaches the registry after its thread stopped,
 * and the registry's atomics and the lock's compare-and-swap order all of it
 * for the next holder.
 */
import { threadId } from 'node:worker_threads';
import {
  atomicsWaitWake,
  BUSY,
  give,
  type OwnerRegistry,
  spinWhile,
  TAG_MASK,
  take,
  threadEngine,
  tryTake,
} from '@conc/lock/internal';
import { FOREVER } from '@conc/serialize/internal';
import { Header, LOG_AREA, LOG_CAP, LOG_SLOT_WORDS, LOG_SLOTS } from './layout.js';

/** Tries at the lock word before the slow path. */
const LOCK_SPINS = 256;

/** Each time the lock changes hands, how long a thread keeps watching it before it parks, in ms. */
const LOCK_SPIN_MS = Number(process.env.CONC_QUEUE_LOCK_SPIN_US ?? 20) / 1000;

/** Internal invariant broken: a bug, not a user error. */
export class QueueCorruptError extends Error {
  override readonly name = 'QueueCorruptError';
}

export class QueueMemory {
  readonly sab: SharedArrayBuffer;
  /** Who is alive: the registry the queue's holders are tagged in. */
  readonly registry: OwnerRegistry;
  /** Fixed-length views (length-tracking views of a growable buffer are ~5x slower), refreshed after growth. */
  i32: Int32Array;
  u8: Uint8Array;
  viewEnd = 0;
  /** This thread's tag in {@link registry}: the lock word's value while it holds the lock (0 while solo). */
  private me = 0;
  /** True while this thread is inside a section. */
  private holding = false;
  /** Sections this thread has entered: tells one section from the next (see Store.detach). */
  section = 0;
  /**
   * No other thread can reach the buffer yet (the queue was made here and not
   * shared): sections skip the lock's atomics, which only guard against other
   * threads. (They still keep their undo log, so a section that throws is
   * rolled back.) Ends, for good, with {@link share} (never inside a section).
   */
  solo = false;
  /** Undo entries written by the section in progress. */
  private logN = 0;
  /** This thread's undo-log slot, its entry-count word and its first entry. */
  private readonly slot = threadId % LOG_SLOTS;
  private readonly logLen = LOG_AREA + (threadId % LOG_SLOTS) * LOG_SLOT_WORDS;
  private readonly logBase = this.logLen + 16;
  constructor(sab: SharedArrayBuffer, registry: OwnerRegistry, solo: boolean) {
    this.sab = sab;
    this.registry = registry;
    this.i32 = new Int32Array(0);
    this.u8 = new Uint8Array(0);
    this.refresh();
    this.solo = solo;
    if (!solo) this.me = registry.me;
  }

  /** From now on other threads may use the buffer: every section takes the lock, tagged with this thread. */
  share(): void {
    if (!this.solo) return;
    this.me = this.registry.me;
    this.solo = false;
  }

  refresh(): void {
    const end = this.sab.byteLength;
    this.i32 = new Int32Array(this.sab, 0, end >> 2);
    this.u8 = new Uint8Array(this.sab, 0, end);
    this.viewEnd = end;
  }

  /**
   * Writes a header or block word inside a section, logging its old value
   * first. A plain store publishes the log length: a terminated thread stops
   * only at interrupt checks (calls, loop back-edges), never between two of
   * these stores.
   */
  write(i: number, v: number): void {
    const a = this.i32;
    const old = a[i]!;
    if (old === v) return;
    const n = this.logN;
    if (n >= LOG_CAP) throw new QueueCorruptError('queue: a critical section overflowed its undo log');
    const e = this.logBase + 2 * n;
    a[e] = i;
    a[e + 1] = old;
    a[this.logLen] = this.logN = n + 1;
    a[i] = v;
  }

  /** Undo-log entries still free in this section. */
  logRoom(): number {
    return LOG_CAP - this.logN;
  }

  /** Enters a section: takes the lock (waiting for a live holder, taking over from a dead one). */
  acquire(): void {
    this.section++;
    this.logN = 0;
    this.holding = true;
    const a = this.i32;
    if (this.solo) {
      if (a[Header.END]! > this.viewEnd) this.refresh();
      return;
    }
    const me = this.me;
    for (let spin = 0; spin < LOCK_SPINS; spin++) {
      // A plain read is only a guess at the value; the compare-and-swap decides.
      if (a[Header.LOCK] === 0 && Atomics.compareExchange(a, Header.LOCK, 0, me) === 0) {
        a[Header.LOG_SLOT] = this.slot;
        if (a[Header.END]! > this.viewEnd) this.refresh();
        return;
      }
    }
    this.acquireSlow();
  }

  /**
   * The lock is held. Sections never wait, so a holder that runs frees it
   * within a microsecond or so: each time the word changes hands, watch it up
   * to {@link LOCK_SPIN_MS} more before paying for a park (and the holder for
   * a wake-up call). Then the robust mutex's take on the engine, which parks
   * in slices; either way a dead holder is taken over.
   */
  private acquireSlow(): void {
    const a = this.i32;
    const me = this.me;
    const registry = this.registry;
    let dead: number;
    for (;;) {
      const held = Atomics.load(a, Header.LOCK);
      if (held !== 0 && (held & TAG_MASK) === me) {
        // A section of this thread's that ended without releasing: its own to roll back
        // (the word keeps its contended bit, so the release still wakes a parked waiter).
        dead = me;
        break;
      }
      dead = tryTake(a, Header.LOCK, me, registry, false);
      if (dead !== BUSY) break;
      if (!spinWhile(a, Header.LOCK, held, LOCK_SPIN_MS)) {
        dead = threadEngine.blockOn(take(a, Header.LOCK, me, registry, FOREVER, true, 'queue'));
        break;
      }
    }
    if (a[Header.END]! > this.viewEnd) this.refresh();
    if (dead !== 0) this.recover();
    a[Header.LOG_SLOT] = this.slot;
  }

  /**
   * Rolls back the section of a holder that died; called by the thread that
   * took the lock over. A holder that died before naming its slot had logged
   * nothing, and the slot named then is an earlier holder's, already empty.
   */
  private recover(): void {
    const a = this.i32;
    const slot = a[Header.LOG_SLOT]!;
    if (slot >= 0 && slot < LOG_SLOTS) this.undo(LOG_AREA + slot * LOG_SLOT_WORDS);
  }

  /** Replays a slot's log backwards and empties it. */
  private undo(logLen: number): void {
    const a = this.i32;
    const base = logLen + 16;
    for (let k = Math.min(Atomics.load(a, logLen), LOG_CAP) - 1; k >= 0; k--) {
      const e = base + 2 * k;
      a[a[e]!] = a[e + 1]!;
    }
    Atomics.store(a, logLen, 0);
    this.logN = 0;
  }

  /** Commits the section and releases the lock. */
  commit(): void {
    const a = this.i32;
    if (this.logN !== 0) {
      a[this.logLen] = 0;
      this.logN = 0;
    }
    this.holding = false;
    if (this.solo) return;
    give(a, Header.LOCK, atomicsWaitWake);
  }

  /** Ends a section that threw: rolls it back and releases the lock (the caller rethrows). */
  rollback(): void {
    if (!this.holding) return;
    this.undo(this.logLen);
    this.commit();
  }

  /** Runs `fn` as one critical section, rolled back if it throws. (The hot paths inline this.) */
  run<R>(fn: (a: Int32Array) => R): R {
    this.acquire();
    try {
      const r = fn(this.i32);
      this.commit();
      return r;
    } catch (err) {
      this.rollback();
      throw err;
    }
  }
}
