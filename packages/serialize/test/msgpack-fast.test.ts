/**
 * The msgpack codec's fast paths. The one-walk writer for plain data
 * (msgpack-fast.ts) against msgpackr itself: whatever it writes must be
 * msgpackr's bytes to the byte, it must take every value of the plain-data
 * shape it documents, and give up on everything else so that the usual road
 * (pre-walk, then msgpackr) decides. And `decode`, which reads small inputs
 * from one reused buffer, even when decoding runs into itself.
 */
import fc from 'fast-check';
import msgpackr from 'msgpackr/index-no-eval';
import { describe, expect, it } from 'vitest';
import { packPlain } from '../src/codec/msgpack-fast.js';
import { jsonCodec, msgpackCodec, plainMsgpackCodec, registerKind, shareSymbol } from '../src/index.js';
import { msgpackValues } from './arbitraries.js';

const { Packr } = msgpackr;

/** msgpackr configured as the codec's packer for values without repeats. */
const reference = new Packr({
  structuredClone: false,
  moreTypes: true,
  copyBuffers: true,
  useRecords: false,
});

function plain(v: unknown): Uint8Array | undefined {
  const out = { bytes: new Uint8Array(0), start: 0, end: 0 };
  return packPlain(v, out) ? Uint8Array.prototype.slice.call(out.bytes, out.start, out.end) : undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Strings the fast path writes: under 64 code units, no surrogates (ASCII, 2- and 3-byte UTF-8). */
const shortText = fc.string({
  unit: fc
    .oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x7ff }),
      fc.integer({ min: 0x800, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xffff }),
    )
    .map((c) => String.fromCharCode(c)),
  maxLength: 63,
});

/** Every number form: each int size at both ends, floats, -0, NaN, infinities. */
const anyNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33),
  fc.constantFrom(-128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, Number.NaN),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, 1.5),
  fc.double(),
);

/** The shape the fast path promises to take (tree-shaped: no object twice). */
const plainData: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false),
    anyNumber,
    shortText,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      shortText.filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true },
    ),
  ),
})).value;

/** Objects and arrays in a tree-shaped value (the fast path walks up to 32). */
function objectsIn(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  return 1 + Object.values(v).reduce((n: number, x) => n + objectsIn(x), 0);
}

describe('msgpack fast path', () => {
  it('writes msgpackr’s bytes for every plain value, and takes them all', () => {
    fc.assert(
      fc.property(plainData, (v) => {
        fc.pre(objectsIn(v) <= 32);
        const mine = plain(v);
        expect(mine, 'the fast path gave up on plain data').toBeDefined();
        expect(hex(mine as Uint8Array)).toBe(hex(reference.pack(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes msgpackr’s bytes whenever it takes a value of the whole codec domain', () => {
    fc.assert(
      fc.property(msgpackValues, (v) => {
        const mine = plain(v);
        if (mine === undefined) return;
        expect(hex(mine)).toBe(hex(reference.pack(v)));
        // And the codec does write these bytes.
        expect(hex(msgpackCodec.encode(v))).toBe(hex(mine));
      }),
      { numRuns: 1000 },
    );
  });

  it('takes the common message and strings up to 63 code units, multi-byte included', () => {
    expect(plain({ id: 7, name: 'rose', ts: 1.5 })).toBeDefined();
    for (const s of ['x'.repeat(31), 'x'.repeat(32), 'é'.repeat(16), '☃'.repeat(11), '☃'.repeat(63)]) {
      expect(hex(plain(s) as Uint8Array)).toBe(hex(reference.pack(s)));
    }
  });

  it('gives up on what only the usual road handles', () => {
    const shared = { a: 1 };
    const inherited = Object.create({ up: 1 }) as object;
    const hidden = Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false });
    const refused: [string, unknown][] = [
      ['undefined', undefined],
      ['a key holding undefined', { a: undefined }],
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point
      ['a hole', [1, , 3]],
      ['a bigint', 1n],
      ['a Map', new Map([[1, 2]])],
      ['a Set', new Set([1])],
      ['a Date', new Date(0)],
      ['a typed array', new Uint8Array(2)],
      ['a class instance', new (class Point {})()],
      ['a null-prototype object', Object.create(null)],
      ['an object with inherited keys', inherited],
      ['an own constructor key', { constructor: 1 }],
      ['a __proto__ key', JSON.parse('{"__proto__": 1}')],
      ['a shared reference', { x: shared, y: shared }],
      [
        'a cycle',
        (() => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return o;
        })(),
      ],
      ['a string of 64 code units', 'x'.repeat(64)],
      ['a lone surrogate', '\ud800'],
      ['a surrogate pair', '😀'],
      ['an array of 65,536 items', new Array(65536).fill(0)],
      ['17 levels of nesting', JSON.parse(`${'['.repeat(17)}${']'.repeat(17)}`)],
      ['33 objects', Array.from({ length: 33 }, () => ({}))],
      ['more than 64 KiB', Array.from({ length: 2000 }, () => 'y'.repeat(40))],
      [
        'a throwing getter',
        {
          get boom() {
            throw new Error('no');
          },
        },
      ],
    ];
    for (const [what, v] of refused) expect(plain(v), what).toBeUndefined();
    // A non-enumerable key is left out, as msgpackr leaves it out; the rest is still plain data.
    expect(hex(plain(hidden) as Uint8Array)).toBe(hex(reference.pack(hidden)));
  });

  it('gives up on an object while Object.prototype has an enumerable key (msgpackr skips inherited keys)', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 1;
    try {
      expect(plain({ a: 1 })).toBeUndefined();
      expect(hex(msgpackCodec.encode({ a: 1 }))).toBe(hex(reference.pack({ a: 1 })));
    } finally {
      delete proto.polluted;
    }
    expect(plain({ a: 1 })).toBeDefined();
  });

  it('keeps its bytes when a getter of the value encodes something itself', () => {
    const v = {
      a: 'outer',
      get b() {
        return msgpackCodec.encode({ inner: [1, 2, 3], text: 'nested call' }).length;
      },
      c: 'after',
    };
    const mine = plain(v);
    expect(mine).toBeDefined();
    expect(hex(mine as Uint8Array)).toBe(hex(reference.pack(v)));
  });

  it('leaves nothing behind after giving up: the next value is written whole', () => {
    expect(plain({ a: 'ok', b: new Map() })).toBeUndefined();
    expect(hex(plain({ c: [1, 2] }) as Uint8Array)).toBe(hex(reference.pack({ c: [1, 2] })));
  });
});

/** What a {@link Nested}'s attach decodes: longer than the message that carries the token. */
const ATTACHED = { deep: ['x'.repeat(60), 7, { k: 'v'.repeat(60) }, 'y'.repeat(60), [1, 2, 3]] };
const attachedBytes = msgpackCodec.encode(ATTACHED);

/** A primitive whose attach (run while its message is read) decodes a message of its own. */
class Nested {
  inner: unknown;
  [shareSymbol]() {
    return { kind: 'test.msgpack.Nested', data: {} };
  }
  static {
    registerKind({
      kind: 'test.msgpack.Nested',
      Class: Nested,
      attach: () => Object.assign(new Nested(), { inner: msgpackCodec.decode(attachedBytes) }),
    });
  }
}

describe('msgpack decode', () => {
  it('reads a message whole when reading it decodes another, longer one', () => {
    const v = { n: new Nested(), after: ['b'.repeat(20), 42, { c: 'd' }] };
    const bytes = msgpackCodec.encode(v);
    expect(bytes.length).toBeLessThan(attachedBytes.length);
    const back = msgpackCodec.decode(bytes) as typeof v;
    expect(back.n).toBeInstanceOf(Nested);
    expect(back.n.inner).toStrictEqual(ATTACHED);
    expect(back.after).toStrictEqual(v.after);
  });

  it('reads plain Uint8Arrays, Buffers, views into larger buffers and shared memory alike', () => {
    const v = { id: 1, name: 'rose', bin: new Uint8Array([1, 2, 3]) };
    const bytes = msgpackCodec.encode(v);
    const big = new Uint8Array(bytes.length + 20).fill(0xee);
    big.set(bytes, 10);
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    for (const input of [
      new Uint8Array(bytes),
      Buffer.from(bytes),
      big.subarray(10, 10 + bytes.length),
      shared,
    ]) {
      const back = msgpackCodec.decode(input) as typeof v;
      expect([back.id, back.name, [...back.bin]]).toStrictEqual([1, 'rose', [1, 2, 3]]);
      // The value owns its bytes: the next decode does not change it.
      msgpackCodec.decode(msgpackCodec.encode({ id: 2, name: 'other', bin: new Uint8Array([9, 9, 9]) }));
      expect([...back.bin]).toStrictEqual([1, 2, 3]);
    }
  });
});

describe('encoding from inside an encode', () => {
  it('a getter that encodes another value changes nothing in the value being encoded', () => {
    const shared = { k: 1 };
    const withMap = {
      m: new Map([[1, 2]]),
      get x() {
        msgpackCodec.encode(new Date(0));
        return 1;
      },
    };
    const back = msgpackCodec.decode(msgpackCodec.encode(withMap)) as { m: unknown; x: number };
    expect(back.m).toBeInstanceOf(Map);
    expect([...(back.m as Map<number, number>)]).toEqual([[1, 2]]);
    const withShared = {
      a: shared,
      b: shared,
      get x() {
        msgpackCodec.encode([new Date(1)]);
        return 1;
      },
      d: new Date(0),
    };
    const again = msgpackCodec.decode(msgpackCodec.encode(withShared)) as { a: object; b: object };
    expect(again.a).toBe(again.b);
  });
});

/** A primitive that can be described (handed over) only once, like a pipe end. */
class OneShot {
  used = false;
  [shareSymbol]() {
    if (this.used) throw new Error('already handed over');
    this.used = true;
    return { kind: 'test.msgpack.OneShot', data: { n: 1 } };
  }
  static {
    registerKind({ kind: 'test.msgpack.OneShot', Class: OneShot, attach: () => new OneShot() });
  }
}

describe('primitives inside messages', () => {
  it('are described once per encode, even when both the careful walk and the packer meet them', () => {
    // Nesting deeper than the quick walk goes sends the check to the careful walk, which
    // describes the primitive too.
    const deep = JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) as unknown;
    for (const codec of [msgpackCodec, jsonCodec, plainMsgpackCodec]) {
      const one = new OneShot();
      const back = codec.decode(codec.encode({ one, deep })) as { one: unknown; deep: unknown };
      expect(back.one, codec.name).toBeInstanceOf(OneShot);
      expect(back.deep).toEqual(deep);
      // And once only per encode: a second message is a second hand-over.
      expect(() => codec.encode({ one })).toThrow(/already handed over/);
    }
  });
});
