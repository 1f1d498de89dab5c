/**
 * The arena allocator: two-level segregated fit (TLSF) over the blocks of the
 * shared buffer, so allocation and free take a bounded number of steps (a
 * critical section stays tiny) whatever order items leave in, and adjacent
 * free blocks merge at once, so a FIFO stream of items keeps reusing one region.
 * Every word it changes goes through the undo log (`QueueMemory.write`).
 *
 * Blocks: `[size|FREE, previous block offset, (free) next free, previous free]`;
 * sizes are multiples of 8. Classes: sizes in 8-byte units, split by their top
 * bit (first level) and the next SL_BITS bits (second level).
 */
import {
  BlockWord,
  FL_COUNT,
  FREE,
  Header,
  MIN_BLOCK,
  MIN_SPLIT,
  SIZE_MASK,
  SL_BITS,
  SL_COUNT,
} from './layout.js';
import type { QueueMemory } from './memory.js';

/** Free-list class of a size in 8-byte units. */
function classOf(units: number): number {
  if (units < SL_COUNT) return units;
  const fl = 31 - Math.clz32(units);
  return (fl - SL_BITS + 1) * SL_COUNT + ((units >>> (fl - SL_BITS)) & (SL_COUNT - 1));
}

/** Lowest set bit's index. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function insertFree(s: QueueMemory, b: number, size: number): void {
  const a = s.i32;
  const c = classOf(size >>> 3);
  const head = a[Header.HEADS + c]!;
  const bw = b >> 2;
  s.write(bw + BlockWord.SIZE, size | FREE);
  s.write(bw + BlockWord.NEXT_FREE, head);
  s.write(bw + BlockWord.PREV_FREE, 0);
  if (head !== 0) s.write((head >> 2) + BlockWord.PREV_FREE, b);
  s.write(Header.HEADS + c, b);
  const fl = c >> SL_BITS;
  const bit = 1 << (c & (SL_COUNT - 1));
  const sl = a[Header.SL_MAP + fl]!;
  if ((sl & bit) === 0) {
    s.write(Header.SL_MAP + fl, sl | bit);
    const flm = a[Header.FL_MAP]!;
    if ((flm & (1 << fl)) === 0) s.write(Header.FL_MAP, flm | (1 << fl));
  }
}

function removeFree(s: QueueMemory, b: number, size: number): void {
  const a = s.i32;
  const bw = b >> 2;
  const next = a[bw + BlockWord.NEXT_FREE]!;
  const prev = a[bw + BlockWord.PREV_FREE]!;
  if (next !== 0) s.write((next >> 2) + BlockWord.PREV_FREE, prev);
  if (prev !== 0) {
    s.write((prev >> 2) + BlockWord.NEXT_FREE, next);
    return;
  }
  const c = classOf(size >>> 3);
  s.write(Header.HEADS + c, next);
  if (next === 0) {
    const fl = c >> SL_BITS;
    const sl = a[Header.SL_MAP + fl]! & ~(1 << (c & (SL_COUNT - 1)));
    s.write(Header.SL_MAP + fl, sl);
    if (sl === 0) s.write(Header.FL_MAP, a[Header.FL_MAP]! & ~(1 << fl));
  }
}

/** Moves a free block's list node to a new start (same class, so no list or bitmap changes). */
function relocateFree(s: QueueMemory, from: number, to: number, size: number): void {
  const a = s.i32;
  const fw = from >> 2;
  const tw = to >> 2;
  const next = a[fw + BlockWord.NEXT_FREE]!;
  const prev = a[fw + BlockWord.PREV_FREE]!;
  s.write(tw + BlockWord.SIZE, size | FREE);
  s.write(tw + BlockWord.NEXT_FREE, next);
  s.write(tw + BlockWord.PREV_FREE, prev);
  if (next !== 0) s.write((next >> 2) + BlockWord.PREV_FREE, to);
  if (prev !== 0) s.write((prev >> 2) + BlockWord.NEXT_FREE, to);
  else s.write(Header.HEADS + classOf(size >>> 3), to);
}

/** A free block of at least `size` bytes, or 0. */
function findFree(s: QueueMemory, size: number): number {
  const a = s.i32;
  let units = size >>> 3;
  if (units >= SL_COUNT) units += (1 << (31 - Math.clz32(units) - SL_BITS)) - 1; // round up to the class boundary
  const c = classOf(units);
  let fl = c >> SL_BITS;
  let sl = fl < FL_COUNT ? a[Header.SL_MAP + fl]! & (~0 << (c & (SL_COUNT - 1))) : 0;
  if (sl === 0) {
    const flm = fl + 1 < FL_COUNT ? a[Header.FL_MAP]! & (~0 << (fl + 1)) : 0;
    if (flm !== 0) {
      fl = ctz(flm);
      sl = a[Header.SL_MAP + fl]!;
    }
  }
  if (sl !== 0) return a[Header.HEADS + fl * SL_COUNT + ctz(sl)]!;
  // Rounding up skipped the blocks of the request's own class; some of them may fit.
  let b = a[Header.HEADS + classOf(size >>> 3)]!;
  for (let n = 0; b !== 0 && n < 16; n++, b = a[(b >> 2) + BlockWord.NEXT_FREE]!) {
    if ((a[b >> 2]! & SIZE_MASK) >= size) return b;
  }
  return 0;
}

/** Lays out a fresh arena `[start, end)` as one free block (no lock needed: nobody else sees it yet). */
export function initArena(a: Int32Array, start: number, end: number): void {
  const size = end - start;
  const c = classOf(size >>> 3);
  const bw = start >> 2;
  a[bw + BlockWord.SIZE] = size | FREE;
  a[bw + BlockWord.PREV] = 0;
  a[bw + BlockWord.NEXT_FREE] = 0;
  a[bw + BlockWord.PREV_FREE] = 0;
  a[Header.HEADS + c] = start;
  a[Header.SL_MAP + (c >> SL_BITS)] = 1 << (c & (SL_COUNT - 1));
  a[Header.FL_MAP] = 1 << (c >> SL_BITS);
  a[Header.LAST_BLOCK] = start;
  a[Header.END] = end;
}

/** Allocates a block of at least `size` bytes (a multiple of 8); returns its offset or 0 when nothing fits. */
export function alloc(s: QueueMemory, size: number): number {
  let b = findFree(s, size);
  if (b === 0) {
    if (!grow(s, size)) return 0;
    b = findFree(s, size);
    if (b === 0) return 0;
  }
  const a = s.i32;
  const bw = b >> 2;
  const have = a[bw]! & SIZE_MASK;
  const rest = have - size;
  if (rest >= MIN_SPLIT) {
    // Carve from the front; the remainder keeps the list node when its class stays the same
    // (the common case: a big free block shrinking), which saves most of the list work.
    const nb = b + size;
    if (classOf(rest >>> 3) === classOf(have >>> 3)) relocateFree(s, b, nb, rest);
    else {
      removeFree(s, b, have);
      insertFree(s, nb, rest);
    }
    s.write((nb >> 2) + BlockWord.PREV, b);
    const next = b + have;
    if (next < a[Header.END]!) s.write((next >> 2) + BlockWord.PREV, nb);
    else s.write(Header.LAST_BLOCK, nb);
    s.write(bw + BlockWord.SIZE, size);
  } else {
    removeFree(s, b, have);
    s.write(bw + BlockWord.SIZE, have);
  }
  return b;
}

/** Size in bytes of an allocated block. */
export function blockSize(a: Int32Array, b: number): number {
  return a[b >> 2]! & SIZE_MASK;
}

/** Frees a block, merging it with free neighbours. */
export function free(s: QueueMemory, b: number): void {
  const a = s.i32;
  const end = a[Header.END]!;
  let size = a[b >> 2]! & SIZE_MASK;
  let start = b;
  // A neighbouring free block whose list node the merged block may keep.
  let node = 0;
  let nodeSize = 0;
  const next = b + size;
  if (next < end) {
    const ns = a[next >> 2]!;
    if ((ns & FREE) !== 0) {
      node = next;
      nodeSize = ns & SIZE_MASK;
      size += nodeSize;
    }
  }
  const prev = a[(b >> 2) + BlockWord.PREV]!;
  if (prev !== 0) {
    const ps = a[prev >> 2]!;
    if ((ps & FREE) !== 0) {
      if (node !== 0) removeFree(s, node, nodeSize);
      node = prev;
      nodeSize = ps & SIZE_MASK;
      size += nodeSize;
      start = prev;
    }
  }
  const after = start + size;
  if (after < end) {
    if (a[(after >> 2) + BlockWord.PREV] !== start) s.write((after >> 2) + BlockWord.PREV, start);
  } else if (a[Header.LAST_BLOCK] !== start) s.write(Header.LAST_BLOCK, start);
  if (node !== 0 && classOf(size >>> 3) === classOf(nodeSize >>> 3)) {
    if (node === start) s.write((start >> 2) + BlockWord.SIZE, size | FREE);
    else relocateFree(s, node, start, size);
  } else {
    if (node !== 0) removeFree(s, node, nodeSize);
    insertFree(s, start, size);
  }
}

/** Grows the buffer (up to its capacity) so that a block of `size` bytes fits at the end. */
function grow(s: QueueMemory, size: number): boolean {
  const a = s.i32;
  const end = a[Header.END]!;
  const cap = a[Header.CAPACITY]!;
  const last = a[Header.LAST_BLOCK]!;
  const lastFree = last !== 0 && (a[last >> 2]! & FREE) !== 0 ? a[last >> 2]! & SIZE_MASK : 0;
  const need = Math.max(size - lastFree, MIN_BLOCK);
  if (end + need > cap) return false;
  const newEnd = Math.min(cap, Math.ceil(Math.max(end * 2, end + need + 4096) / 65536) * 65536);
  if (s.sab.byteLength < newEnd) {
    try {
      s.sab.grow(newEnd);
    } catch {
      return false; // the system refused the memory: as good as full
    }
  }
  if (s.viewEnd < newEnd) s.refresh();
  const bw = end >> 2;
  s.write(bw + BlockWord.SIZE, newEnd - end);
  s.write(bw + BlockWord.PREV, last);
  s.write(Header.LAST_BLOCK, end);
  s.write(Header.END, newEnd);
  free(s, end);
  return true;
}
