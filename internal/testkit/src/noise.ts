/**
 * Bytes for checking that a message arrives intact: a seeded xorshift32
 * stream, so no stretch of it repeats another (a pattern with a short period,
 * such as `i & 0xff`, stays byte-identical when whole periods are swapped or
 * duplicated, and a mostly-zero buffer hides lost chunks). Deterministic: the
 * same size and seed always give the same bytes.
 */
export function noise(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 0x9e3779b1 + 0x6d2b79f5) | 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x, i);
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
