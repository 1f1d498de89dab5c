/**
 * The items a get took, from shared memory to values: each is copied into a
 * private buffer (decoding straight out of a SharedArrayBuffer is several
 * times slower, and codecs read Buffers fastest), decoded, and its block
 * handed back. Items that do not decode are counted, never lost silently.
 */
import type { Codec } from '@conc/serialize';
import { GetDeserializationError } from '../core/errors.js';
import { faults } from '../engine/faults.js';
import { Header } from '../engine/layout.js';
import type { Store } from '../engine/store.js';

/** Largest private copy-out buffer kept per queue handle (larger items get a buffer of their own). */
const SCRATCH_MAX = 256 * 1024;

export class TakenItems<T> {
  readonly #store: Store;
  readonly #codec: Codec;
  /** Items are copied out of shared memory into this Buffer before decoding. */
  #scratch: Buffer = Buffer.allocUnsafeSlow(256);

  constructor(store: Store, codec: Codec) {
    this.#store = store;
    this.#codec = codec;
  }

  /**
   * Decodes the blocks the store's last take unlinked (into `into`, or the one
   * it returns), hands them back, and wakes as many putters.
   */
  finish(into: T[] | undefined): T | undefined {
    const store = this.#store;
    const taken = store.taken;
    const n = store.takenCount;
    faults?.hit('get.copy');
    let first: T | undefined;
    let failure: unknown;
    let failed = 0;
    try {
      for (let k = 0; k < n; k++) {
        const b = taken[k]!;
        const len = store.lengthOf(b);
        if (len > this.#scratch.length && len <= SCRATCH_MAX) {
          this.#scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, 2 ** Math.ceil(Math.log2(len))));
        }
        const buf = len <= this.#scratch.length ? this.#scratch : Buffer.allocUnsafeSlow(len);
        store.copyOut(b, buf);
        const codec = this.#codec;
        let value: T;
        try {
          value = (
            codec.decodePrefix !== undefined
              ? codec.decodePrefix(buf, len)
              : codec.decode(buf.subarray(0, len))
          ) as T;
        } catch (err) {
          // The others taken with it are still decoded (and kept, on the error).
          failure ??= err;
          failed++;
          continue;
        }
        if (into) into.push(value);
        else first = value;
      }
    } finally {
      store.release(taken, n);
      store.wake(Header.NOT_FULL, Header.PUT_WAITERS, n);
    }
    // A single get takes one item: if it failed, nothing decoded.
    if (failed > 0) throw undecodable(failure, n, failed, into ? [...into] : []);
    return first;
  }
}

/** The error of a get whose taken items did not all decode (see {@link GetDeserializationError}). */
function undecodable<T>(
  cause: unknown,
  taken: number,
  failed: number,
  items: T[],
): GetDeserializationError<T> {
  return new GetDeserializationError(
    `queue: ${failed} of the ${taken} item(s) this get took could not be decoded; all ${taken} are out of the queue ` +
      '(error.items holds those that decoded, error.taken how many to mark done)',
    items,
    taken,
    { cause },
  );
}
