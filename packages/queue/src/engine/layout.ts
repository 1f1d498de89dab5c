/**
 * The shared-memory layout of a thread-tier queue: one growable
 * SharedArrayBuffer holding a header of Int32 words, an undo log, and an
 * arena of blocks (free blocks and item blocks).
 *
 * ```
 * 0      header words (Header.*)    magic, kind, limits, lock, counters, wait words, order roots, allocator maps
 * 2048   undo logs (LOG_SLOTS)      [word index, old value] of every header/block word a critical section writes
 * 36864  arena                      blocks, 8-byte aligned, each starting with [size|flags, previous block]
 * ```
 *
 * Item block: `[size|USED, prev, link, payloadLength]` then the payload (16 bytes of
 * bookkeeping). Priority item block: `[size|USED, prev, left, payloadLength, right,
 * rank|keyLength<<8, seqLo, seqHi]`, the priority key bytes, then the payload
 * (32 bytes + key). Free block: `[size|FREE, prev, nextFree, prevFree]`.
 */

/**
 * Header word indices (Int32), grouped by 64-byte cache line (16 words):
 * constants; the lock with the state sections change; each wait word with its
 * waiter counts; the lock-free release stack. Spinning waiters watch a line the
 * lock holder does not write.
 */
export enum Header {
  MAGIC = 0,
  /** `LAYOUT_VERSION << 8 | Kind`. */
  KIND = 1,
  /** Python's maxsize in items; 0 = unbounded. */
  MAXSIZE = 2,
  /** The most bytes the buffer may grow to. */
  CAPACITY = 3,
  /** Current end of the arena in bytes (the buffer may be longer after an undone grow). */
  END = 4,
  /** Id of the `@conc/lock` owner registry the lock's holders are tagged in. */
  REGISTRY = 5,

  /**
   * Internal lock: 0 when free, else the holder's owner tag, with bit 30 set
   * while a waiter may be parked (`@conc/lock`'s robust mutex; see memory.ts).
   * The state a section changes shares its cache line: taking the lock brings
   * that state along. (Word 17 is unused.)
   */
  LOCK = 16,
  /** The undo-log slot of the thread holding the lock (set right after taking it). */
  LOG_SLOT = 18,
  /** Items in the queue (visible to getters). */
  COUNT = 19,
  /** Items put and not yet marked done (Python's unfinished_tasks). */
  UNFINISHED = 20,
  /** 0 open, 1 shut down, 2 shut down immediately. */
  STATE = 21,
  /** Order roots: FIFO head and tail; LIFO top; heap root. */
  FIRST = 22,
  LAST = 23,
  /** Bytes held by item blocks (queued, being written, or being read). */
  USED = 24,
  /** The released chain the lock holder is freeing. */
  DRAIN = 25,
  /** Allocator: bitmap of non-empty first-level classes. */
  FL_MAP = 26,
  /** Offset of the last block in the arena. */
  LAST_BLOCK = 27,
  SEQ_LO = 28,
  SEQ_HI = 29,

  /**
   * Wait words, bumped when items arrive / room frees up / unfinished reaches
   * 0 while anyone waits, each with its count of waiters (spinning or asleep)
   * and, right after, of those asleep (`waiters + 1`).
   */
  NOT_EMPTY = 48,
  GET_WAITERS = 49,
  GET_SLEEPERS = 50,
  NOT_FULL = 64,
  PUT_WAITERS = 65,
  PUT_SLEEPERS = 66,
  ALL_DONE = 80,
  JOIN_WAITERS = 81,
  JOIN_SLEEPERS = 82,

  /** Lock-free stack of item blocks consumers have finished reading, freed by the next lock holder. */
  RELEASED = 96,

  /** Allocator: second-level bitmaps and free-list heads. */
  SL_MAP = 128,
  HEADS = 160,
}

/**
 * Undo logs: LOG_SLOTS slots, picked by thread id, so the log lines a section
 * writes stay in the writing core's cache instead of bouncing between threads
 * (two threads sharing a slot is fine: only the lock holder writes a log).
 * A slot is its entry count (own cache line), then LOG_CAP pairs of
 * (word index, old value).
 */
export const LOG_AREA = 512;
export const LOG_SLOTS = 4;
export const LOG_CAP = 1024;
export const LOG_SLOT_WORDS = 16 + 2 * LOG_CAP;

export const ARENA_START = Math.ceil(((LOG_AREA + LOG_SLOTS * LOG_SLOT_WORDS) * 4) / 4096) * 4096;
export const MAGIC = 0x51434e43; // "CNCQ"
/** 2: the lock word holds the holder's owner tag (1: a counter, taken over by time). */
export const LAYOUT_VERSION = 2;

/** How items are ordered. */
export enum Kind {
  FIFO = 1,
  LIFO = 2,
  PRIORITY = 3,
  SIMPLE = 4,
}

/** First-level classes × second-level classes of the allocator's free lists. */
export const FL_COUNT = 32;
export const SL_BITS = 3;
export const SL_COUNT = 1 << SL_BITS;

/** Block word offsets (added to `offset >> 2`). */
export enum BlockWord {
  SIZE = 0,
  PREV = 1,
  NEXT_FREE = 2,
  PREV_FREE = 3,
}

/** Word offsets of item blocks (after SIZE and PREV). */
export enum ItemWord {
  /** FIFO/LIFO: next item; heap: left child; released: next released block. */
  LINK = 2,
  LEN = 3,
  RIGHT = 4,
  RANK_KEY = 5,
  SEQ_LO = 6,
  SEQ_HI = 7,
}

export const FREE = 1;
export const SIZE_MASK = ~7;
export const PLAIN_HEADER = 16;
export const PRIORITY_HEADER = 32;
export const MIN_BLOCK = 16;
/** A split leaves a free remainder only when it is at least this big. */
export const MIN_SPLIT = 32;
export const MAX_KEY_BYTES = 0xffff;
/** Arena offsets are Int32 words: the buffer stays under 2 GiB. */
export const MAX_CAPACITY = 2 ** 31 - 65536;

/** Worst-case log entries of the units of work a section does, so a section never overflows the log. */
export const LOG_ALLOC = 24;
export const LOG_FREE = 30;
export const LOG_LINK_PLAIN = 8;
/** A leftist-heap merge walks two right spines of at most ~log2(n) nodes, 4 writes each. */
export const LOG_HEAP = 4 * 2 * 32 + 8;
