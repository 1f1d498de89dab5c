/**
 * The three orders, as Python's `_put`/`_get` hooks over intrusive links in the
 * item blocks (no index array to grow, no payload ever moved):
 * FIFO a singly linked list with head and tail, LIFO a stack, priority a
 * leftist heap ordered by (priority key bytes, put sequence), so equal
 * priorities come out first-in first-out and every operation is O(log n).
 */
import { Header, ItemWord, PRIORITY_HEADER } from './layout.js';
import type { QueueMemory } from './memory.js';

/** Links a block into the order / unlinks the next block (0 when empty). */
export interface Order {
  push(s: QueueMemory, b: number): void;
  pop(s: QueueMemory): number;
}

export const fifo: Order = {
  push(s, b) {
    const last = s.i32[Header.LAST]!;
    s.write((b >> 2) + ItemWord.LINK, 0);
    if (last !== 0) s.write((last >> 2) + ItemWord.LINK, b);
    else s.write(Header.FIRST, b);
    s.write(Header.LAST, b);
  },
  pop(s) {
    const a = s.i32;
    const b = a[Header.FIRST]!;
    if (b === 0) return 0;
    const next = a[(b >> 2) + ItemWord.LINK]!;
    s.write(Header.FIRST, next);
    if (next === 0) s.write(Header.LAST, 0);
    return b;
  },
};

export const lifo: Order = {
  push(s, b) {
    s.write((b >> 2) + ItemWord.LINK, s.i32[Header.FIRST]!);
    s.write(Header.FIRST, b);
  },
  pop(s) {
    const a = s.i32;
    const b = a[Header.FIRST]!;
    if (b !== 0) s.write(Header.FIRST, a[(b >> 2) + ItemWord.LINK]!);
    return b;
  },
};

/** x sorts before y: key bytes, then the 64-bit put sequence. */
function before(a: Int32Array, u8: Uint8Array, x: number, y: number): boolean {
  const xw = x >> 2;
  const yw = y >> 2;
  const xk = a[xw + ItemWord.RANK_KEY]! >>> 8;
  const yk = a[yw + ItemWord.RANK_KEY]! >>> 8;
  const n = Math.min(xk, yk);
  const xi = x + PRIORITY_HEADER;
  const yi = y + PRIORITY_HEADER;
  for (let k = 0; k < n; k++) {
    const d = u8[xi + k]! - u8[yi + k]!;
    if (d !== 0) return d < 0;
  }
  if (xk !== yk) return xk < yk;
  const xh = a[xw + ItemWord.SEQ_HI]! >>> 0;
  const yh = a[yw + ItemWord.SEQ_HI]! >>> 0;
  if (xh !== yh) return xh < yh;
  return a[xw + ItemWord.SEQ_LO]! >>> 0 < a[yw + ItemWord.SEQ_LO]! >>> 0;
}

function rank(a: Int32Array, b: number): number {
  return b === 0 ? 0 : a[(b >> 2) + ItemWord.RANK_KEY]! & 0xff;
}

/** The right spine walked by a merge: at most ~2·log2(n) nodes. */
const path = new Int32Array(128);

/** Merges two leftist heaps; returns the new root. */
function merge(s: QueueMemory, x: number, y: number): number {
  if (x === 0) return y;
  if (y === 0) return x;
  const a = s.i32;
  const u8 = s.u8;
  if (before(a, u8, y, x)) {
    const t = x;
    x = y;
    y = t;
  }
  const root = x;
  let n = 0;
  path[n++] = x;
  for (;;) {
    const r = a[(x >> 2) + ItemWord.RIGHT]!;
    if (r === 0) {
      s.write((x >> 2) + ItemWord.RIGHT, y);
      break;
    }
    if (before(a, u8, y, r)) {
      s.write((x >> 2) + ItemWord.RIGHT, y);
      y = r;
    }
    x = a[(x >> 2) + ItemWord.RIGHT]!;
    path[n++] = x;
  }
  // Restore the leftist property bottom-up: the shorter spine goes right.
  for (let k = n - 1; k >= 0; k--) {
    const node = path[k]!;
    const w = node >> 2;
    let l = a[w + ItemWord.LINK]!;
    let r = a[w + ItemWord.RIGHT]!;
    if (rank(a, l) < rank(a, r)) {
      s.write(w + ItemWord.LINK, r);
      s.write(w + ItemWord.RIGHT, l);
      const t = l;
      l = r;
      r = t;
    }
    const rk = rank(a, r) + 1;
    const old = a[w + ItemWord.RANK_KEY]!;
    if ((old & 0xff) !== rk) s.write(w + ItemWord.RANK_KEY, (old & ~0xff) | rk);
  }
  return root;
}

export const heap: Order = {
  push(s, b) {
    const w = b >> 2;
    const a = s.i32;
    s.write(w + ItemWord.LINK, 0);
    s.write(w + ItemWord.RIGHT, 0);
    s.write(w + ItemWord.RANK_KEY, (a[w + ItemWord.RANK_KEY]! & ~0xff) | 1);
    s.write(Header.FIRST, merge(s, a[Header.FIRST]!, b));
  },
  pop(s) {
    const a = s.i32;
    const b = a[Header.FIRST]!;
    if (b === 0) return 0;
    const w = b >> 2;
    s.write(Header.FIRST, merge(s, a[w + ItemWord.LINK]!, a[w + ItemWord.RIGHT]!));
    return b;
  },
};
