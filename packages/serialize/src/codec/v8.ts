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
 * Typed-array classes by the index node:v8's DefaultSerializer writes for them
 * (its `arrayBufferViewTypes`; Float16Array where Node.js has it).
 */
const VIEW_CLASSES: readonly (((buffer: ArrayBuffer) => ArrayBufferView) | undefined)[] = [
  (b) => new Int8Array(b),
  (b) => new Uint8Array(b),
  (b) => new Uint8ClampedArray(b),
  (b) => new Int16Array(b),
  (b) => new Uint16Array(b),
  (b) => new Int32Array(b),
  (b) => new Uint32Array(b),
  (b) => new Float32Array(b),
  (b) => new Float64Array(b),
  (b) => new DataView(b),
  (b) => Buffer.from(b),
  (b) => new BigInt64Array(b),
  (b) => new BigUint64Array(b),
  typeof (globalThis as { Float16Array?: unknown }).Float16Array === 'function'
    ? (b) =>
        new (globalThis as unknown as { Float16Array: new (b: ArrayBuffer) => ArrayBufferView }).Float16Array(
          b,
        )
    : undefined,
];
const ELEMENT_SIZES = [1, 1, 1, 2, 2, 4, 4, 4, 8, 1, 1, 8, 8, 2];

/** node:v8's Deserializer members that its typings leave out. */
interface DeserializerInternals {
  readonly buffer: Uint8Array;
  _readRawBytes(length: number): number;
}

/**
 * node:v8's DefaultDeserializer, except that every typed array, Buffer and
 * DataView gets an ArrayBuffer of its own holding exactly its bytes.
 *
 * Why: Node's reader makes them view the input, whose `.buffer` is the whole
 * message (everything else the peer sent), or, when the bytes are not
 * aligned for the element size, copies them into `Buffer.allocUnsafe`: an
 * 8 KiB slice of Node's shared pool, so a decoded `Float64Array`'s `.buffer`
 * held unrelated data from elsewhere in the process.
 */
class Reader extends DefaultDeserializer {
  /** Called by node:v8 for each host object (how its DefaultSerializer writes every ArrayBufferView). */
  _readHostObject(): ArrayBufferView {
    const type = this.readUint32();
    const byteLength = this.readUint32();
    const self = this as unknown as DeserializerInternals;
    const at = self._readRawBytes(byteLength);
    const make = VIEW_CLASSES[type];
    if (make === undefined) throw new Error(`unknown typed-array type ${type}`);
    if (byteLength % ELEMENT_SIZES[type]! !== 0) {
      throw new Error(`${byteLength} bytes are not a whole number of ${ELEMENT_SIZES[type]}-byte elements`);
    }
    // allocUnsafeSlow: an ArrayBuffer of exactly these bytes, outside the pool, not zeroed first.
    const own = Buffer.allocUnsafeSlow(byteLength);
    own.set(self.buffer.subarray(at, at + byteLength));
    return make(own.buffer);
  }
}

/**
 * `node:v8` structured clone (`v8.serialize` / `v8.deserialize`).
 *
 * Carries what structured clone does: primitives (`-0`, `NaN`, bigints,
 * `undefined`), plain objects, arrays (holes kept), `Map`, `Set`, `Date`,
 * `RegExp`, boxed primitives, `ArrayBuffer`, typed arrays, `Buffer`, shared
 * references and cycles. Errors keep their message, stack and cause, but only
 * the built-in classes (a conc error arrives as a plain `Error`; use
 * `errorToWire` or the msgpack codec). Class instances arrive as plain objects.
 * Conc primitives are refused (this codec does not rebuild them). A decoded
 * typed array, Buffer or DataView has an ArrayBuffer of its own holding exactly
 * its bytes; nothing decoded aliases the input; trailing bytes are refused.
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
      // Nothing decoded points into the input (strings and ArrayBuffers are copied, views too: see
      // Reader), so it is read in place; shared memory is copied first, as another thread may change it.
      const input =
        bytes.buffer instanceof SharedArrayBuffer ? Uint8Array.prototype.slice.call(bytes) : bytes;
      const n = input.byteLength;
      if (n > max && countV8(input, n, max) > max) throw overBudget('v8', n, max);
      const d = new Reader(input);
      d.readHeader();
      // Older formats read differently (and no Node.js that conc supports writes them).
      if (d.getWireFormatVersion() < 13)
        throw new Error(`format version ${d.getWireFormatVersion()} is too old`);
      const value: unknown = d.readValue();
      const end = (d as unknown as DeserializerInternals)._readRawBytes(0);
      if (end !== n) throw new Error(`${n - end} unexpected bytes after the value`);
      return value;
    } catch (err) {
      throw decodeFailure('v8', bytes, err);
    }
  },
};
