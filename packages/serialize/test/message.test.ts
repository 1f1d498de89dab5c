import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Codec,
  CUSTOM_CODEC_TAG,
  codecs,
  codecTag,
  decodeMessage,
  encodeMessage,
  encodeMessageFrame,
  FrameDecoder,
  isDeserializationError,
  isFrameTooLargeError,
  isProtocolError,
  isSerializationError,
  jsonCodec,
  MESSAGE_VERSION,
  msgpackCodec,
} from '../src/index.js';
import { thrown } from './helpers.js';

/** A codec that counts decode calls, to prove a refusal happens before any value byte is read. */
function spy(inner: Codec): Codec & { decodes: number } {
  const s = {
    name: inner.name,
    decodes: 0,
    encode: (v: unknown) => inner.encode(v),
    decode(bytes: Uint8Array) {
      s.decodes++;
      return inner.decode(bytes);
    },
  };
  return s;
}

describe('message envelope', () => {
  it('starts with the version and the codec tag, and round-trips with every built-in codec', () => {
    expect(codecs.map(codecTag)).toEqual([1, 2, 3, 4]);
    for (const codec of codecs) {
      const bytes = encodeMessage({ id: 1, name: 'rose' }, { codec });
      expect([bytes[0], bytes[1]]).toEqual([MESSAGE_VERSION, codecTag(codec)]);
      expect(decodeMessage(bytes)).toEqual({ id: 1, name: 'rose' });
      expect(decodeMessage(bytes, { codec })).toEqual({ id: 1, name: 'rose' });
    }
    expect(encodeMessage(1)[1]).toBe(1); // msgpack by default
  });

  it('refuses an unknown version or codec tag with ProtocolError before decoding a value byte', () => {
    const bytes = encodeMessage({ a: 1 });
    const bad = [
      Uint8Array.of(2, 1, ...bytes.subarray(2)),
      Uint8Array.of(0, 1, ...bytes.subarray(2)),
      Uint8Array.of(1, 9, ...bytes.subarray(2)),
      Uint8Array.of(1, 255),
      Uint8Array.of(1),
      new Uint8Array(0),
    ];
    for (const b of bad) {
      const err = thrown(() => decodeMessage(b));
      expect(isProtocolError(err), String(err)).toBe(true);
    }
    expect(thrown(() => decodeMessage(bad[0]!)).message).toMatch(/version 2/);
    const expected = spy(jsonCodec);
    const err = thrown(() => decodeMessage(bytes, { codec: expected }));
    expect(isProtocolError(err)).toBe(true);
    expect(err.message).toMatch(/encoded with msgpack, but this end expects json/);
    expect(expected.decodes).toBe(0);
  });

  it('carries a custom codec as tag 0, readable only where that codec is configured', () => {
    const custom = spy({
      name: 'upper',
      encode: (v) => Buffer.from(String(v).toUpperCase()),
      decode: (b) => Buffer.from(b).toString(),
    });
    expect(codecTag(custom)).toBe(CUSTOM_CODEC_TAG);
    const bytes = encodeMessage('hi', { codec: custom });
    expect(bytes[1]).toBe(0);
    expect(decodeMessage(bytes, { codec: custom })).toBe('HI');
    expect(isProtocolError(thrown(() => decodeMessage(bytes)))).toBe(true);
    expect(isProtocolError(thrown(() => decodeMessage(bytes, { codec: msgpackCodec })))).toBe(true);
    expect(custom.decodes).toBe(1);
  });

  it('reports corrupt value bytes as DeserializationError and unserializable values as SerializationError', () => {
    const bytes = encodeMessage({ list: [1, 2, 3] });
    expect(isDeserializationError(thrown(() => decodeMessage(bytes.subarray(0, bytes.byteLength - 1))))).toBe(
      true,
    );
    const err = thrown(() => encodeMessageFrame({ cb: () => 1 }));
    expect(isSerializationError(err)).toBe(true);
    expect((err as Error & { path: string }).path).toBe('cb');
  });

  it('frames messages without copying the payload, and checks the frame limit at the sender', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 6 }), (values) => {
        const decoder = new FrameDecoder();
        const frames: Uint8Array[] = [];
        for (const v of values) {
          const [head, payload] = encodeMessageFrame(v, { codec: jsonCodec });
          expect(head!.byteLength).toBe(6);
          frames.push(...decoder.push(Buffer.concat([head!, payload!])));
        }
        expect(frames.map((f) => decodeMessage(f))).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
      }),
      { numRuns: 100 },
    );
    // No copy: the second chunk is the very array the codec returned.
    const made: Uint8Array[] = [];
    const spy = { ...jsonCodec, encode: (v: unknown) => made[made.push(jsonCodec.encode(v)) - 1]! };
    const [, payload] = encodeMessageFrame({ a: 1 }, { codec: spy });
    expect(payload).toBe(made[0]);
    const err = thrown(() => encodeMessageFrame(new Uint8Array(100), { maxFrameSize: 50 }));
    expect(isFrameTooLargeError(err)).toBe(true);
  });
});
