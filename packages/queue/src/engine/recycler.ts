/**
 * The recycling of item blocks a getter has finished with. A getter hands its
 * blocks back without the lock: they gather in a chain of its own and go onto
 * a shared lock-free stack (RELEASED) a batch at a time. Lock holders then
 * reuse them as they are when the size fits (no free, no allocation: the
 * cheapest section there is) and free the others a few at a time; a thread
 * that has handed back RELEASED_KEPT bytes makes its takes free the rest.
 */
import { blockSize, free } from './arena.js';
import { Header, ItemWord, LOG_FREE, MIN_SPLIT } from './layout.js';
import type { QueueMemory } from './memory.js';

/** Released blocks a section frees in passing when it frees any. */
export const DRAIN_SOME = 4;
/** A thread's takes leave up to about this many bytes of the blocks it released for puts to reuse, then free some. */
const RELEASED_KEPT = 64 * 1024;
/** Released blocks a handle gathers before it hands them on in one compare-and-swap. */
const RELEASE_BATCH = Number(process.env.CONC_QUEUE_RELEASE_BATCH ?? 32);
/** ...or bytes of them: what a getter that stops getting may keep from puts. */
const RELEASE_BYTES = 16 * 1024;

export class Recycler {
  /** Bytes of blocks this thread released since its takes last freed some (a bound on what waits for reuse). */
  private releasedSinceDrain = 0;
  /** Released blocks this handle holds before pushing them onto the shared stack (see {@link release}). */
  private heldFirst = 0;
  private heldLast = 0;
  private heldCount = 0;
  private heldBytes = 0;
  /** The section (QueueMemory.section) that last logged a write to DRAIN (see {@link detach}). */
  private drainSection = 0;

  /**
   * @param s the queue's memory
   * @param linkCost log entries a section keeps free for linking an item
   */
  constructor(
    private readonly s: QueueMemory,
    private readonly linkCost: number,
  ) {}

  /**
   * In a take section that unlinked `n` items: puts reuse released blocks as
   * they are (and free the ones they cannot use). Once this thread has
   * released RELEASED_KEPT bytes, its takes free more than they release until
   * the chain is gone; in between they leave the blocks alone for puts to reuse.
   */
  afterTake(n: number): void {
    if (this.releasedSinceDrain < RELEASED_KEPT) return;
    this.drain(2 * DRAIN_SOME + n);
    if (this.s.i32[Header.DRAIN] === 0) this.releasedSinceDrain = 0;
  }

  /**
   * Takes the next released block as it is when it is the size the allocator
   * would hand out (at least `size`, too little over to split): no free and no
   * allocation. Returns it, or 0.
   */
  reuse(size: number): number {
    const s = this.s;
    const a = s.i32;
    const d = a[Header.DRAIN]! || this.detach();
    if (d === 0) return 0;
    const have = blockSize(a, d);
    if (have < size || have - size >= MIN_SPLIT) return 0;
    this.setDrain(a[(d >> 2) + ItemWord.LINK]!);
    return d;
  }

  /**
   * Hands the first `n` taken blocks back. They gather in this handle's own
   * chain and go onto the shared lock-free stack RELEASE_BATCH blocks (or
   * RELEASE_BYTES) at a time, so the stack's cache line moves between the
   * threads once per batch, not once per item; the next lock holder frees them.
   */
  release(blocks: readonly number[], n: number): void {
    if (n === 0) return;
    const a = this.s.i32;
    let bytes = 0;
    for (let k = 0; k < n; k++) bytes += blockSize(a, blocks[k]!);
    this.releasedSinceDrain += bytes;
    for (let k = 0; k < n - 1; k++) a[(blocks[k]! >> 2) + ItemWord.LINK] = blocks[k + 1]!;
    const first = blocks[0]!;
    if (this.heldLast === 0) this.heldFirst = first;
    else a[(this.heldLast >> 2) + ItemWord.LINK] = first;
    this.heldLast = blocks[n - 1]!;
    this.heldCount += n;
    this.heldBytes += bytes;
    if (this.s.solo || this.heldCount >= RELEASE_BATCH || this.heldBytes >= RELEASE_BYTES)
      this.flushReleased();
  }

  /** Pushes the blocks this handle holds back onto the shared released stack. Returns whether it held any. */
  flushReleased(): boolean {
    const first = this.heldFirst;
    if (first === 0) return false;
    const last = this.heldLast;
    this.heldFirst = this.heldLast = this.heldCount = this.heldBytes = 0;
    const a = this.s.i32;
    if (this.s.solo) {
      a[(last >> 2) + ItemWord.LINK] = a[Header.RELEASED]!;
      a[Header.RELEASED] = first;
      return true;
    }
    for (;;) {
      const head = a[Header.RELEASED]!; // a guess: the compare-and-swap decides
      a[(last >> 2) + ItemWord.LINK] = head;
      if (Atomics.compareExchange(a, Header.RELEASED, head, first) === head) return true;
    }
  }

  /**
   * Frees up to `max` released blocks within this section's log room. The
   * released chain is detached with one exchange and parked in DRAIN, whose
   * later updates are logged: a section rolled back leaves the rest of the
   * chain there for the next holder. (A thread is terminated only at an
   * interrupt check, never between the exchange and the store.)
   */
  drain(max: number): number {
    const s = this.s;
    const a = s.i32;
    let d = a[Header.DRAIN]! || this.detach();
    let n = 0;
    while (d !== 0 && n < max && s.logRoom() > this.linkCost + LOG_FREE + 16) {
      const next = a[(d >> 2) + ItemWord.LINK]!;
      this.freeItem(d);
      d = next;
      n++;
    }
    if (n > 0) this.setDrain(d);
    return n;
  }

  /**
   * Moves the released chain into DRAIN: one exchange, which no rollback can
   * undo, so DRAIN's new value is stored unlogged and a rolled-back section
   * leaves the chain there for the next holder. (A thread is terminated only
   * at an interrupt check, never between the exchange and the store.) Not
   * after this section logged a write to DRAIN: rolling that back would
   * overwrite the chain and lose it. Returns the chain, or 0.
   */
  private detach(): number {
    const s = this.s;
    const a = s.i32;
    if (this.drainSection === s.section || a[Header.RELEASED] === 0) return 0;
    let d: number;
    if (s.solo) {
      d = a[Header.RELEASED]!;
      a[Header.RELEASED] = 0;
    } else d = Atomics.exchange(a, Header.RELEASED, 0);
    a[Header.DRAIN] = d;
    return d;
  }

  /** A logged write to DRAIN (and a note that this section made one). */
  private setDrain(d: number): void {
    this.drainSection = this.s.section;
    this.s.write(Header.DRAIN, d);
  }

  /** Frees an item block (inside a section). */
  freeItem(b: number): void {
    const s = this.s;
    s.write(Header.USED, s.i32[Header.USED]! - blockSize(s.i32, b));
    free(s, b);
  }
}
