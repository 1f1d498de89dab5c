import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { v8Codec } from '../src/index.js';

const views: [string, () => ArrayBufferView][] = [
  ['Float64Array', () => new Float64Array([1.5, -2.25, 3])],
  ['BigInt64Array', () => new BigInt64Array([1n, -2n])],
  ['Int16Array', () => new Int16Array([1, -2, 3])],
  ['Uint8Array', () => new Uint8Array([1, 2, 3, 4, 5])],
  ['Buffer', () => Buffer.from('private bytes')],
  ['DataView', () => new DataView(new Uint8Array([9, 8, 7]).buffer)],
];

describe('v8 codec: decoded typed arrays', () => {
  for (const [name, make] of views) {
    it(`${name}: its .buffer holds its own bytes and nothing else, at every alignment in the message`, () => {
      // A string of k characters before it moves its bytes to every offset modulo 8 in the input.
      for (let k = 0; k < 16; k++) {
        const sent = make();
        const bytes = v8Codec.encode(['x'.repeat(k), sent, 'after']);
        const [, got] = v8Codec.decode(bytes) as [string, ArrayBufferView];
        expect(got.constructor).toBe(sent.constructor);
        // Before: the whole message (aligned), or an 8 KiB slice of Node's Buffer pool holding
        // unrelated data from elsewhere in the process (not aligned).
        expect(got.buffer.byteLength, `k = ${k}`).toBe(sent.byteLength);
        expect(got.byteOffset).toBe(0);
        expect(Buffer.from(got.buffer)).toStrictEqual(
          Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength),
        );
        // Nothing aliases the input.
        bytes.fill(0);
        expect(Buffer.from(got.buffer)).toStrictEqual(
          Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength),
        );
      }
    });
  }

  it('refuses a host object of an unknown type, or a length that is not whole elements', () => {
    // node:v8's host-object form: tag 0x5c, type index, byte length, bytes.
    for (const [type, length] of [
      [99, 8],
      [8, 12], // Float64Array of 12 bytes
    ] as const) {
      const bytes = Buffer.concat([Buffer.from([0xff, 0x0f, 0x5c, type, length]), Buffer.alloc(length)]);
      expect(() => v8Codec.decode(bytes)).toThrow(expect.objectContaining({ name: 'DeserializationError' }));
    }
    expect(v8Codec.decode(serialize(new Float64Array([7])))).toStrictEqual(new Float64Array([7]));
  });
});
