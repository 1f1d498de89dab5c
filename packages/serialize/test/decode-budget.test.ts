import { fixture, spawnChild, within } from '@conc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countJson, countMsgpack } from '../src/codec/count.js';
import { countV8 } from '../src/codec/count-v8.js';
import {
  type Codec,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_VALUES,
  decodeMessage,
  encodeMessage,
  isDeserializationError,
  jsonCodec,
  maxValuesFor,
  msgpackCodec,
  plainMsgpackCodec,
  v8Codec,
} from '../src/index.js';
import { jsonValues, msgpackValues, plainValues, v8Values } from './arbitraries.js';
import { thrown } from './helpers.js';

describe('decode budget', () => {
  it('defaults to one value per 16 bytes of the frame limit, and follows a limit given', () => {
    expect(DEFAULT_MAX_VALUES).toBe(DEFAULT_MAX_FRAME_SIZE / 16);
    expect(maxValuesFor(16 * 1024 * 1024)).toBe(1024 * 1024);
    expect(maxValuesFor(1)).toBe(1);
    expect(maxValuesFor(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(() => maxValuesFor(-1)).toThrow(TypeError);
  });

  it('decodeMessage passes a connection’s own budget to the codec', () => {
    for (const codec of [msgpackCodec, plainMsgpackCodec, jsonCodec, v8Codec]) {
      const bytes = encodeMessage({ list: [1, 2, 3] }, { codec });
      // The object, its key, the array and its three elements.
      expect(decodeMessage(bytes, { maxValues: 6 })).toStrictEqual({ list: [1, 2, 3] });
      const err = thrown(() => decodeMessage(bytes, { maxValues: 5 }));
      expect(isDeserializationError(err)).toBe(true);
      expect(err.message).toMatch(/more than 5 values .*maxValues/);
    }
  });

  /** node:v8 values beyond the codec's usual domain: errors, boxed primitives, buffers, huge bigints, shared references. */
  const v8Extra = fc.oneof(
    v8Values,
    fc
      .tuple(v8Values, fc.string(), fc.constantFrom(Error, TypeError, RangeError, SyntaxError))
      .map(([cause, message, E]) => new E(message, { cause })),
    fc.constantFrom(new String('s\u4e00'), new Number(1.5), new Boolean(false), Object(5n), new Error()),
    fc.bigInt({ min: -(2n ** 3000n), max: 2n ** 3000n }),
    fc.uint8Array({ maxLength: 40 }).map((a) => [a.buffer, new DataView(a.buffer), new BigInt64Array(2)]),
    fc.string({ unit: 'binary' }),
    v8Values.map((v) => {
      const shared = { v };
      const cycle: Record<string, unknown> = { shared };
      cycle.self = cycle;
      return [shared, shared, cycle];
    }),
  );

  // Each counter against the codec's real output: exactly the budget decodes, one less is refused.
  const counted: [Codec, fc.Arbitrary<unknown>, (b: Uint8Array) => number][] = [
    [msgpackCodec, msgpackValues, (b) => countMsgpack(b, 0, b.length, Number.POSITIVE_INFINITY)],
    [plainMsgpackCodec, plainValues, (b) => countMsgpack(b, 0, b.length, Number.POSITIVE_INFINITY)],
    [jsonCodec, jsonValues, (b) => countJson(b, 0, b.length, Number.POSITIVE_INFINITY)],
    [v8Codec, v8Extra, (b) => countV8(b, b.length, Number.POSITIVE_INFINITY)],
  ];
  for (const [codec, values, count] of counted) {
    it(`${codec.name}: the counter follows every value the codec writes, and bounds the budget exactly`, () => {
      fc.assert(
        fc.property(values, (v) => {
          const bytes = codec.encode(v);
          const n = count(bytes);
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(bytes.length);
          expect(codec.decode(bytes, { maxValues: n })).toStrictEqual(v);
          const err = thrown(() => codec.decode(bytes, { maxValues: n - 1 }));
          expect(err.name).toBe('DeserializationError');
          expect(err.message).toContain('maxValues');
        }),
        { numRuns: 200 },
      );
    });
  }

  it('counts a primitive’s token inside a msgpack message (its JSON is built too)', () => {
    // ext8 of type 99 holding the JSON [[[[]]]]: one extension, then the four arrays of its data.
    const json = Buffer.from('[[[[]]]]');
    const bytes = Buffer.concat([Buffer.from([0xc7, json.length, 99]), json]);
    expect(countMsgpack(bytes, 0, bytes.length, Number.POSITIVE_INFINITY)).toBe(5);
    expect(countMsgpack(bytes, 0, bytes.length, 3)).toBe(4);
  });

  it('v8: refuses data the counter cannot follow, as node:v8 would', () => {
    for (const bytes of [
      [0xff, 0x0c, 0x49, 0x02], // format version 12
      [0xff, 0x0f, 0x7b, 0x00], // an end tag closing nothing
      [0xff, 0x0f, 0x57], // a tag node:v8 cannot read back (a WebAssembly module)
      [0xff, 0x0f, 0x6f], // cut inside an object
    ]) {
      const err = thrown(() => v8Codec.decode(Buffer.from(bytes), { maxValues: 1 }));
      expect(err.name).toBe('DeserializationError');
    }
  });

  describe('a valid frame whose decoded form exceeds the heap: refused, the process lives', () => {
    // Each of these killed a 256 MB heap with "JavaScript heap out of memory" before the budget
    // (seen by running the fixture against the previous build: exit 134, SIGABRT).
    for (const shape of ['msgpack', 'msgpack-records', 'msgpack-plain', 'json', 'json-nested', 'v8']) {
      it(shape, async () => {
        await using child = spawnChild(fixture(import.meta.url, 'decode-flood.mjs'), [shape], {
          ipc: false,
          execArgv: ['--max-old-space-size=256'],
        });
        const exit = await within(child.exited, 15_000, `${shape}: the receiver to finish`);
        expect(exit, child.stderr()).toStrictEqual({ code: 0, signal: null });
        const report = JSON.parse(child.stdout()) as { name: string; message: string; heapUsed: number };
        expect(report.name).toBe('DeserializationError');
        expect(report.message).toContain(`more than ${DEFAULT_MAX_VALUES} values`);
        expect(report.message).toContain('maxValues');
        // Refused before any value was built: the heap holds little more than the message.
        expect(report.heapUsed).toBeLessThan(128 * 1024 * 1024);
      });
    }
  });
});
