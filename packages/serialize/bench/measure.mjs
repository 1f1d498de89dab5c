// Shared by codec.bench.mjs and revival-worker.mjs: the messages and a timed loop.
import { jsonCodec } from '@conc/serialize';

export const DATA = new Uint8Array(65_536).map((_, i) => i % 256);
export const messages = {
  small: (i) => ({ id: i, name: 'rose', ts: 1.5 }),
  '64k': (i) => ({ id: i, name: 'rose', ts: 1.5, data: DATA }),
};

/** One codec's round trip. JSON has no bytes: it carries them as base64, converted both ways. */
export function roundtripOf(codec, size) {
  if (codec === jsonCodec && size === '64k') {
    return (v) => {
      const back = codec.decode(codec.encode({ ...v, data: Buffer.from(v.data).toString('base64') }));
      back.data = Buffer.from(back.data, 'base64');
      return back;
    };
  }
  return new Function('codec', 'return (v) => codec.decode(codec.encode(v));')(codec);
}

const timers = new Map();
/**
 * Round trips per second over `n` fresh messages. Each job gets its own
 * compiled loop (`new Function`), so the JIT's type feedback for one codec
 * never slows another (a shared loop turns megamorphic).
 */
export function rate(n, make, roundtrip, key) {
  let t = timers.get(key);
  if (!t) {
    t = new Function(
      'n',
      'make',
      'roundtrip',
      'const t0 = performance.now(); for (let i = 0; i < n; i++) roundtrip(make(i)); return (n / (performance.now() - t0)) * 1000;',
    );
    timers.set(key, t);
  }
  return t(n, make, roundtrip);
}

const roundtrips = new Map();
/** Round trips per second of `codec` on `size` messages (warmed up on first use). */
export function measure(codec, size, n) {
  const key = `${codec.name}.${size}`;
  let rt = roundtrips.get(key);
  if (!rt) {
    rt = roundtripOf(codec, size);
    roundtrips.set(key, rt);
    rate(Math.ceil(n / 4), messages[size], rt, key);
  }
  return rate(n, messages[size], rt, key);
}
