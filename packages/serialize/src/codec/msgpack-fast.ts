/**
 * The msgpack codec's fast path: one walk that both checks and writes a value
 * made only of plain data (plain objects, arrays, short strings, numbers,
 * booleans and null), byte for byte what msgpackr writes for it. Anything else
 * (a Map, a Date, a class instance, undefined, a bigint, a long string or one
 * holding a surrogate, a shared or repeated object, deep or large values) makes
 * it give up at once, and the codec takes its usual road: the pre-walk, then
 * msgpackr. So it never decides what a value may hold; it only skips the
 * second walk (and msgpackr's per-call set-up) for the commonest messages.
 *
 * The bytes (msgpackr 2.1 with `useRecords: false`, no float32): a plain object
 * is a map16 of its own enumerable keys in `Object.keys` order; an array is a
 * fixarray/array16; a string is a fixstr/str8 of its UTF-8 bytes; an
 * integer takes the smallest MessagePack int form; any other number is a
 * float64. A test holds these to msgpackr's own output for random values.
 */

/** Deepest nesting the fast path walks. */
const MAX_DEPTH = 16;
/** Most objects and arrays in one value (each is checked against the others for repeats). */
const MAX_OBJECTS = 32;
/** Longest string, in UTF-16 code units, it writes (msgpackr switches to another writer at 64). */
const MAX_STRING = 0x40;
/** Largest message it writes, in bytes. */
const MAX_BYTES = 64 * 1024;
/** Room kept free past the write position: the most any single number, header or key needs. */
const SLACK = 16;

let buf = new Uint8Array(4096);
let view = new DataView(buf.buffer);
let pos = 0;
/** Objects and arrays of the value being written, to give up on a repeated one. */
const objects: object[] = [];
let objectCount = 0;
/** A walk is under way (see {@link packPlain}). */
let busy = false;

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;
const hasOwn = Object.hasOwn;

/** Makes room for `n` more bytes past {@link pos}; false past {@link MAX_BYTES}. */
function room(n: number): boolean {
  const need = pos + n + SLACK;
  if (need <= buf.length) return true;
  if (need > MAX_BYTES + SLACK) return false;
  const next = new Uint8Array(Math.min(MAX_BYTES + SLACK, Math.max(buf.length * 2, need)));
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(next.buffer);
  return true;
}

/** Writes a string of fewer than MAX_STRING code units, none a surrogate; false otherwise. */
function writeString(s: string): boolean {
  const n = s.length;
  if (n >= MAX_STRING || !room(3 * n)) return false;
  const b = buf;
  // Written after a header the size msgpackr guesses from the length, moved if the guess was off.
  const start = pos + (n < 0x20 ? 1 : 2);
  let p = start;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) b[p++] = c;
    else if (c < 0x800) {
      b[p++] = (c >> 6) | 0xc0;
      b[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xf800) === 0xd800) return false;
    else {
      b[p++] = (c >> 12) | 0xe0;
      b[p++] = ((c >> 6) & 0x3f) | 0x80;
      b[p++] = (c & 0x3f) | 0x80;
    }
  }
  // At most 3 * 63 bytes: a fixstr or a str8. (At 32 code units or more it is never a fixstr.)
  const len = p - start;
  if (len < 0x20) {
    b[pos] = 0xa0 | len;
    pos += 1 + len;
  } else {
    if (start !== pos + 2) b.copyWithin(pos + 2, start, p);
    b[pos] = 0xd9;
    b[pos + 1] = len;
    pos += 2 + len;
  }
  return true;
}

/** Writes a number as msgpackr does (no float32): the smallest int form, else a float64. */
function writeNumber(v: number): void {
  const b = buf;
  if (v >>> 0 === v) {
    if (v < 0x80) b[pos++] = v;
    else if (v < 0x100) {
      b[pos++] = 0xcc;
      b[pos++] = v;
    } else if (v < 0x10000) {
      b[pos++] = 0xcd;
      b[pos++] = v >> 8;
      b[pos++] = v & 0xff;
    } else {
      b[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) b[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      b[pos++] = 0xd0;
      b[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      b[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      b[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
  } else {
    b[pos++] = 0xcb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

function writeValue(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'number':
      if (!room(9)) return false;
      writeNumber(v);
      return true;
    case 'string':
      return writeString(v);
    case 'boolean':
      if (!room(1)) return false;
      buf[pos++] = v ? 0xc3 : 0xc2;
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) {
    if (!room(1)) return false;
    buf[pos++] = 0xc0;
    return true;
  }
  if (depth >= MAX_DEPTH || objectCount >= MAX_OBJECTS || !room(3)) return false;
  for (let k = 0; k < objectCount; k++) if (objects[k] === v) return false;
  objects[objectCount++] = v;
  const proto = Object.getPrototypeOf(v);
  if (proto === OBJECT_PROTO && (v as { constructor?: unknown }).constructor === Object) {
    const o = v as Record<string, unknown>;
    const at = pos;
    pos += 3;
    let size = 0;
    for (const key in o) {
      // msgpackr skips inherited keys; '__proto__' is refused by the codec's rules.
      if (key === '__proto__' || !hasOwn(o, key)) return false;
      if (!writeString(key) || !writeValue(o[key], depth + 1)) return false;
      size++;
    }
    if (size > 0xffff) return false;
    buf[at] = 0xde;
    buf[at + 1] = size >> 8;
    buf[at + 2] = size & 0xff;
    return true;
  }
  if (proto === ARRAY_PROTO && Array.isArray(v) && v.constructor === Array) {
    const n = v.length;
    if (n < 0x10) buf[pos++] = 0x90 | n;
    else if (n < 0x10000) {
      buf[pos++] = 0xdc;
      buf[pos++] = n >> 8;
      buf[pos++] = n & 0xff;
    } else return false;
    // A hole reads as undefined, which gives up.
    for (let i = 0; i < n; i++) if (!writeValue(v[i], depth + 1)) return false;
    return true;
  }
  return false;
}

/**
 * Writes `value` when it is plain data, leaving its bytes in a buffer of this
 * module's (valid until the next call) at `out.bytes[out.start, out.end)`.
 * Returns false, writing nothing to `out`, for anything else.
 */
export function packPlain(value: unknown, out: { bytes: Uint8Array; start: number; end: number }): boolean {
  // A getter of the value may encode something itself: that call takes the usual road, which
  // leaves this walk's buffer alone.
  if (busy) return false;
  busy = true;
  pos = 0;
  objectCount = 0;
  let ok = false;
  try {
    ok = writeValue(value, 0);
  } catch {
    // A getter or a proxy trap threw: the usual road explains it.
  } finally {
    for (let k = 0; k < objectCount; k++) objects[k] = undefined as unknown as object;
    objectCount = 0;
    busy = false;
  }
  if (!ok) return false;
  out.bytes = buf;
  out.start = 0;
  out.end = pos;
  return true;
}
