/**
 * The liveness model: who holds what, and whether that holder is alive, by
 * identity, never by elapsed time. A primitive stores its holder's *tag* in
 * shared memory; a waiter that finds the holder dead may take over and tells
 * the new holder (robust-mutex style). What a tag means is the tier's:
 *
 * - threads: a slot and generation in the process's owner registry
 *   (`OwnerRegistry`, thread/registry.ts), marked dead when the thread ends;
 * - processes: a slot naming a pid and the process's start time (a recycled
 *   pid has another start time), dead when no such process runs;
 * - Redis: a lease owned by a connection, dead when the lease lapses (the one
 *   tier where the store itself decides by time, and says so).
 */
/** Bits of a word that hold a tag: tags are non-zero and below 2^30. */
export const TAG_MASK = (1 << 30) - 1;

export interface Liveness {
  /** Identifies this set of holders; stored in each primitive's header. */
  readonly id: number;
  /**
   * The caller's tag, what a primitive stores as its holder: non-zero and
   * below 2^30 (bit 30 of a lock word is its "contended" flag, bit 31 marks a
   * creation in progress). Taken on first use.
   */
  readonly me: number;
  /** True while the holder behind `tag` is alive; cheap enough for every wake-up (one atomic load for threads). */
  isAlive(tag: number): boolean;
  /** The holder as users know it (threadId, pid), for reports; -1 once unknown. */
  holderId(tag: number): number;
}
