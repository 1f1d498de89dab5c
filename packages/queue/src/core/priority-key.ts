/**
 * Priorities as bytes that sort like the priorities themselves (memcmp order),
 * so the shared-memory heap compares keys without decoding them, and every
 * tier orders the same way.
 *
 * Order: numbers, bigints and booleans by numeric value (`false` = 0, `true`
 * = 1, as in Python; `-0` = `0`), then `NaN`, then strings (by code point, as
 * Python compares them), then arrays (element by element, a prefix first).
 * Any two priorities compare, so a put never fails on a comparison; equal
 * priorities keep the order they were put in.
 */

/** What a priority may be: a number, bigint, string or boolean, or an array of those (compared element by element). */
export type Priority = number | bigint | string | boolean | readonly Priority[];

const NUM = 0x20;
const NAN = 0x21;
const STR = 0x30;
const ARR = 0x40;
const END = 0x00;
const EXACT = 0x80;
const MAX_DEPTH = 32;

let buf = new Uint8Array(128);
let pos = 0;
const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  const next = new Uint8Array(Math.max(buf.length * 2, pos + n));
  next.set(buf.subarray(0, pos));
  buf = next;
}

function byte(b: number): void {
  ensure(1);
  buf[pos++] = b;
}

/** 8 bytes that sort as the float64 does: flip the sign bit of positives, every bit of negatives. */
function orderedFloat(x: number): void {
  f64[0] = x === 0 ? 0 : x;
  ensure(8);
  const negative = (f64bytes[littleEndian ? 7 : 0]! & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    const b = f64bytes[littleEndian ? 7 - i : i]!;
    buf[pos++] = negative ? ~b & 0xff : i === 0 ? b ^ 0x80 : b;
  }
}

/** A bigint's exact difference from its float64 rounding, as a signed, length-prefixed magnitude. */
function remainder(d: bigint): void {
  if (d === 0n) {
    byte(EXACT);
    return;
  }
  const negative = d < 0n;
  let hex = (negative ? -d : d).toString(16);
  if (hex.length & 1) hex = `0${hex}`;
  const len = hex.length >> 1;
  if (len > 0xffff) throw new TypeError('priority: bigint too large to order');
  ensure(3 + len);
  const flip = negative ? 0xff : 0;
  buf[pos++] = negative ? 0x7f : 0x81;
  buf[pos++] = (len >> 8) ^ flip;
  buf[pos++] = (len & 0xff) ^ flip;
  for (let i = 0; i < len; i++) buf[pos++] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16) ^ flip;
}

function number(x: number): void {
  if (Number.isNaN(x)) {
    byte(NAN);
    return;
  }
  byte(NUM);
  orderedFloat(x);
  byte(EXACT);
}

function big(b: bigint): void {
  let f = Number(b);
  if (f === Number.POSITIVE_INFINITY) f = Number.MAX_VALUE;
  else if (f === Number.NEGATIVE_INFINITY) f = -Number.MAX_VALUE;
  byte(NUM);
  orderedFloat(f);
  remainder(b - BigInt(f));
}

/** UTF-8 by code point (lone surrogates as their own code points), 0x00 escaped as 00 FF, ended by 00. */
function string(s: string): void {
  byte(STR);
  ensure(s.length * 3 + 1);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c === 0) {
      ensure(2 + (s.length - i) * 3);
      buf[pos++] = 0;
      buf[pos++] = 0xff;
    } else if (c < 0x80) buf[pos++] = c;
    else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  byte(END);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : typeof v;
}

function value(v: unknown, path: string, depth: number): void {
  switch (typeof v) {
    case 'number':
      number(v);
      return;
    case 'bigint':
      big(v);
      return;
    case 'string':
      string(v);
      return;
    case 'boolean':
      number(v ? 1 : 0);
      return;
    default:
      if (Array.isArray(v)) {
        if (depth >= MAX_DEPTH)
          throw new TypeError(`priority: ${path} nests arrays deeper than ${MAX_DEPTH}`);
        byte(ARR);
        for (let i = 0; i < v.length; i++) value(v[i], `${path}[${i}]`, depth + 1);
        byte(END);
        return;
      }
      throw new TypeError(
        `priority: ${path} is ${describe(v)}; a priority is a number, bigint, string, boolean or an array of those`,
      );
  }
}

/**
 * Encodes a priority as order-preserving bytes (see the module comment).
 * @throws TypeError for anything that is not a {@link Priority}, naming the path.
 */
export function encodePriority(priority: unknown): Uint8Array {
  pos = 0;
  value(priority, 'priority', 0);
  return buf.slice(0, pos);
}

/**
 * The priority of an item when the queue has no `key` function, as Python's
 * `PriorityQueue` reads `(priority, data)` tuples: the first element of an
 * array item, or the item itself when it is a number, bigint, string or boolean.
 * Only the priority is compared, never the data.
 * @throws TypeError for other items, saying how to fix it.
 */
export function defaultPriority(item: unknown): unknown {
  if (Array.isArray(item)) {
    if (item.length === 0) {
      throw new TypeError('PriorityQueue: an empty array has no priority; put [priority, data]');
    }
    return item[0];
  }
  const t = typeof item;
  if (t === 'number' || t === 'bigint' || t === 'string' || t === 'boolean') return item;
  throw new TypeError(
    `PriorityQueue: cannot take a priority from ${describe(item)}; put [priority, data] pairs or pass a key function`,
  );
}

/** Compares two encoded priorities: negative, zero or positive, as `a` sorts before, with or after `b`. */
export function comparePriorities(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
