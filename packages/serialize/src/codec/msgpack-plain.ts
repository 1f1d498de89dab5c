/**
 * Plain MessagePack: what any MessagePack library reads (Python's `msgpack`
 * among them). No records, no structured-clone references, no msgpackr
 * extensions: only the standard types, the standard timestamp extension (-1)
 * for Dates, and ext 99 for a conc primitive (its token as UTF-8 JSON).
 */

import { SerializationError } from '../errors.js';
import { type DecodeOptions, maxValuesOf, overBudget } from './budget.js';
import { countMsgpack } from './count.js';
import { asBuffer, decodeFailure } from './input.js';
import { closeTokens, describe, explain, Kind, openTokens, type Profile, scan } from './inspect.js';
import { installExtensions } from './msgpack-ext.js';
import { ValueReader } from './msgpack-read.js';
import { Packr, Unpackr } from './msgpackr.js';
import { isRevivable } from './revive.js';
import type { Codec } from './types.js';

installExtensions();

const profile: Profile = {
  codec: 'msgpack-plain',
  undefinedOk: false,
  bigint: 'int64',
  finiteOnly: false,
  wellFormed: true,
  protoKeyOk: false,
  refuseCycles: true,
  classify(o) {
    const ctor = (o as { constructor?: unknown }).constructor;
    if (ctor === Uint8Array || ctor === Buffer) return Kind.Leaf;
    if (o instanceof Date) return Number.isNaN(o.getTime()) ? Kind.Refuse : Kind.Leaf;
    if (isRevivable(o)) return Kind.Shared;
    return Kind.Refuse;
  },
  refusal(o) {
    if (o instanceof Date) return 'an invalid Date has no MessagePack timestamp';
    if (o instanceof Map)
      return 'a Map is not plain MessagePack (send a plain object, or use the msgpack codec)';
    return `${describe(o)} is not plain MessagePack (plain objects, arrays, Uint8Array and Date only; or use the msgpack codec)`;
  },
};

const options = {
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  copyBuffers: true,
  // fixmap/map16/map32 by size: the canonical form other implementations write, and no 65,535-key limit.
  variableMapSize: true,
  writeFunction: () => {
    throw new SerializationError('a function cannot be serialized');
  },
} as const;

const packer = new Packr(options);
const unpacker = new Unpackr({ ...options, mapsAsObjects: true });
/** For inputs past {@link SMALL}, where msgpackr's message about leftover bytes (it prints the value) could cost seconds. */
const reader = new ValueReader({ ...options, mapsAsObjects: true });
/** Inputs up to this many bytes decode through msgpackr's plain `unpack` (no references here: their value prints short). */
const SMALL = 512;

/**
 * Plain MessagePack, the cross-language choice (Python's `msgpack.unpackb`
 * reads it; it reads Python's `msgpack.packb` output).
 *
 * Carries `null`, booleans, numbers, strings, bigints in the 64-bit range,
 * `Uint8Array`/`Buffer` (as `bin`, decoded as `Buffer`), plain objects (as
 * maps with string keys), arrays, valid `Date`s (timestamp extension) and conc
 * primitives (ext 99). Anything else, `undefined` included, is refused with a
 * `SerializationError` naming the path; shared references are written once
 * per occurrence (no identity); a cycle is refused.
 *
 * @example
 * ```ts
 * const bytes = plainMsgpackCodec.encode({ id: 1, data: new Uint8Array([1, 2]) });
 * // python3: msgpack.unpackb(bytes) == {'id': 1, 'data': b'\x01\x02'}
 * ```
 */
export const plainMsgpackCodec: Codec = {
  name: 'msgpack-plain',
  encode(value: unknown): Uint8Array {
    const opened = openTokens();
    try {
      scan(value, profile);
      try {
        return packer.pack(value);
      } catch (err) {
        return explain(value, profile, err);
      }
    } finally {
      closeTokens(opened);
    }
  },
  decode(bytes: Uint8Array, options?: DecodeOptions): unknown {
    const input = asBuffer('msgpack-plain', bytes);
    const n = input.length;
    const max = maxValuesOf(options);
    try {
      if (n > max && countMsgpack(input, 0, n, max) > max) throw overBudget('msgpack-plain', n, max);
      return n <= SMALL ? unpacker.unpack(input) : reader.read(input, 0, n);
    } catch (err) {
      throw decodeFailure('msgpack-plain', bytes, err);
    }
  },
};
