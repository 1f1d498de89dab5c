/**
 * `node:v8` serialize/deserialize: Node's structured clone, as
 * `child_process` uses with `serialization: 'advanced'`.
 */
import { DefaultDeserializer, serialize } from 'node:v8';
import { isShareable } from '../share.js';
import { type DecodeOptions, maxValuesOf, overBudget } from './budget.js';
import { countV8 } from './count-v8.js';
import { checkInput, decodeFailure } from './input.js';
import { describe, explain, Kind, type Profile, scan } from './inspect.js';
import type { Codec } from './types.js';

const profile: Profile = {
  codec: 'v8',
  undefinedOk: true,
  bigint: 'any',
  finiteOnly: false,
  wellFormed: false,
  protoKeyOk: true,
  refuseCycles: false,
  classify(o) {
    if (ArrayBuffer.isView(o) || o instanceof Date || o instanceof RegExp) return Kind.Leaf;
    if (o instanceof ArrayBuffer) return Kind.Leaf;
    if (o instanceof Map) return Kind.Map;
    if (o instanceof Set) return Kind.Set;
    if (o instanceof Error) return Kind.Error;
    if (o instanceof Number || o instanceof String || o instanceof Boolean || o instanceof BigInt)
      return Kind.Leaf;
    if (
      isShareable(o) ||
      o instanceof SharedArrayBuffer ||
      o instanceof WeakMap ||
      o instanceof WeakSet ||
      o instanceof WeakRef ||
      o instanceof Promise ||
      o instanceof Symbol
    ) {
      return Kind.Refuse;
    }
    return Kind.Keys;
  },
  refusal(o) {
    if (isShareable(o)) {
      return 'the v8 codec does not rebuild conc primitives (use the msgpack or json codec, or send share(x) and attach() it)';
    }
    if (o instanceof SharedArrayBuffer) {
      return 'a SharedArrayBuffer cannot travel as bytes (send it through postMessage or workerData)';
    }
    return `${describe(o)} cannot be cloned by node:v8`;
  },
};

/**
 * `node:v8` structured clone (`v8.serialize` / `v8.deserialize`).
 *
 * Carries what structured clone does: primitives (`-0`, `NaN`, bigints,
 * `undefined`), plain objects, arrays (holes kept), `Map`, `Set`, `Date`,
 * `RegExp`, boxed primitives, `ArrayBuffer`, typed arrays, `Buffer`, shared
 * references and cycles. Errors keep their message, stack and cause, but only
 * the built-in classes (a conc error arrives as a plain `Error`; use
 * `errorToWire` or the msgpack codec). Class instances arrive as plain objects.
 * Conc primitives are refused (this codec does not rebuild them). Decoding
 * copies the input, so the result never aliases it; trailing bytes are refused.
 *
 * @example
 * ```ts
 * v8Codec.decode(v8Codec.encode(new Map([[1, { at: new Date(0) }]])));
 * ```
 */
export const v8Codec: Codec = {
  name: 'v8',
  encode(value: unknown): Uint8Array {
    scan(value, profile);
    try {
      return serialize(value);
    } catch (err) {
      return explain(value, profile, err);
    }
  },
  decode(bytes: Uint8Array, options?: DecodeOptions): unknown {
    checkInput('v8', bytes);
    const max = maxValuesOf(options);
    try {
      // Node's deserializer returns typed arrays that view its input: decode a private copy, in
      // an ArrayBuffer of its own (Buffer.from would take a slice of Node's shared pool, and a
      // decoded array's .buffer would expose whatever else lives there).
      const input = Buffer.allocUnsafeSlow(bytes.byteLength);
      input.set(bytes);
      const n = input.byteLength;
      if (n > max && countV8(input, n, max) > max) throw overBudget('v8', n, max);
      const d = new DefaultDeserializer(input);
      d.readHeader();
      // Older formats read differently (and no Node.js that conc supports writes them).
      if (d.getWireFormatVersion() < 13)
        throw new Error(`format version ${d.getWireFormatVersion()} is too old`);
      const value: unknown = d.readValue();
      const end = d.readRawBytes(0).byteOffset - input.byteOffset;
      if (end !== n) throw new Error(`${n - end} unexpected bytes after the value`);
      return value;
    } catch (err) {
      throw decodeFailure('v8', bytes, err);
    }
  },
};
