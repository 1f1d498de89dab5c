/**
 * fast-check arbitraries for the domain of each codec: what it promises to
 * round-trip exactly.
 */
import fc from 'fast-check';

const key = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((k) => k !== '__proto__' && k !== '$concShared');
const text = fc.string({ unit: 'binary', maxLength: 16 });
const noNegZero = (d: number) => (Object.is(d, -0) ? 0 : d);
const validDate = fc.date({ noInvalidDate: true });
const regexp = fc
  .tuple(
    fc.constantFrom('a+b', '^x.*$', '[0-9]{2,}', '\\d+\\s?', '(?<n>q)'),
    fc.subarray(['g', 'i', 'm', 's', 'u']),
  )
  .map(([src, flags]) => new RegExp(src, flags.join('')));

/** Structured msgpack: the default codec's domain. */
export const msgpackValues: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      undefined,
      null,
      true,
      false,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ),
    fc.integer(),
    fc.double().map(noNegZero),
    fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
    text,
    validDate,
    regexp,
    fc.uint8Array({ maxLength: 16 }),
    fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
    fc.float64Array({ maxLength: 4 }).map((a) => a.map(noNegZero)),
    fc.int32Array({ maxLength: 4 }),
    fc.bigInt64Array({ maxLength: 3 }),
    fc.uint8Array({ maxLength: 8 }).map((a) => a.slice().buffer),
    fc
      .tuple(fc.constantFrom(TypeError, RangeError, Error), text, fc.option(fc.string(), { nil: undefined }))
      .map(([E, message, code]) =>
        code === undefined ? new E(message) : Object.assign(new E(message), { code }),
      ),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    fc
      .array(fc.tuple(fc.oneof(text, fc.integer(), tie('value')), tie('value')), { maxLength: 3 })
      .map((e) => new Map(e)),
    fc.array(tie('value'), { maxLength: 3 }).map((xs) => new Set(xs)),
  ),
})).value;

/** Plain msgpack: what Python's msgpack reads. */
export const plainValues: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, Number.NaN, Number.POSITIVE_INFINITY),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double().map(noNegZero),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    text,
    validDate,
    fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

/** JSON: plain data, plus strings that are not well-formed Unicode and `__proto__` keys. */
export const jsonValues: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, '\ud800', 'a\udc00b'),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(noNegZero),
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    tie('value').map((v) => JSON.parse(`{"__proto__": ${JSON.stringify(v)}}`) as unknown),
  ),
})).value;

/** node:v8: structured clone, with -0, holes and lone surrogates. */
export const v8Values: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(undefined, null, true, false, -0, Number.NaN, '\ud800'),
    fc.double(),
    fc.bigInt(),
    text,
    validDate,
    regexp,
    fc.uint8Array({ maxLength: 16 }),
    fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
    fc.float64Array({ maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 6 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
    fc.array(tie('value'), { maxLength: 3 }).map((xs) => new Set(xs)),
  ),
})).value;
