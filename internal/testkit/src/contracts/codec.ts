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

/** Where a codec's optional `encodeRange` leaves a message. */
export interface ContractRange {
  bytes: Uint8Array;
  start: number;
  end: number;
}

/** The decode options the contract passes (the decode budget). */
export interface ContractDecodeOptions {
  readonly maxValues?: number;
}

/**
 * What the contract needs of a codec. The two optional fast paths are checked
 * whenever the codec has them (see {@link codecContract}).
 */
export interface ContractCodec {
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array, options?: ContractDecodeOptions): unknown;
  /** Optional: `encode`, leaving the bytes at `out.bytes[out.start, out.end)` until the codec's next call. */
  encodeRange?(value: unknown, out: ContractRange): void;
  /** Optional: `decode(bytes.subarray(0, length))` without the view. */
  decodePrefix?(bytes: Uint8Array, length: number, options?: ContractDecodeOptions): unknown;
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
  /**
   * The codec honours decode's `maxValues` (the decode budget): a message of
   * more values is refused with `DeserializationError`, every value counting
   * one, object keys included. @default false
   */
  readonly budget?: boolean;
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

/** Byte equality without vitest's element-by-element walk. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** One step of a path to plant a refused value at: a key of an object or an index of an array. */
const STEP = fc.oneof(KEY, fc.nat(3));

/** What every codec refuses, as a leaf: a function, a symbol, an object with a throwing getter. */
function refusedLeaf(kind: 'function' | 'symbol' | 'getter'): unknown {
  if (kind === 'function') return () => 1;
  if (kind === 'symbol') return Symbol('s');
  return {
    ok: 1,
    get broken(): number {
      throw new Error('getter exploded');
    },
  };
}

/** Plain data with `leaf` planted at `path`, `filler` (one shared object, perhaps) around it. */
function plant(path: readonly (string | number)[], leaf: unknown, filler: unknown): unknown {
  let v = leaf;
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i] as string | number;
    if (typeof step === 'number') {
      const a: unknown[] = Array.from({ length: step + 1 }, () => filler);
      a[step] = v;
      v = a;
    } else {
      v = { before: filler, [step]: v };
    }
  }
  return v;
}

/** A value with something refused somewhere inside it. */
const refusedValue = fc
  .tuple(
    fc.array(STEP, { maxLength: 4 }),
    fc.constantFrom('function', 'symbol', 'getter') as fc.Arbitrary<'function' | 'symbol' | 'getter'>,
    plainDataArbitrary,
  )
  .map(([path, kind, filler]) => plant(path, refusedLeaf(kind), filler));

type RangeFn = (value: unknown, out: ContractRange) => void;
type PrefixFn = (bytes: Uint8Array, length: number) => unknown;

/** A range that points nowhere valid, so a test sees whether `encodeRange` set every field. */
function staleRange(): ContractRange {
  return { bytes: new Uint8Array([0xde, 0xad]), start: 7, end: -1 };
}

/**
 * `encodeRange`, with the bytes copied out at once: the contract keeps them
 * valid only until the codec's next call, and these tests rely on nothing more.
 */
function rangedCopy(encodeRange: RangeFn, value: unknown): Uint8Array {
  const out = staleRange();
  encodeRange(value, out);
  expect(out.bytes).toBeInstanceOf(Uint8Array);
  expect(Number.isInteger(out.start) && Number.isInteger(out.end)).toBe(true);
  expect(out.start).toBeGreaterThanOrEqual(0);
  expect(out.end).toBeGreaterThanOrEqual(out.start);
  expect(out.end).toBeLessThanOrEqual(out.bytes.length);
  // A copy: Buffer's own slice() is a view, which the codec's next call may write over.
  return Uint8Array.prototype.slice.call(out.bytes, out.start, out.end);
}

function encodeRangeContract(
  codec: ContractCodec,
  encodeRange: RangeFn,
  domain: fc.Arbitrary<unknown>,
  numRuns: number,
): void {
  describe('encodeRange', () => {
    it('reports a range holding exactly the bytes encode returns', () => {
      fc.assert(
        fc.property(domain, (v) => {
          const ranged = rangedCopy(encodeRange, v);
          expect(sameBytes(ranged, codec.encode(v))).toBe(true);
        }),
        { numRuns },
      );
    });

    it('reports exactly encode’s bytes for messages larger than any first buffer (long strings, long arrays)', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ minLength: 5_000, maxLength: 40_000 }),
            fc.array(fc.integer(), { minLength: 2_000, maxLength: 12_000 }),
            fc.array(
              fc.dictionary(KEY, fc.string({ maxLength: 30 }), { maxKeys: 4, noNullPrototype: true }),
              {
                minLength: 200,
                maxLength: 2_000,
              },
            ),
          ),
          (v) => {
            const ranged = rangedCopy(encodeRange, v);
            expect(sameBytes(ranged, codec.encode(v))).toBe(true);
            expect(codec.decode(ranged)).toStrictEqual(v);
          },
        ),
        { numRuns: Math.min(numRuns, 20) },
      );
    });

    it('throws what encode throws for a refused value: SerializationError, same path and message', () => {
      fc.assert(
        fc.property(refusedValue, (v) => {
          const viaEncode = catchError(() => codec.encode(v));
          const viaRange = catchError(() => encodeRange(v, staleRange()));
          expect(viaRange.name).toBe('SerializationError');
          expect(viaRange.code).toBe('ERR_CONC_SERIALIZATION');
          expect(viaRange.name).toBe(viaEncode.name);
          expect(viaRange.path).toBe(viaEncode.path);
          expect(viaRange.message).toBe(viaEncode.message);
        }),
        { numRuns },
      );
    });

    it('stays usable after a refused value: the next range is complete and exact', () => {
      fc.assert(
        fc.property(refusedValue, domain, (bad, v) => {
          expect(() => encodeRange(bad, staleRange())).toThrow();
          const ranged = rangedCopy(encodeRange, v);
          expect(sameBytes(ranged, codec.encode(v))).toBe(true);
          expect(codec.decode(ranged)).toStrictEqual(v);
        }),
        { numRuns: Math.min(numRuns, 50) },
      );
    });

    it('never overwrites what earlier encode calls returned, whatever ranges follow', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.boolean(), domain), { minLength: 1, maxLength: 12 }), (steps) => {
          const returned: { bytes: Uint8Array; snapshot: Uint8Array }[] = [];
          const ranges: { bytes: Uint8Array; value: unknown }[] = [];
          for (const [ranged, v] of steps) {
            if (ranged) ranges.push({ bytes: rangedCopy(encodeRange, v), value: v });
            else {
              const bytes = codec.encode(v);
              // A real copy: a Buffer's own slice() is a view, which would always match.
              returned.push({ bytes, snapshot: Uint8Array.prototype.slice.call(bytes) });
            }
          }
          for (const r of returned) expect(sameBytes(r.bytes, r.snapshot)).toBe(true);
          for (const r of ranges) expect(codec.decode(r.bytes)).toStrictEqual(r.value);
        }),
        { numRuns: Math.min(numRuns, 80) },
      );
    });
  });
}

/** How a reused decode buffer may be held. */
const HOLDERS = ['buffer', 'pooled buffer', 'uint8array', 'shared memory'] as const;
type Holder = (typeof HOLDERS)[number];
const HOLDER_BYTES = 64 * 1024;

/** One reused buffer of each kind, as a caller decoding out of a private scratch buffer keeps it. */
function holders(): Record<Holder, Uint8Array> {
  return {
    buffer: Buffer.allocUnsafeSlow(HOLDER_BYTES).fill(0xee),
    'pooled buffer': Buffer.alloc(HOLDER_BYTES + 24, 0xee).subarray(24),
    uint8array: new Uint8Array(HOLDER_BYTES).fill(0xee),
    'shared memory': new Uint8Array(new SharedArrayBuffer(HOLDER_BYTES + 8), 8).fill(0xee),
  };
}

/** Like {@link decodeOrDeserializationError}, through `decodePrefix`. */
function prefixOrDeserializationError(
  decodePrefix: PrefixFn,
  bytes: Uint8Array,
  length: number,
): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: decodePrefix(bytes, length) };
  } catch (err) {
    expectDeserializationError(err);
    return { ok: false };
  }
}

function decodePrefixContract(
  codec: ContractCodec,
  decodePrefix: PrefixFn,
  domain: fc.Arbitrary<unknown>,
  numRuns: number,
): void {
  const holder = fc.constantFrom(...HOLDERS);
  const garbage = fc.uint8Array({ maxLength: 48 });

  describe('decodePrefix', () => {
    it('decodes the first length bytes of a larger reused buffer as decode does, ignoring what follows', () => {
      const held = holders();
      fc.assert(
        fc.property(domain, holder, garbage, (v, kind, junk) => {
          const buf = held[kind];
          const bytes = codec.encode(v);
          fc.pre(bytes.length + junk.length <= buf.length);
          buf.set(bytes, 0);
          buf.set(junk, bytes.length);
          const got = decodePrefix(buf, bytes.length);
          expect(got).toStrictEqual(v);
          expect(got).toStrictEqual(codec.decode(buf.subarray(0, bytes.length)));
          // The value owns its bytes: the caller reuses the buffer at once.
          buf.fill(0xff, 0, bytes.length + junk.length);
          expect(got).toStrictEqual(v);
        }),
        { numRuns },
      );
    });

    it('decodes one buffer reused for many messages of different lengths', () => {
      const held = holders();
      fc.assert(
        fc.property(holder, fc.array(domain, { minLength: 2, maxLength: 10 }), (kind, values) => {
          const buf = held[kind];
          // Each message overwrites the start of the last one: longer leftovers follow shorter messages.
          for (const v of values) {
            const bytes = codec.encode(v);
            fc.pre(bytes.length <= buf.length);
            buf.set(bytes, 0);
            expect(decodePrefix(buf, bytes.length)).toStrictEqual(v);
          }
        }),
        { numRuns: Math.min(numRuns, 80) },
      );
    });

    it('refuses every truncation with DeserializationError, even with the rest of the message right after it', () => {
      const held = holders();
      fc.assert(
        fc.property(containers, fc.nat(), holder, fc.option(garbage), (v, cut, kind, junk) => {
          const buf = held[kind];
          const bytes = codec.encode(v);
          fc.pre(bytes.length + 48 <= buf.length);
          const length = cut % bytes.length;
          // The whole message sits in the buffer: only `length` says it ends early.
          buf.set(bytes, 0);
          if (junk !== null) buf.set(junk, length);
          expect(prefixOrDeserializationError(decodePrefix, buf, length).ok).toBe(false);
        }),
        { numRuns },
      );
    });

    it('agrees with decode on corrupt and random prefixes: the same value, or DeserializationError only', () => {
      const held = holders();
      const corrupt = fc.oneof(
        fc
          .tuple(
            domain,
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }),
          )
          .map(([v, flips]) => {
            const bytes = new Uint8Array(codec.encode(v));
            for (const [at, bit] of flips) {
              const i = at % bytes.byteLength;
              bytes[i] = (bytes[i] ?? 0) ^ (1 << bit);
            }
            return bytes;
          }),
        fc.uint8Array({ maxLength: 64 }),
      );
      fc.assert(
        fc.property(corrupt, holder, garbage, (bytes, kind, junk) => {
          const buf = held[kind];
          fc.pre(bytes.length + junk.length <= buf.length);
          buf.set(bytes, 0);
          buf.set(junk, bytes.length);
          const viaPrefix = prefixOrDeserializationError(decodePrefix, buf, bytes.length);
          const viaDecode = decodeOrDeserializationError(codec, bytes.slice());
          expect(viaPrefix.ok).toBe(viaDecode.ok);
          if (viaDecode.ok) expect(viaPrefix.value).toStrictEqual(viaDecode.value);
        }),
        { numRuns: numRuns * 2 },
      );
    });

    it('a failed decodePrefix never changes how later messages decode', () => {
      const held = holders();
      fc.assert(
        fc.property(domain, fc.nat(), fc.nat(), holder, garbage, (v, cut, flip, kind, junk) => {
          const buf = held[kind];
          const bytes = codec.encode(v);
          fc.pre(bytes.length + junk.length <= buf.length);
          buf.set(bytes, 0);
          buf.set(junk, bytes.length);
          const length = cut % (bytes.length + 1);
          if (length > 0) buf[flip % length] = (buf[flip % length] ?? 0) ^ (1 << (flip % 8));
          prefixOrDeserializationError(decodePrefix, buf, length);
          buf.set(bytes, 0);
          expect(decodePrefix(buf, bytes.length)).toStrictEqual(v);
          expect(codec.decode(bytes)).toStrictEqual(v);
        }),
        { numRuns: numRuns * 4 },
      );
    });

    it('refuses a length outside the bytes, and input that is not a Uint8Array, with DeserializationError', () => {
      const bytes = Buffer.concat([codec.encode({ a: [1, 2] }), Buffer.alloc(8)]);
      for (const length of [
        -1,
        bytes.length + 1,
        1.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        '3',
        undefined,
      ]) {
        expectDeserializationError(catchError(() => decodePrefix(bytes, length as number)));
      }
      for (const bad of [undefined, null, 'text', 42, [1, 2], new ArrayBuffer(4)]) {
        expectDeserializationError(catchError(() => decodePrefix(bad as unknown as Uint8Array, 0)));
      }
      // Still usable afterwards.
      expect(decodePrefix(bytes, bytes.length - 8)).toStrictEqual({ a: [1, 2] });
    });
  });
}

/** `[0, 0, ...]`: n + 1 values in every format (the array and its elements). */
const zeros = (n: number): number[] => Array.from({ length: n }, () => 0);
/** `{ k0: 0, ... }`: 2n + 1 values (the object, its keys and their values). */
const keyed = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0]));

function budgetContract(codec: ContractCodec, numRuns: number): void {
  describe('decode budget (maxValues)', () => {
    const refused = (fn: () => unknown, max: number): void => {
      const err = catchError(fn);
      expectDeserializationError(err);
      expect(err.message).toContain('maxValues');
      expect(err.message).toContain(String(max));
    };
    it('decodes a message of exactly maxValues values and refuses one more, keys counted', () => {
      fc.assert(
        fc.property(fc.nat(300), fc.boolean(), (n, withKeys) => {
          const value = withKeys ? keyed(n) : zeros(n);
          const count = withKeys ? 2 * n + 1 : n + 1;
          const bytes = codec.encode(value);
          expect(codec.decode(bytes, { maxValues: count })).toStrictEqual(value);
          refused(() => codec.decode(bytes, { maxValues: count - 1 }), count - 1);
          if (codec.decodePrefix) {
            const held = Buffer.concat([bytes, Buffer.alloc(16, 0x90)]);
            expect(codec.decodePrefix(held, bytes.length, { maxValues: count })).toStrictEqual(value);
            refused(() => codec.decodePrefix?.(held, bytes.length, { maxValues: count - 1 }), count - 1);
          }
        }),
        { numRuns: Math.min(numRuns, 60) },
      );
    });

    it('counts nested containers: a value over its budget is refused at any depth', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 200 }), (depth) => {
          let value: unknown = [];
          for (let i = 1; i < depth; i++) value = [value];
          const bytes = codec.encode(value);
          expect(codec.decode(bytes, { maxValues: depth })).toStrictEqual(value);
          refused(() => codec.decode(bytes, { maxValues: depth - 1 }), depth - 1);
        }),
        { numRuns: Math.min(numRuns, 40) },
      );
    });

    it('stays usable after a refusal, and Infinity turns the budget off', () => {
      const bytes = codec.encode(zeros(1000));
      refused(() => codec.decode(bytes, { maxValues: 10 }), 10);
      expect(codec.decode(bytes)).toStrictEqual(zeros(1000));
      expect(codec.decode(bytes, { maxValues: Number.POSITIVE_INFINITY })).toStrictEqual(zeros(1000));
      expect(codec.decode(bytes, {})).toStrictEqual(zeros(1000));
    });

    it('refuses a maxValues that is not a whole number with TypeError', () => {
      const bytes = codec.encode([1]);
      for (const bad of [-1, 1.5, Number.NaN, '5', null]) {
        const err = catchError(() => codec.decode(bytes, { maxValues: bad as number }));
        expect(err).toBeInstanceOf(TypeError);
        expect(err.message).toContain('maxValues');
      }
    });
  });
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
 *
 * When the codec has `encodeRange`: the range holds exactly `encode`'s bytes,
 * refusals are `encode`'s (same error, path and message), and ranged encodes
 * never overwrite what earlier `encode` calls returned. When it has
 * `decodePrefix`: a prefix of a larger, reused buffer (Buffer, pooled Buffer,
 * plain Uint8Array, shared memory) decodes as `decode` would, whatever
 * follows it; truncated and corrupt prefixes only ever throw
 * `DeserializationError`. With `budget`: `maxValues` refuses a message of
 * one value more than it allows, keys and nested containers counted, and a
 * bad `maxValues` is a `TypeError`.
 */
export function codecContract(name: string, codec: ContractCodec, options: CodecContractOptions = {}): void {
  const numRuns = options.numRuns ?? 150;
  const domain = options.values ? fc.oneof(plainDataArbitrary, options.values) : plainDataArbitrary;

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

    if (codec.encodeRange) encodeRangeContract(codec, codec.encodeRange.bind(codec), domain, numRuns);
    if (codec.decodePrefix) decodePrefixContract(codec, codec.decodePrefix.bind(codec), domain, numRuns);
    if (options.budget) budgetContract(codec, numRuns);

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
