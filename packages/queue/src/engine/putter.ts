/**
 * One put of a batch of encoded items, advanced step by step between waits:
 * small items go in runs, one critical section each; a large item is
 * reserved, filled outside the lock, then linked.
 */
import { ShutDownError } from '../core/errors.js';
import { Header } from './layout.js';
import { type Batch, INLINE_MAX, type Store } from './store.js';

export class Putter {
  private reserved = 0;

  /**
   * @param borrowed the items' bytes are the codec's, valid only until its
   *   next call: {@link keep} copies them before the put waits.
   */
  constructor(
    private readonly store: Store,
    private readonly batch: Batch,
    private borrowed = false,
  ) {}

  /** Items put so far. */
  get done(): number {
    return this.batch.done;
  }

  /** Makes the items still to put the putter's own (before waiting, when other code may run). */
  keep(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    const { bytes, start, end } = this.batch;
    for (let i = this.batch.done; i < bytes.length; i++) {
      // Uint8Array's slice copies (a Buffer's own slice() would be a view of the codec's buffer).
      bytes[i] = Uint8Array.prototype.slice.call(bytes[i]!, start[i]!, end[i]!);
      end[i] = end[i]! - start[i]!;
      start[i] = 0;
    }
  }

  /** Puts as much as it can now: true when every item is in, false when the queue is full. */
  step(): boolean {
    const { store, batch } = this;
    const { bytes, start, end } = batch;
    const n = bytes.length;
    for (;;) {
      const i = batch.done;
      if (i === n) return true;
      if (end[i]! - start[i]! > INLINE_MAX) {
        if (this.reserved === 0) {
          const item = bytes[i]!.subarray(start[i]!, end[i]!);
          const key = batch.keys?.[i];
          const b = store.reserve(item.length, key ? key.length : 0);
          if (b === 'again') continue;
          if (b === 'full') return false;
          if (b === 'shut-down') throw this.shutDown();
          store.fillReserved(b, item, key);
          this.reserved = b;
        }
        const linked = store.commitReserved(this.reserved);
        if (linked === 'full') return false;
        this.reserved = 0;
        if (linked === 'shut-down') throw this.shutDown();
        batch.done = i + 1;
        store.wake(Header.NOT_EMPTY, Header.GET_WAITERS, 1);
        continue;
      }
      let j = i + 1;
      while (j < n && end[j]! - start[j]! <= INLINE_MAX) j++;
      const outcome = store.put(batch, j);
      if (batch.done > i) store.wake(Header.NOT_EMPTY, Header.GET_WAITERS, batch.done - i);
      if (outcome === 'shut-down') throw this.shutDown();
      if (outcome === 'full') return false;
    }
  }

  /** Gives back a block reserved for an item that will not go in (timeout, abort, error). */
  abandon(): void {
    if (this.reserved !== 0) {
      this.store.discardReserved(this.reserved);
      this.reserved = 0;
    }
  }

  private shutDown(): ShutDownError {
    return new ShutDownError(undefined, { enqueued: this.batch.done });
  }
}
