/**
 * One put of a batch of encoded items, advanced step by step between waits:
 * small items go in batches, one critical section each; a large item is
 * reserved, filled outside the lock, then linked.
 */
import { ShutDownError } from '../core/errors.js';
import { Header } from './layout.js';
import { AGAIN, FULL, INLINE_MAX, SHUT_DOWN, type Store } from './store.js';

export class Putter {
  /** Items put so far. */
  done = 0;
  private reserved = 0;

  /**
   * @param borrowed the items' bytes are the codec's, valid only until its
   *   next call: {@link keep} copies them before the put waits.
   */
  constructor(
    private readonly store: Store,
    private readonly items: Uint8Array[],
    private readonly keys: readonly (Uint8Array | undefined)[] | undefined,
    private borrowed = false,
  ) {}

  /** Makes the items still to put the putter's own (before waiting, when other code may run). */
  keep(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    // Uint8Array's slice copies (a Buffer's own slice() would be a view of the codec's buffer).
    for (let i = this.done; i < this.items.length; i++)
      this.items[i] = Uint8Array.prototype.slice.call(this.items[i]!);
  }

  /** Puts as much as it can now: true when every item is in, false when the queue is full. */
  step(): boolean {
    const { store, items, keys } = this;
    const n = items.length;
    for (;;) {
      const i = this.done;
      if (i === n) return true;
      const item = items[i]!;
      if (item.length > INLINE_MAX) {
        if (this.reserved === 0) {
          const key = keys?.[i];
          const b = store.reserve(item.length, key ? key.length : 0);
          if (b === AGAIN) continue;
          if (b === FULL) return false;
          if (b === SHUT_DOWN) throw this.shutDown();
          store.fillReserved(b, item, key);
          this.reserved = b;
        }
        const r = store.commitReserved(this.reserved);
        if (r === FULL) return false;
        this.reserved = 0;
        if (r === SHUT_DOWN) throw this.shutDown();
        this.done = i + 1;
        store.wake(Header.NOT_EMPTY, Header.GET_WAITERS, 1);
        continue;
      }
      let j = i + 1;
      while (j < n && items[j]!.length <= INLINE_MAX) j++;
      const next = store.put(items, keys, i, j);
      if (next > i) {
        this.done = next;
        store.wake(Header.NOT_EMPTY, Header.GET_WAITERS, next - i);
      }
      if (next < j) {
        if (store.status === SHUT_DOWN) throw this.shutDown();
        if (store.status === FULL) return false;
      }
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
    return new ShutDownError(undefined, { enqueued: this.done });
  }
}
