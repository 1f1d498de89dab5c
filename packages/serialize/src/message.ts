/**
 * The message envelope conc puts inside a frame: two bytes before the
 * encoded value, so the receiver knows how to read it and refuses what it
 * cannot before decoding a single value byte.
 *
 * ```
 * byte 0   wire version (MESSAGE_VERSION = 1)
 * byte 1   codec tag: 1 msgpack, 2 msgpack-plain, 3 json, 4 v8, 0 agreed out of band
 * byte 2…  the value, encoded by that codec
 * ```
 */

import type { DecodeOptions } from './codec/budget.js';
import { jsonCodec } from './codec/json.js';
import { msgpackCodec } from './codec/msgpack.js';
import { plainMsgpackCodec } from './codec/msgpack-plain.js';
import { defaultCodec } from './codec/registry.js';
import type { Codec } from './codec/types.js';
import { v8Codec } from './codec/v8.js';
import { MESSAGE_HEADER_SIZE, MESSAGE_VERSION } from './envelope.js';
import { FrameTooLargeError, ProtocolError } from './errors.js';
import { DEFAULT_MAX_FRAME_SIZE, encodeMessageHead, type FrameOptions } from './frame.js';

export { MESSAGE_HEADER_SIZE, MESSAGE_VERSION } from './envelope.js';

/** Codec tag of a codec both ends agreed on out of band (a custom codec). */
export const CUSTOM_CODEC_TAG = 0;

const TAGS = new Map<Codec, number>([
  [msgpackCodec, 1],
  [plainMsgpackCodec, 2],
  [jsonCodec, 3],
  [v8Codec, 4],
]);
const BY_TAG = new Map<number, Codec>([...TAGS].map(([codec, tag]) => [tag, codec]));

/** The envelope tag of `codec`: 1–4 for the built-in codecs, {@link CUSTOM_CODEC_TAG} for any other. */
export function codecTag(codec: Codec): number {
  return TAGS.get(codec) ?? CUSTOM_CODEC_TAG;
}

/**
 * Options of {@link encodeMessage}, {@link encodeMessageFrame} and
 * {@link decodeMessage}. `maxValues` (the decode budget) only applies when
 * decoding: a connection passes its own, e.g. `maxValuesFor(maxFrameSize)`.
 */
export interface MessageOptions extends DecodeOptions {
  /**
   * The codec to write with, and, when decoding, the only one accepted: a
   * message in another codec is a `ProtocolError`. A custom codec (tag 0)
   * must be given on both ends.
   *
   * @default defaultCodec (msgpack) when encoding; any built-in codec when decoding
   * @example
   * ```ts
   * decodeMessage(bytes, { codec: jsonCodec });
   * ```
   */
  readonly codec?: Codec;
}

/**
 * `value` encoded with its envelope, as one buffer.
 *
 * @throws SerializationError naming the path of an unserializable part.
 * @example
 * ```ts
 * const bytes = encodeMessage({ id: 1 }, { codec: jsonCodec });
 * decodeMessage(bytes); // { id: 1 }
 * ```
 */
export function encodeMessage(value: unknown, options: MessageOptions = {}): Uint8Array {
  const codec = options.codec ?? defaultCodec;
  const payload = codec.encode(value);
  const out = new Uint8Array(MESSAGE_HEADER_SIZE + payload.byteLength);
  out[0] = MESSAGE_VERSION;
  out[1] = codecTag(codec);
  out.set(payload, MESSAGE_HEADER_SIZE);
  return out;
}

/**
 * `value` encoded with its envelope as a frame, in two chunks: `[frame header
 * + envelope, payload]`, ready for `writev` with no copy of the payload.
 *
 * @throws SerializationError naming the path of an unserializable part.
 * @throws FrameTooLargeError when the frame would exceed `maxFrameSize` (checked before anything is written).
 */
export function encodeMessageFrame(
  value: unknown,
  options: MessageOptions & FrameOptions = {},
): Uint8Array[] {
  const codec = options.codec ?? defaultCodec;
  const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const payload = codec.encode(value);
  const length = MESSAGE_HEADER_SIZE + payload.byteLength;
  if (length > max) throw new FrameTooLargeError(length, max);
  return [encodeMessageHead(length, codecTag(codec)), payload];
}

/**
 * Reads an envelope and decodes the value with the codec it names.
 *
 * @throws ProtocolError for an empty or unknown-version message, an unknown
 * codec tag, or a codec other than `options.codec`, before decoding any value byte.
 * @throws DeserializationError when the value bytes are corrupt, or hold
 * more values than `options.maxValues` (the decode budget; see {@link DecodeOptions}).
 * @example
 * ```ts
 * decodeMessage(frame, { maxValues: maxValuesFor(connection.maxFrameSize) });
 * ```
 */
export function decodeMessage(bytes: Uint8Array, options: MessageOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeMessage expects a Uint8Array');
  if (bytes.byteLength < MESSAGE_HEADER_SIZE) {
    throw new ProtocolError(`message of ${bytes.byteLength} bytes is shorter than its 2-byte envelope`);
  }
  const version = bytes[0]!;
  if (version !== MESSAGE_VERSION) {
    throw new ProtocolError(
      `unsupported message version ${version} (this copy of @conc/serialize reads version ${MESSAGE_VERSION})`,
    );
  }
  const tag = bytes[1]!;
  const expected = options.codec;
  let codec: Codec | undefined;
  if (tag === CUSTOM_CODEC_TAG) {
    if (expected === undefined || TAGS.has(expected)) {
      throw new ProtocolError('message uses a custom codec (tag 0) but no custom codec is configured here');
    }
    codec = expected;
  } else {
    codec = BY_TAG.get(tag);
    if (codec === undefined) throw new ProtocolError(`unknown codec tag ${tag}`);
    if (expected !== undefined && expected !== codec) {
      throw new ProtocolError(`message is encoded with ${codec.name}, but this end expects ${expected.name}`);
    }
  }
  return codec.decode(bytes.subarray(MESSAGE_HEADER_SIZE), options);
}
