/**
 * The conformance suite every codec passes (`@conc/serialize`'s four, and any
 * custom codec a package adds). Structural types only: no `@conc/*` import.
 *
 * @example
 * ```ts
 * codecContract('msgpack', msgpackCodec, { values: msgpackValues });
 * ```
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** What the contract needs of a codec. */
export interface ContractCodec {
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/** Options of {@link codecContract}. */
export interface CodecContractOptions {
  /**
   * Values the codec must round-trip exactly (`toStrictEqual`). Plain JSON
   * data ({@link plainDataArbitrary}) is always checked as well.
   */
  readonly values?: fc.Arbitrary<unknown>;
  /**
   * Hand-made byte strings the decoder must survive (prototype-pollution
   * payloads in the codec's own format, say): each must decode or throw
   * `DeserializationError`, and never pollute a prototype.
   */
  readonly hostile?: readonly Uint8Array[];
  /** fast-check runs per property. @default 150 */
  readonly numRuns?: number;
}

const KEY = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((k) => k !== '__proto__' && k !== '$concShared');

/**
 * Plain JSON data every codec carries: `null`, booleans, finite numbers
 * (never `-0`), well-formed strings, arrays and plain objects.
 */
export const plainDataArbitrary: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d)),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(KEY, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value;

/** Containers only: every strict prefix of their encoding is incomplete in any format. */
const containers = fc.oneof(
  fc.array(plainDataArbitrary, { minLength: 1, maxLength: 5 }),
  fc.dictionary(KEY, plainDataArbitrary, { minKeys: 1, maxKeys: 5, noNullPrototype: true }),
);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  path?: unknown;
}

function expectDeserializationError(err: unknown): void {
  const e = err as ErrorLike;
  expect(e?.name, `expected DeserializationError, got ${String((err as Error)?.stack ?? err)}`).toBe(
    'DeserializationError',
  );
  expect(e.code).toBe('ERR_CONC_DESERIALIZATION');
}

/** Decodes, and asserts that a failure is a DeserializationError and nothing else. */
function decodeOrDeserializationError(
  codec: ContractCodec,
  bytes: Uint8Array,
): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: codec.decode(bytes) };
  } catch (err) {
    expectDeserializationError(err);
    return { ok: false };
  }
}

function catchError(fn: () => unknown): ErrorLike & Error {
  try {
    fn();
  } catch (err) {
    return err as ErrorLike & Error;
  }
  throw new Error('expected a throw, got a value');
}

function expectNoPollution(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

function inSharedMemory(bytes: Uint8Array): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(bytes.byteLength + 8), 8, bytes.byteLength);
  view.set(bytes);
  return view;
}

/**
 * Registers the codec conformance suite for `codec`.
 *
 * Checks: exact round trips (plain JSON data, plus `options.values`); decoded
 * values share nothing with each other; decoding from shared memory;
 * `SerializationError` with a path for a function, a symbol and a throwing
 * getter, with the codec still usable afterwards; truncated, bit-flipped,
 * random, padded and non-byte input only ever throws `DeserializationError`;
 * `__proto__`/`constructor` keys never pollute a prototype.
 */
export function codecContract(name: string, codec: ContractCodec, options: CodecContractOptions = {}): void {
  const numRuns = options.numRuns ?? 150;

  describe(`codec contract: ${name}`, () => {
    it('is named and returns bytes', () => {
      expect(typeof codec.name).toBe('string');
      expect(codec.name.length).toBeGreaterThan(0);
      expect(codec.encode({ a: 1 })).toBeInstanceOf(Uint8Array);
    });

    it('round-trips plain JSON data exactly', () => {
      fc.assert(
        fc.property(plainDataArbitrary, (v) => {
          expect(codec.decode(codec.encode(v))).toStrictEqual(v);
        }),
        { numRuns },
      );
    });

    if (options.values) {
      const values = options.values;
      it('round-trips its own domain exactly', () => {
        fc.assert(
          fc.property(values, (v) => {
            expect(codec.decode(codec.encode(v))).toStrictEqual(v);
          }),
          { numRuns },
        );
      });
    }

    it('decodes into fresh values: two decodes of the same bytes share nothing', () => {
      const bytes = codec.encode({ list: [1, 2], inner: { x: 'y' } });
      const a = codec.decode(bytes) as { list: number[]; inner: { x: string } };
      const b = codec.decode(bytes) as { list: number[]; inner: { x: string } };
      a.list.push(3);
      a.inner.x = 'changed';
      expect(b).toStrictEqual({ list: [1, 2], inner: { x: 'y' } });
    });

    it('decodes bytes that live in a SharedArrayBuffer', () => {
      fc.assert(
        fc.property(plainDataArbitrary, (v) => {
          expect(codec.decode(inSharedMemory(codec.encode(v)))).toStrictEqual(v);
        }),
        { numRuns: Math.min(numRuns, 50) },
      );
    });

    it('refuses a function, a symbol and a throwing getter with SerializationError naming the path', () => {
      const fn = catchError(() => codec.encode({ items: [0, 1, 2, { callback: () => 1 }] }));
      expect(fn.name).toBe('SerializationError');
      expect(fn.code).toBe('ERR_CONC_SERIALIZATION');
      expect(fn.path).toBe('items[3].callback');
      expect(fn.message).toContain('items[3].callback');

      const sym = catchError(() => codec.encode({ a: { 'odd key': [Symbol('s')] } }));
      expect(sym.name).toBe('SerializationError');
      expect(sym.path).toBe('a["odd key"][0]');

      const getter = {
        ok: 1,
        get broken(): number {
          throw new Error('getter exploded');
        },
      };
      const g = catchError(() => codec.encode({ deep: getter }));
      expect(g.name).toBe('SerializationError');
      expect(g.path).toBe('deep.broken');
      expect(g.message).toContain('getter exploded');

      const root = catchError(() => codec.encode(() => 1));
      expect(root.name).toBe('SerializationError');
      expect(root.path).toBe('');
    });

    it('stays usable after a refused value: the next encode is complete and exact', () => {
      fc.assert(
        fc.property(plainDataArbitrary, (v) => {
          expect(() => codec.encode({ v, f: () => 1 })).toThrow();
          expect(codec.decode(codec.encode(v))).toStrictEqual(v);
        }),
        { numRuns: Math.min(numRuns, 50) },
      );
    });

    it('refuses every truncation of a message with DeserializationError', () => {
      fc.assert(
        fc.property(containers, fc.nat(), (v, cut) => {
          const bytes = codec.encode(v);
          const short = bytes.subarray(0, cut % bytes.byteLength);
          expect(decodeOrDeserializationError(codec, new Uint8Array(short)).ok).toBe(false);
        }),
        { numRuns },
      );
    });

    it('throws only DeserializationError for bit-flipped messages', () => {
      fc.assert(
        fc.property(
          plainDataArbitrary,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }),
          (v, flips) => {
            const bytes = new Uint8Array(codec.encode(v));
            for (const [at, bit] of flips) {
              const i = at % bytes.byteLength;
              bytes[i] = (bytes[i] ?? 0) ^ (1 << bit);
            }
            decodeOrDeserializationError(codec, bytes);
          },
        ),
        { numRuns: numRuns * 2 },
      );
    });

    it('throws only DeserializationError for random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          decodeOrDeserializationError(codec, bytes);
        }),
        { numRuns: numRuns * 2 },
      );
    });

    it('a failed decode never changes how later messages decode', () => {
      // Decoders with process-wide caches (msgpackr's key cache) must not keep anything from a failed decode.
      fc.assert(
        fc.property(plainDataArbitrary, fc.nat(), fc.nat(), (v, cut, flip) => {
          const bytes = codec.encode(v);
          const bad = new Uint8Array(bytes.subarray(0, cut % (bytes.byteLength + 1)));
          if (bad.byteLength > 0)
            bad[flip % bad.byteLength] = (bad[flip % bad.byteLength] ?? 0) ^ (1 << (flip % 8));
          decodeOrDeserializationError(codec, bad);
          expect(codec.decode(bytes)).toStrictEqual(v);
        }),
        { numRuns: numRuns * 10 },
      );
    });

    it('refuses trailing bytes after a complete message', () => {
      fc.assert(
        fc.property(plainDataArbitrary, (v) => {
          const bytes = codec.encode(v);
          const padded = new Uint8Array(bytes.byteLength + 1);
          padded.set(bytes);
          padded[bytes.byteLength] = 0x01;
          expect(decodeOrDeserializationError(codec, padded).ok).toBe(false);
        }),
        { numRuns: Math.min(numRuns, 50) },
      );
    });

    it('refuses input that is not a Uint8Array with DeserializationError', () => {
      for (const bad of [undefined, null, 'text', 42, [1, 2], new ArrayBuffer(4)]) {
        expectDeserializationError(catchError(() => codec.decode(bad as unknown as Uint8Array)));
      }
    });

    it('never pollutes a prototype through __proto__ or constructor keys', () => {
      const hostile = JSON.parse(
        '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"a":[{"__proto__":{"polluted":"yes"}}]}',
      ) as unknown;
      let bytes: Uint8Array | undefined;
      try {
        bytes = codec.encode(hostile);
      } catch (err) {
        // Refusing such keys at encode is fine; it must be the documented error.
        expect((err as ErrorLike).name).toBe('SerializationError');
      }
      if (bytes) {
        const back = codec.decode(bytes) as Record<string, unknown>;
        expectNoPollution();
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect((back as { polluted?: unknown }).polluted).toBeUndefined();
      }
      for (const payload of options.hostile ?? []) {
        const r = decodeOrDeserializationError(codec, payload);
        expectNoPollution();
        if (r.ok && typeof r.value === 'object' && r.value !== null) {
          expect((r.value as { polluted?: unknown }).polluted).toBeUndefined();
        }
      }
    });
  });
}
