/**
 * The default codec: MessagePack through msgpackr in its structured-clone mode.
 *
 * msgpackr 2.1 (as 1.12 before it) with `useRecords: false` (the fast setting: no per-message
 * record definitions) writes a `Map` exactly like a plain object and cannot
 * decode a cycle through a plain object. So the pre-walk tells the two apart:
 * a message holding a Map or a cycle is written with records instead (there a
 * msgpack map only ever means a Map), marked by a leading 0xC1 byte, a byte
 * MessagePack never uses. Every other message is plain structured msgpack.
 *
 * Plain data (the commonest message) skips both the pre-walk and msgpackr:
 * msgpack-fast.ts checks and writes it in one walk, to the same bytes.
 */

import { SerializationError } from '../errors.js';
import { isShareable } from '../share.js';
import { type DecodeOptions, maxValuesOf, overBudget } from './budget.js';
import { countMsgpack } from './count.js';
import { asBuffer, checkInput, checkLength, decodeFailure } from './input.js';
import { closeTokens, describe, explain, Found, Kind, openTokens, type Profile, scan } from './inspect.js';
import { installExtensions, markStructured, revivalGate } from './msgpack-ext.js';
import { packPlain } from './msgpack-fast.js';
import { ValueReader } from './msgpack-read.js';
import { Packr, RESERVE_START_SPACE, RESET_BUFFER_MODE, REUSE_BUFFER_MODE, Unpackr } from './msgpackr.js';
import { isRevivable } from './revive.js';
import type { Codec } from './types.js';

installExtensions();

/** First byte of a message written with records (a Map or a cycle inside). */
const RECORDS_MARK = 0xc1;

/** Typed-array classes msgpackr round-trips (a subclass would come back unreadable). */
const VIEWS = new Set<unknown>([
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  Buffer,
]);

function refusedClass(o: object): boolean {
  return (
    o instanceof SharedArrayBuffer ||
    o instanceof WeakMap ||
    o instanceof WeakSet ||
    o instanceof WeakRef ||
    o instanceof Promise ||
    o instanceof Number ||
    o instanceof String ||
    o instanceof Boolean ||
    o instanceof BigInt ||
    o instanceof Symbol
  );
}

const profile: Profile = {
  codec: 'msgpack',
  undefinedOk: true,
  bigint: 'any',
  finiteOnly: false,
  wellFormed: true,
  protoKeyOk: false,
  refuseCycles: false,
  classify(o) {
    if (ArrayBuffer.isView(o)) return VIEWS.has(o.constructor) ? Kind.Leaf : Kind.Refuse;
    if (o instanceof Date || o instanceof RegExp || o instanceof ArrayBuffer) return Kind.Leaf;
    if (o instanceof Map) return o.constructor === Map ? Kind.Map : Kind.Refuse;
    if (o instanceof Set) return Kind.Set;
    if (isShareable(o)) return isRevivable(o) ? Kind.Shared : Kind.Refuse;
    if (o instanceof Error) return Kind.Error;
    if (refusedClass(o)) return Kind.Refuse;
    if (typeof (o as { toJSON?: unknown }).toJSON === 'function') return Kind.ToJson;
    return Kind.Keys;
  },
  refusal(o) {
    if (o instanceof SharedArrayBuffer) {
      return 'a SharedArrayBuffer cannot travel as bytes (send it through postMessage or workerData)';
    }
    if (o instanceof Map) return `${describe(o)} (a Map subclass) would arrive as an empty object`;
    if (ArrayBuffer.isView(o))
      return `${describe(o)} (a typed-array subclass) is not supported by the msgpack codec`;
    return `${describe(o)} is not supported by the msgpack codec`;
  },
  cycleRefusal(o) {
    return o instanceof Error
      ? 'an Error whose cause chain leads back to it is not supported by the msgpack codec'
      : undefined;
  },
};

const common = {
  structuredClone: true,
  moreTypes: true,
  copyBuffers: true,
  writeFunction: () => {
    throw new SerializationError('a function cannot be serialized');
  },
} as const;

const fastPacker = new Packr({ ...common, useRecords: false });
/**
 * For values the pre-walk saw reach every object once: the same bytes as
 * {@link fastPacker} (structured clone only adds back-references), without its
 * per-message reference Map.
 */
const flatPacker = new Packr({ ...common, structuredClone: false, useRecords: false });
const recordsPacker = new Packr({ ...common, useRecords: true });
const fastOptions = { ...common, useRecords: false, mapsAsObjects: true } as const;
/**
 * The first try at a small message (see {@link unpackSmall}): without references, so that it
 * stops at the first one instead of building a value that might print forever.
 */
const smallUnpacker = new Unpackr({ ...fastOptions, structuredClone: false });
/** The decoders of every other input: large, under records, or with references. */
const fastReader = new ValueReader(fastOptions);
const recordsReader = new ValueReader({ ...common, useRecords: true, mapsAsObjects: false });
markStructured(fastPacker);
markStructured(flatPacker);
markStructured(recordsPacker);

/** Inputs up to this many bytes are decoded from {@link decodeScratch}. */
const SCRATCH_BYTES = 512;
const decodeScratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
/** A decode through the scratch buffer is under way. */
let decoding = false;

/** Where {@link packPlain} leaves the bytes `encode` copies. */
const plainOut = { bytes: new Uint8Array(0), start: 0, end: 0 };

/** Packs `value`, given what {@link scan} found in it (so a caller that scanned never walks it again). */
function encodeScanned(value: unknown, found: number): Uint8Array {
  if ((found & (Found.Map | Found.Cycle)) === 0) {
    try {
      return ((found & Found.Repeat) === 0 ? flatPacker : fastPacker).pack(value);
    } catch {
      // Also what an object of more than 65,535 keys does here; records have no such limit.
    }
  }
  try {
    const out = recordsPacker.pack(value, RESERVE_START_SPACE | 1);
    out[0] = RECORDS_MARK;
    return out;
  } catch (err) {
    return explain(value, profile, err);
  }
}

/** encodeRange past the plain-data fast path: the pre-walk, then msgpackr. */
function encodeRangeScanned(value: unknown, out: { bytes: Uint8Array; start: number; end: number }): void {
  const found = scan(value, profile);
  if ((found & (Found.Map | Found.Cycle | Found.Repeat)) === 0) {
    let packed: (Uint8Array & { start: number; end: number }) | undefined;
    try {
      // The packer's whole buffer, with the message's bounds on it: no view made. Reset: the next
      // message is written over this one, so the buffer is reused rather than left behind (a
      // new one every few 64 KiB messages cost ~10 µs each and the garbage collector more).
      packed = flatPacker.pack(value, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as unknown as Uint8Array & {
        start: number;
        end: number;
      };
    } catch {
      // As in encode: records (or the path-naming error) below.
    }
    if (packed !== undefined) {
      out.bytes = packed;
      out.start = packed.start;
      out.end = packed.end;
      return;
    }
  }
  const bytes = encodeScanned(value, found);
  out.bytes = bytes;
  out.start = 0;
  out.end = bytes.length;
}

/**
 * MessagePack in msgpackr's structured-clone mode: the default codec.
 *
 * Carries `undefined`, `null`, booleans, numbers, strings, bigints of any
 * size, plain objects, arrays, `Map`, `Set`, `Date`, `RegExp`, `Error` (class,
 * `code`, message, stack, plain own fields and `cause`), `ArrayBuffer`, typed
 * arrays, `DataView`, `Buffer`, shared references and cycles, and conc
 * primitives (written as tokens, rebuilt with `attach` on decode). Class
 * instances travel as plain objects of their own enumerable fields (as
 * structured clone does). Not JSON-compatible and not meant for other
 * languages: use {@link plainMsgpackCodec} for that.
 *
 * @example
 * ```ts
 * const bytes = msgpackCodec.encode({ when: new Date(), tags: new Set(['a']) });
 * const value = msgpackCodec.decode(bytes);
 * ```
 */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode(value: unknown): Uint8Array {
    const plain = plainOut;
    if (packPlain(value, plain)) {
      // A Buffer, as every codec returns (msgpackr's own output included).
      const bytes = Buffer.allocUnsafe(plain.end - plain.start);
      bytes.set(plain.bytes.subarray(plain.start, plain.end));
      return bytes;
    }
    const opened = openTokens();
    try {
      return encodeScanned(value, scan(value, profile));
    } finally {
      closeTokens(opened);
    }
  },
  encodeRange(value: unknown, out: { bytes: Uint8Array; start: number; end: number }): void {
    if (packPlain(value, out)) return;
    const opened = openTokens();
    try {
      encodeRangeScanned(value, out);
    } finally {
      closeTokens(opened);
    }
  },
  decode(bytes: Uint8Array, options?: DecodeOptions): unknown {
    checkInput('msgpack', bytes);
    const n = bytes.length;
    // (The default budget is far above SCRATCH_BYTES: only a budget given needs checking here.)
    if (n <= SCRATCH_BYTES && !decoding && (options === undefined || n <= maxValuesOf(options))) {
      // msgpackr builds a DataView for every new input Buffer (and a Buffer has to be made for
      // a plain Uint8Array): together ~3x the decode of a small message. A copy into one reused
      // Buffer costs a few ns. (The decoded value never points into its input: decodePrefix's
      // contract.) Not from inside a decode: a primitive's attach, run while its message is
      // read, may decode another message, which would overwrite the rest of this one.
      decoding = true;
      try {
        const scratch = decodeScratch;
        for (let k = 0; k < n; k++) scratch[k] = bytes[k]!;
        return scratch[0] === RECORDS_MARK
          ? unpackChecked(scratch, n, options)
          : unpackSmall(scratch, n, options);
      } finally {
        decoding = false;
      }
    }
    return unpackChecked(asBuffer('msgpack', bytes), n, options);
  },
  decodePrefix(bytes: Uint8Array, length: number, options?: DecodeOptions): unknown {
    checkLength('msgpack', bytes, length);
    // A Buffer reused across calls keeps the DataView msgpackr caches on it.
    if (Buffer.isBuffer(bytes) && !(bytes.buffer instanceof SharedArrayBuffer)) {
      if (length > SCRATCH_BYTES || bytes[0] === RECORDS_MARK) return unpackChecked(bytes, length, options);
      if (options !== undefined && length > maxValuesOf(options))
        return unpackChecked(bytes, length, options);
      return unpackSmall(bytes, length, options);
    }
    return msgpackCodec.decode(bytes.subarray(0, length), options);
  },
};

/**
 * Decodes a small message, `input[0, length)` (at most {@link SCRATCH_BYTES},
 * within its budget, not under records), with msgpackr's plain `unpack`.
 *
 * Why not always a {@link ValueReader} (~20 ns more): msgpackr's message for
 * bytes left after the value prints the value, which costs nothing for a few
 * hundred bytes unless they hold back-references (a DAG of shared arrays
 * prints 2^depth elements). So the first try reads without references, and
 * with the revival of primitives held back (so nothing happens twice); a
 * message that has either is read again by the reader.
 */
function unpackSmall(input: Buffer, length: number, options: DecodeOptions | undefined): unknown {
  const gate = revivalGate;
  gate.held = true;
  try {
    // msgpackr reads a zero end as "to the end of the buffer".
    return length === 0 ? smallUnpacker.unpack(input.subarray(0, 0)) : smallUnpacker.unpack(input, length);
  } catch (err) {
    if (err === gate || (err as Error)?.message === CLONE_REFUSED) {
      gate.held = false;
      return unpackChecked(input, length, options);
    }
    throw decodeFailure('msgpack', input.subarray(0, length), err);
  } finally {
    gate.held = false;
  }
}

/** msgpackr's error for a back-reference read with `structuredClone: false`. */
const CLONE_REFUSED = 'Structured clone extension is disabled';

/** Decodes `input[0, length)`: counted against the budget when it could exceed it, then read by a {@link ValueReader}. */
function unpackChecked(input: Buffer, length: number, options: DecodeOptions | undefined): unknown {
  const max = maxValuesOf(options);
  try {
    if (length > max && countMsgpack(input, 0, length, max) > max) throw overBudget('msgpack', length, max);
    if (length > 0 && input[0] === RECORDS_MARK) return recordsReader.read(input, 1, length);
    return fastReader.read(input, 0, length);
  } catch (err) {
    throw decodeFailure('msgpack', input.subarray(0, length), err);
  }
}
