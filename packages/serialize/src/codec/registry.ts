import { jsonCodec } from './json.js';
import { msgpackCodec } from './msgpack.js';
import { plainMsgpackCodec } from './msgpack-plain.js';
import type { Codec, CodecName } from './types.js';
import { v8Codec } from './v8.js';

/** The codec used when none is chosen: {@link msgpackCodec}. */
export const defaultCodec: Codec = msgpackCodec;

/** Every built-in codec, default first. */
export const codecs: readonly Codec[] = Object.freeze([msgpackCodec, plainMsgpackCodec, jsonCodec, v8Codec]);

const byName = new Map<string, Codec>(codecs.map((c) => [c.name, c]));

/**
 * The built-in codec with this name.
 *
 * @throws TypeError for an unknown name, listing the known ones.
 * @example
 * ```ts
 * const codec = getCodec('json');
 * ```
 */
export function getCodec(name: CodecName): Codec;
export function getCodec(name: string): Codec;
export function getCodec(name: string): Codec {
  const codec = byName.get(name);
  if (!codec) {
    throw new TypeError(
      `unknown codec ${JSON.stringify(name)}; the codecs are ${codecs.map((c) => `"${c.name}"`).join(', ')}`,
    );
  }
  return codec;
}

/**
 * Resolves a `codec` option: a name, a codec object, or `undefined` for the default.
 *
 * @example
 * ```ts
 * class Pipe { constructor(opts: { codec?: CodecName | Codec } = {}) { this.codec = resolveCodec(opts.codec); } }
 * ```
 */
export function resolveCodec(codec: CodecName | Codec | undefined): Codec {
  if (codec === undefined) return defaultCodec;
  if (typeof codec === 'string') return getCodec(codec);
  if (
    typeof codec !== 'object' ||
    codec === null ||
    typeof codec.name !== 'string' ||
    typeof codec.encode !== 'function' ||
    typeof codec.decode !== 'function'
  ) {
    throw new TypeError('codec must be a codec name or an object with name, encode() and decode()');
  }
  return codec;
}
