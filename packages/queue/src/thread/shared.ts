/**
 * The queue's shared memory and its internal lock.
 *
 * Every critical section is a transaction: each Int32 word it changes goes
 * through {@link Shared.w}, which first records `[index, old value]` in an
 * undo log inside the buffer. A section commits by emptying the log and then
 * releasing the lock. So a thread that stops anywhere inside a section (a
 * worker terminated by `worker.terminate()`, or an exception) leaves a log
 * that the next holder replays backwards: the queue is as if the section
 * never started.
 *
 * A dead holder never releases the lock. Waiters park in short slices and
 * count how long the lock word has stayed the same while they were running;
 * after {@link STALE_MS} without progress one of them takes the lock over
 * (a compare-and-swap, so exactly one), rolls the log back, and carries on.
 * Sections last well under a microsecond and never wait, so only a dead (or
 * debugger-paused, or OS-starved) holder sits that long. A holder that was
 * merely stalled finds, at its next write, that the lock word moved on and
 * abandons its section (it was already rolled back) and retries it.
 *
 * Memory model: a log entry and the log length are stored before the word
 * itself. A terminated thread stops only at an interrupt check (a call or a
 * loop back-edge), never between those stores, so a holder that dies leaves a
 * log that covers every word it changed (at worst one entry restoring a value
 * it never changed). The lock's compare-and-swap orders all of it for the next
 * holder. The checks that the lock was not taken over read its word plainly
 * (`Atomics.load` costs ~10 ns a call in Node 20): a takeover comes only after
 * STALE_MS without progress, long after any plain read sees it.
 */
import { isMainThread, parentPort, threadId } from 'node:worker_threads';
import { H, LOG_AREA, LOG_CAP, LOG_SLOT_WORDS, LOG_SLOTS } from './layout.js';

/** Rounds of {@link pause} between two probes of a held lock. */
const PAUSE_N = 16;
/** Spins on the lock word before parking. */
const LOCK_SPINS = 256;
/** Length of one parked slice while waiting for the lock, in ms. */
const SLICE_MS = 25;
/** Lock held without progress for this long (counted while the waiter runs) → its holder is taken for dead. */
export const STALE_MS = 750;

/** After the first spins, how long a thread keeps spinning on a held lock before it parks, in ms. */
const LOCK_SPIN_MS = Number(process.env.CONC_QUEUE_LOCK_SPIN_US ?? 20) / 1000;

/** Spins until the lock word leaves `held` (true) or the clock passes `until` (false). */
/** Kept so the JIT cannot drop {@link pause}'s work. */
let pauseSink = 0;

/**
 * A few dozen nanoseconds of work that touches no shared memory: a waiter that
 * re-read the lock word at once would pull its cache line (which also holds
 * the state the holder is writing) away from the holder on every probe.
 */
function pause(n: number): void {
  let x = pauseSink;
  for (let k = 0; k < n; k++) x = Math.imul(x, 31) + k;
  pauseSink = x;
}

function spinLock(a: Int32Array, held: number, until: number): boolean {
  for (;;) {
    for (let k = 0; k < 64; k++) {
      if (Atomics.load(a, H.LOCK) !== held) return true;
      pause(PAUSE_N);
    }
    if (performance.now() >= until) return false;
  }
}

/** Thrown inside a section whose lock was taken over: the section was rolled back; retry it. */
export const USURPED: unique symbol = Symbol('conc.queue.usurped');

/** Internal invariant broken: a bug, not a user error. */
export class QueueCorruptError extends Error {
  override readonly name = 'QueueCorruptError';
}

export class Shared {
  readonly sab: SharedArrayBuffer;
  /** Fixed-length views (length-tracking views of a growable buffer are ~5x slower), refreshed after growth. */
  i32: Int32Array;
  u8: Uint8Array;
  viewEnd = 0;
  /** Lock word value while this thread holds the lock; 0 otherwise. */
  held = 0;
  /**
   * No other thread can reach the buffer yet (the queue was made here and not
   * shared): sections skip the lock's atomics and the takeover checks, which
   * only guard against other threads. (They still keep their undo log, so a
   * section that throws is rolled back.) Cleared, for good, when the buffer is
   * first handed out to be sent to another thread (never inside a section).
   */
  solo = false;
  /** Undo entries written by the section in progress. */
  private logN = 0;
  /** This thread's undo-log slot, its entry-count word and its first entry. */
  private readonly slot = threadId % LOG_SLOTS;
  private readonly logLen = LOG_AREA + (threadId % LOG_SLOTS) * LOG_SLOT_WORDS;
  private readonly logBase = this.logLen + 16;
  /** Fault-test hook point, from `CONC_QUEUE_CRASH_AT` (worker threads only). */
  readonly crashAt: string | undefined = isMainThread
    ? undefined
    : process.env.CONC_QUEUE_CRASH_AT || undefined;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(0);
    this.u8 = new Uint8Array(0);
    this.refresh();
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
   * these stores, and a stalled one's stores are visible long before anyone
   * takes its lock over.
   */
  w(i: number, v: number): void {
    const a = this.i32;
    const old = a[i]!;
    if (old === v) return;
    // A plain read: Atomics.load costs ~10 ns here, and a takeover is news long before it (STALE_MS).
    if (!this.solo && a[H.LOCK] !== this.held) throw USURPED;
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

  /** Throws {@link USURPED} unless this thread still holds the lock (before unlogged writes, e.g. payload copies). */
  check(): void {
    if (this.solo) return;
    if (this.i32[H.LOCK] !== this.held) throw USURPED;
  }

  acquire(): void {
    const a = this.i32;
    if (this.solo) {
      // Still odd while held and bumped per section (sections tell themselves apart by it).
      this.held = a[H.LOCK]! + 1;
      a[H.LOCK] = this.held;
      this.logN = 0;
      if (a[H.END]! > this.viewEnd) this.refresh();
      return;
    }
    for (let spin = 0; spin < LOCK_SPINS; spin++) {
      // A plain read is only a guess at the value; the compare-and-swap decides.
      const v = a[H.LOCK]!;
      if ((v & 1) === 0 && Atomics.compareExchange(a, H.LOCK, v, v + 1) === v) {
        this.held = v + 1;
        this.logN = 0;
        a[H.LOG_SLOT] = this.slot;
        if (a[H.END]! > this.viewEnd) this.refresh();
        return;
      }
      pause(PAUSE_N);
    }
    this.acquireSlow();
  }

  private acquireSlow(): void {
    const a = this.i32;
    let observed = -1;
    let stale = 0;
    let last = 0;
    for (;;) {
      const v = Atomics.load(a, H.LOCK);
      if ((v & 1) === 0) {
        if (Atomics.compareExchange(a, H.LOCK, v, v + 1) === v) {
          this.held = v + 1;
          break;
        }
        continue;
      }
      const now = performance.now();
      if (v !== observed) {
        observed = v;
        stale = 0;
      } else {
        // A slice that overran (the whole process was stopped, or this thread starved) counts once.
        stale += Math.min(now - last, 2 * SLICE_MS);
        if (stale >= STALE_MS && Atomics.compareExchange(a, H.LOCK, v, v + 2) === v) {
          this.held = (v + 2) | 0; // as the Int32 word holds it (0x7fffffff + 2 wraps)
          if (a[H.END]! > this.viewEnd) this.refresh();
          this.recover();
          this.logN = 0;
          a[H.LOG_SLOT] = this.slot;
          return;
        }
      }
      last = now;
      // Sections never wait, so a holder that runs frees the lock within a microsecond or so:
      // spin a little longer before paying for a sleep (and the holder for a wake-up call).
      if (spinLock(a, v, now + LOCK_SPIN_MS)) continue;
      Atomics.add(a, H.LOCK_WAITERS, 1);
      Atomics.wait(a, H.LOCK, v, SLICE_MS);
      Atomics.sub(a, H.LOCK_WAITERS, 1);
    }
    this.logN = 0;
    a[H.LOG_SLOT] = this.slot;
    if (a[H.END]! > this.viewEnd) this.refresh();
  }

  /**
   * Rolls back the section of a holder that died; called by the thread that
   * took the lock over. A holder that died before naming its slot had logged
   * nothing, and the slot named then is an earlier holder's, already empty.
   */
  private recover(): void {
    const a = this.i32;
    const slot = a[H.LOG_SLOT]!;
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
    const h = this.held;
    if (this.solo) {
      if (this.logN !== 0) {
        a[this.logLen] = 0;
        this.logN = 0;
      }
      a[H.LOCK] = h + 1;
      this.held = 0;
      return;
    }
    if (a[H.LOCK] !== h) throw USURPED;
    if (this.logN !== 0) {
      a[this.logLen] = 0;
      this.logN = 0;
    }
    this.held = 0;
    if (Atomics.compareExchange(a, H.LOCK, h, h + 1) !== h) throw USURPED;
    if (Atomics.load(a, H.LOCK_WAITERS) > 0) Atomics.notify(a, H.LOCK, 1);
  }

  /**
   * Runs `fn` as one critical section: retried if the lock was taken over
   * mid-way, rolled back and rethrown if it throws. (The hot paths inline this
   * pattern rather than pay for a closure.)
   */
  run<R>(fn: (a: Int32Array) => R): R {
    for (;;) {
      this.acquire();
      try {
        const r = fn(this.i32);
        this.commit();
        return r;
      } catch (err) {
        if (!this.fail(err)) throw err;
      }
    }
  }

  /**
   * Ends a section that threw: after a takeover there is nothing to undo (the
   * new holder did it) and the caller retries; after any other error the
   * section is rolled back, the lock released, and the error rethrown.
   * @returns true when the caller should retry the section.
   */
  fail(err: unknown): boolean {
    if (err === USURPED) {
      this.held = 0;
      this.logN = 0;
      return true;
    }
    if (this.held !== 0 && Atomics.load(this.i32, H.LOCK) === this.held) {
      this.undo(this.logLen);
      this.commit();
    }
    this.held = 0;
    return false;
  }

  /**
   * Fault-test hook (`CONC_QUEUE_CRASH_AT=<point>` in a worker's env): tells the
   * parent where it stopped, then parks for good, so the test can terminate the
   * worker at exactly that point.
   */
  maybeCrash(point: string): void {
    if (this.crashAt !== point) return;
    parentPort?.postMessage({ crashPoint: point });
    const hang = new Int32Array(new SharedArrayBuffer(4));
    for (;;) Atomics.wait(hang, 0, 0);
  }
}
