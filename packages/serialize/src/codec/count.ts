/**
 * Value counters for the decode budget (see budget.ts), for MessagePack and
 * JSON: one pass over the bytes that builds nothing, so a message over its
 * budget is refused before the decoder allocates a single value.
 *
 * Each returns how many values the bytes hold, stopping as soon as the count
 * passes `max`. They never throw: on malformed input they return some count
 * (the decoder then refuses the bytes itself).
 */

/** The extension a conc primitive travels in (msgpack-ext.ts's TOKEN_EXT): its data is JSON. */
const TOKEN_EXT = 99;

/** Payload bytes after each MessagePack header byte from 0xc0 on (the length fields themselves included). */
function fixedSize(token: number): number {
  switch (token) {
    case 0xcc:
    case 0xd0:
      return 1;
    case 0xcd:
    case 0xd1:
    case 0xdc:
    case 0xde:
    case 0xd4: // fixext 1: type + 1 byte
      return 2;
    case 0xd5:
      return 3;
    case 0xca:
    case 0xce:
    case 0xd2:
    case 0xdd:
    case 0xdf:
      return 4;
    case 0xd6:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 8;
    case 0xd7:
      return 9;
    case 0xd8:
      return 17;
    default:
      // nil, 0xc1 (never used), false, true
      return 0;
  }
}

/**
 * Counts the MessagePack items in `b[start, end)`: every header is one value
 * (map keys included), the payloads of strings, binaries and extensions are
 * skipped. msgpackr's records, references and extensions only ever add
 * values that have a header of their own, so the count bounds what it builds.
 */
export function countMsgpack(b: Uint8Array, start: number, end: number, max: number): number {
  let count = 0;
  let p = start;
  while (p < end) {
    if (++count > max) return count;
    const token = b[p++]!;
    if (token < 0xc0) {
      // fixint (or a record), fixmap, fixarray: their contents follow as items; fixstr: skip it.
      if (token >= 0xa0) p += token - 0xa0;
      continue;
    }
    if (token >= 0xe0) continue;
    let size: number;
    /** Where an extension's type byte is (its data follows), or -1. */
    let typeAt = -1;
    switch (token) {
      case 0xc4:
      case 0xd9:
        size = 1 + (b[p] ?? 0);
        break;
      case 0xc5:
      case 0xda:
        size = 2 + (((b[p] ?? 0) << 8) | (b[p + 1] ?? 0));
        break;
      case 0xc6:
      case 0xdb:
        size = 4 + u32(b, p);
        break;
      case 0xc7:
        typeAt = p + 1;
        size = 2 + (b[p] ?? 0);
        break;
      case 0xc8:
        typeAt = p + 2;
        size = 3 + (((b[p] ?? 0) << 8) | (b[p + 1] ?? 0));
        break;
      case 0xc9:
        typeAt = p + 4;
        size = 5 + u32(b, p);
        break;
      default:
        if (token >= 0xd4 && token <= 0xd8) typeAt = p;
        size = fixedSize(token);
    }
    if (typeAt >= 0 && b[typeAt] === TOKEN_EXT) {
      // A primitive's token is JSON inside the extension: its values are built too.
      count += countJson(b, typeAt + 1, Math.min(end, p + size), max - count);
      if (count > max) return count;
    }
    p += size;
  }
  return count;
}

function u32(b: Uint8Array, p: number): number {
  return (
    ((b[p] ?? 0) * 0x1000000 + (((b[p + 1] ?? 0) << 16) | ((b[p + 2] ?? 0) << 8) | (b[p + 3] ?? 0))) >>> 0
  );
}

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Counts the values of the UTF-8 JSON text in `b[start, end)`, object keys
 * included (as MessagePack counts them): the root, the first element or key
 * of every non-empty container, one more after each comma, and each member's
 * value after its colon. Strings are skipped (UTF-8 never puts an ASCII byte
 * inside a multi-byte character).
 */
export function countJson(b: Uint8Array, start: number, end: number, max: number): number {
  let count = 1;
  for (let p = start; p < end; p++) {
    const c = b[p]!;
    if (c === QUOTE) {
      // Skip the string: to its closing quote, stepping over escapes.
      for (p++; p < end; p++) {
        const s = b[p]!;
        if (s === BACKSLASH) p++;
        else if (s === QUOTE) break;
      }
    } else if (c === COMMA || c === COLON) {
      if (++count > max) return count;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      let q = p + 1;
      while (q < end && (b[q] === 0x20 || b[q] === 0x0a || b[q] === 0x0d || b[q] === 0x09)) q++;
      if (q < end && b[q] !== CLOSE_ARRAY && b[q] !== CLOSE_OBJECT && ++count > max) return count;
    }
  }
  return count;
}
