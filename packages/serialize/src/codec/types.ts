import type { DecodeOptions } from './budget.js';

/**
 * What every codec is: a name and a pair of pure functions between values and
 * bytes. Framing is separate (see `frame.ts`), as in Node's own
 * `child_process` serialization.
 */
export interface Codec {
  /** Stable name, e.g. `msgpack`; also how {@link getCodec} finds it. */
  readonly name: string;
  /**
   * Turns a value into bytes. Throws `SerializationError` (naming the path of
   * the offending part, e.g. `items[3].callback`) for anything the codec
   * cannot carry faithfully; never returns partial output.
   *
   * The returned bytes may share their `ArrayBuffer` with other encoded
   * messages (they are never overwritten): copy them, or do not transfer
   * `.buffer`.
   */
  encode(value: unknown): Uint8Array;
  /**
   * Turns bytes back into a value. Truncated, corrupted or foreign input throws
   * `DeserializationError` and nothing else. Byte arrays in the result never
   * alias `bytes`.
   *
   * A message holding more values than `options.maxValues` (the decode
   * budget, see {@link DecodeOptions}) is refused with `DeserializationError`
   * before any of it is built. Custom codecs may ignore `options`.
   */
  decode(bytes: Uint8Array, options?: DecodeOptions): unknown;
  /**
   * Optional fast path of {@link Codec.decode} for callers that decode out of
   * one private buffer they reuse: decodes `bytes[0, length)` exactly as
   * `decode(bytes.subarray(0, length))` would (same value, same errors) without
   * making that view. `bytes` must not change during the call. Callers fall
   * back to `decode` when a codec lacks it.
   */
  decodePrefix?(bytes: Uint8Array, length: number, options?: DecodeOptions): unknown;
  /**
   * Optional fast path of {@link Codec.encode} for callers that copy the bytes
   * out at once: encodes `value` (same bytes, same errors) and sets `out` to
   * where they are, `out.bytes[out.start, out.end)`, possibly inside the
   * codec's own buffer, without making a view of them. Copy them before this
   * thread next calls this codec, or another codec that may share its buffer
   * (the msgpack codecs share msgpackr's); never write to `out.bytes`. Callers
   * fall back to `encode` when a codec lacks it.
   */
  encodeRange?(value: unknown, out: { bytes: Uint8Array; start: number; end: number }): void;
}

/** Names of the built-in codecs. */
export type CodecName = 'msgpack' | 'msgpack-plain' | 'json' | 'v8';
