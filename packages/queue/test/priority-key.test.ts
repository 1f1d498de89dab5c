import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePriorities, encodePriority, type Priority } from '../src/core/priority-key.js';

/** Reference order, written plainly: numbers (exactly, across number/bigint/boolean), NaN, strings by code point, arrays. */
function rank(v: Priority): number {
  if (typeof v === 'string') return 2;
  if (Array.isArray(v)) return 3;
  if (typeof v === 'number' && Number.isNaN(v)) return 1;
  return 0;
}

/** Exact comparison of numbers, bigints and booleans (a boolean is 0 or 1, as in Python). */
function compareNumeric(a: number | bigint | boolean, b: number | bigint | boolean): number {
  const x = typeof a === 'boolean' ? Number(a) : a;
  const y = typeof b === 'boolean' ? Number(b) : b;
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  // One number, one bigint: compare through the integer part (a fraction sits strictly between integers).
  const [n, big, flip] = typeof x === 'number' ? [x, y as bigint, 1] : [y as number, x as bigint, -1];
  if (!Number.isFinite(n)) return flip * Math.sign(n);
  const fl = BigInt(Math.floor(n));
  const c = fl < big ? -1 : fl > big ? 1 : Number.isInteger(n) ? 0 : 1;
  return flip * c;
}

function compareStrings(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return Math.sign(x.length - y.length);
}

function reference(a: Priority, b: Priority): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return Math.sign(ra - rb);
  if (ra === 1) return 0;
  if (ra === 2) return compareStrings(a as string, b as string);
  if (ra === 3) {
    const x = a as readonly Priority[];
    const y = b as readonly Priority[];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = reference(x[i]!, y[i]!);
      if (c !== 0) return c;
    }
    return Math.sign(x.length - y.length);
  }
  return compareNumeric(a as number | bigint | boolean, b as number | bigint | boolean);
}

const scalar: fc.Arbitrary<Priority> = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.double(),
  fc.constantFrom(0, -0, 0.5, -0.5, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.constantFrom(2n ** 53n + 1n, 2n ** 53n, -(2n ** 53n) - 1n, 10n ** 400n, -(10n ** 400n)),
  fc.boolean(),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('', '\0', 'a\0', 'a', '\uffff', '\u{10000}', '\ud800', 'é'),
);
const priority: fc.Arbitrary<Priority> = fc.letrec<{ p: Priority }>((tie) => ({
  p: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('p'), { maxLength: 3 })),
})).p;

describe('priority keys', () => {
  it('sort as the priorities do (numbers exactly across number and bigint, strings by code point, arrays element-wise)', () => {
    fc.assert(
      fc.property(priority, priority, (a, b) => {
        const got = Math.sign(comparePriorities(encodePriority(a), encodePriority(b)));
        expect(got + 0).toBe(reference(a, b) + 0); // + 0 turns -0 into 0
      }),
      { numRuns: 3000 },
    );
  });

  it('equal priorities encode to equal bytes (so puts keep their order)', () => {
    expect(encodePriority(0)).toEqual(encodePriority(-0));
    expect(encodePriority(1)).toEqual(encodePriority(1n));
    expect(encodePriority(true)).toEqual(encodePriority(1));
    expect(encodePriority([2, 'x'])).toEqual(encodePriority([2n, 'x']));
  });

  it('refuses what is not a priority, naming where it is', () => {
    expect(() => encodePriority({})).toThrow(/priority is an object/);
    expect(() => encodePriority([1, [null]])).toThrow(/priority\[1\]\[0\] is null/);
    expect(() => encodePriority(Symbol('s'))).toThrow(/symbol/);
    expect(() => encodePriority(undefined)).toThrow(/undefined/);
  });
});
