import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { fixture } from '@conc/testkit';
import { Packr as MainPackr, Unpackr as MainUnpackr, addExtension as mainAddExtension } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  type Codec,
  codecs,
  defaultCodec,
  FrameTooLargeError,
  getCodec,
  isConcError,
  isDeserializationError,
  isFrameTooLargeError,
  isSerializationError,
  jsonCodec,
  msgpackCodec,
  plainMsgpackCodec,
  resolveCodec,
  TOKEN_EXT,
  v8Codec,
} from '../src/index.js';
import { Counter } from './fixtures/kinds.mjs';
import { thrown } from './helpers.js';

function refusal(codec: Codec, value: unknown): { path: string | undefined; message: string } {
  const err = thrown(() => codec.encode(value));
  expect(isSerializationError(err), `${codec.name}: ${err.stack}`).toBe(true);
  return { path: err.path, message: err.message };
}

const rt = (codec: Codec, v: unknown) => codec.decode(codec.encode(v));

/** `[1, <hole>, 3]`. */
function holey(): unknown[] {
  const a: unknown[] = [1];
  a[2] = 3;
  return a;
}

describe('codec registry', () => {
  it('finds codecs by name, resolves options, and names the choices for an unknown one', () => {
    expect(codecs.map((c) => c.name)).toEqual(['msgpack', 'msgpack-plain', 'json', 'v8']);
    expect(defaultCodec).toBe(msgpackCodec);
    for (const c of codecs) expect(getCodec(c.name)).toBe(c);
    expect(() => getCodec('pickle')).toThrow(
      /unknown codec "pickle"; the codecs are "msgpack", "msgpack-plain"/,
    );
    expect(resolveCodec(undefined)).toBe(msgpackCodec);
    expect(resolveCodec('json')).toBe(jsonCodec);
    expect(resolveCodec(v8Codec)).toBe(v8Codec);
    expect(() => resolveCodec({ name: 'x' } as unknown as Codec)).toThrow(TypeError);
  });
});

describe('SerializationError paths', () => {
  const cases: [string, unknown, string][] = [
    ['deep function', { items: [0, 1, 2, { callback: () => 1 }] }, 'items[3].callback'],
    ['root symbol', Symbol('s'), ''],
    ['odd keys', { 'a b': { 'c-d': [1, { e: () => 1 }] } }, '["a b"]["c-d"][1].e'],
    [
      'throwing getter',
      [
        {
          get x() {
            throw new Error('boom');
          },
        },
      ],
      '[0].x',
    ],
  ];
  for (const codec of codecs) {
    for (const [label, value, path] of cases) {
      it(`${codec.name}: ${label} → ${path || '(root)'}`, () => {
        expect(refusal(codec, value).path).toBe(path);
      });
    }
  }

  it('msgpack names paths through Maps, Sets, causes and toJSON', () => {
    expect(refusal(msgpackCodec, { m: new Map([['ann', { cb: () => 1 }]]) }).path).toBe('m.get("ann").cb');
    expect(refusal(msgpackCodec, new Map([[{ k: 1 }, () => 1]])).path).toBe('.values()[0]');
    expect(refusal(msgpackCodec, { m: new Map([[Symbol('k'), 1]]) }).path).toBe('m.keys()[0]');
    expect(refusal(msgpackCodec, { s: new Set([1, () => 1]) }).path).toBe('s.values()[1]');
    expect(refusal(msgpackCodec, { e: new Error('x', { cause: { f: () => 1 } }) }).path).toBe('e.cause.f');
    const withToJson = { toJSON: () => ({ inner: Symbol('x') }) };
    expect(
      refusal(msgpackCodec, { t: Object.assign(Object.create({ toJSON: withToJson.toJSON }), {}) }).path,
    ).toBe('t.toJSON().inner');
  });

  it('each codec refuses what it would drop or mangle, and says why', () => {
    const proto = JSON.parse('{"ok":1,"__proto__":{"x":1}}') as unknown;
    expect(refusal(msgpackCodec, proto)).toMatchObject({ path: '__proto__' });
    expect(refusal(plainMsgpackCodec, proto)).toMatchObject({ path: '__proto__' });
    expect(refusal(msgpackCodec, { s: 'a\ud800' }).message).toMatch(/lone surrogate/);
    expect(refusal(msgpackCodec, { k: { 'a\udc00': 1 } }).path).toBe('k["a\\udc00"]');
    expect(refusal(msgpackCodec, { sab: new SharedArrayBuffer(1) }).message).toMatch(/postMessage/);
    expect(refusal(msgpackCodec, { w: new WeakMap() }).message).toMatch(/a WeakMap is not supported/);
    expect(refusal(msgpackCodec, { p: Promise.resolve() }).path).toBe('p');
    expect(refusal(msgpackCodec, { b: new String('boxed') }).path).toBe('b');
    class MyMap extends Map {}
    expect(refusal(msgpackCodec, { m: new MyMap() }).message).toMatch(/Map subclass/);
    class MyBytes extends Uint8Array {}
    expect(refusal(msgpackCodec, { b: new MyBytes(2) }).message).toMatch(/typed-array subclass/);
    const selfish = new Error('loop');
    selfish.cause = selfish;
    expect(refusal(msgpackCodec, selfish).message).toMatch(/cause chain leads back/);

    expect(refusal(plainMsgpackCodec, { u: undefined }).message).toMatch(
      /undefined is not part of the msgpack-plain/,
    );
    expect(refusal(plainMsgpackCodec, { n: 2n ** 64n }).path).toBe('n');
    expect(refusal(plainMsgpackCodec, { n: -(2n ** 63n) - 1n }).path).toBe('n');
    expect(refusal(plainMsgpackCodec, { m: new Map() }).message).toMatch(/a Map is not plain MessagePack/);
    expect(refusal(plainMsgpackCodec, { f: new Float64Array(1) }).path).toBe('f');
    expect(refusal(plainMsgpackCodec, { d: new Date(Number.NaN) }).message).toMatch(/invalid Date/);
    const loop: Record<string, unknown> = { a: [1] };
    (loop.a as unknown[]).push(loop);
    expect(refusal(plainMsgpackCodec, loop)).toMatchObject({ path: 'a[1]' });
    expect(refusal(jsonCodec, loop).message).toMatch(/circular reference/);

    expect(refusal(jsonCodec, { d: new Date(0) }).message).toMatch(/toISOString/);
    expect(refusal(jsonCodec, [1, Number.NaN]).path).toBe('[1]');
    expect(refusal(jsonCodec, { n: 1n }).message).toMatch(/bigint is not valid JSON/);
    expect(refusal(jsonCodec, holey()).path).toBe('[1]'); // a hole would arrive as null
    class Point {
      x = 1;
    }
    expect(refusal(jsonCodec, { p: new Point() }).message).toMatch(/a Point is not JSON data/);

    expect(refusal(v8Codec, { s: new SharedArrayBuffer(1) }).path).toBe('s');
    expect(refusal(v8Codec, { w: new WeakSet() }).path).toBe('w');
  });

  it('refuses nesting deeper than 1000 levels instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    for (const codec of codecs) expect(refusal(codec, deep).message).toMatch(/nested more than 1000 levels/);
    let ok: unknown = 1;
    for (let i = 0; i < 900; i++) ok = { a: ok };
    for (const codec of codecs) expect(rt(codec, ok)).toEqual(ok);
  });
});

describe('msgpack (structured)', () => {
  it('keeps Maps apart from objects, and cycles and shared references, by switching to records', () => {
    const shared = { s: 1 };
    const m = new Map<unknown, unknown>([
      ['k', shared],
      [{ objKey: true }, [shared]],
    ]);
    const msg = { m, again: shared };
    const bytes = msgpackCodec.encode(msg);
    expect(bytes[0]).toBe(0xc1);
    const back = msgpackCodec.decode(bytes) as typeof msg;
    expect(back.m).toBeInstanceOf(Map);
    expect(back).toEqual(msg);
    expect(back.m.get('k')).toBe(back.again);

    const cyc: Record<string, unknown> = { name: 'root' };
    cyc.self = cyc;
    cyc.list = [cyc, { up: cyc }];
    const c = msgpackCodec.decode(msgpackCodec.encode(cyc)) as typeof cyc;
    expect(c.self).toBe(c);
    expect((c.list as unknown[])[0]).toBe(c);

    const plain = msgpackCodec.encode({ a: [shared, shared] });
    expect(plain[0]).not.toBe(0xc1);
    const p = msgpackCodec.decode(plain) as { a: [object, object] };
    expect(p.a[0]).toBe(p.a[1]);
  });

  it('carries errors with their class, code, fields and any cause', () => {
    const cause = { reason: 'disk', at: new Date(5) };
    const err = Object.assign(new RangeError('out', { cause }), { code: 'E_OUT', detail: { n: 1 } });
    const back = rt(msgpackCodec, { err }) as { err: RangeError & { code: string; detail: unknown } };
    expect(back.err).toBeInstanceOf(RangeError);
    expect([back.err.message, back.err.code, back.err.detail]).toEqual(['out', 'E_OUT', { n: 1 }]);
    expect(back.err.cause).toEqual(cause);
    const conc = rt(msgpackCodec, new FrameTooLargeError(9, 8)) as FrameTooLargeError;
    expect(conc).toBeInstanceOf(FrameTooLargeError);
    expect(isFrameTooLargeError(conc) && isConcError(conc)).toBe(true);
    expect([conc.size, conc.limit]).toEqual([9, 8]);
  });

  it('keeps byte types, and decoded bytes never alias the input', () => {
    const msg = { u8: new Uint8Array([1, 2]), buf: Buffer.from([3, 4]), f: new Float32Array([1.5]) };
    const bytes = new Uint8Array(msgpackCodec.encode(msg));
    const back = msgpackCodec.decode(bytes) as typeof msg;
    expect(back.u8.constructor).toBe(Uint8Array);
    expect(Buffer.isBuffer(back.buf)).toBe(true);
    expect(back.f).toBeInstanceOf(Float32Array);
    bytes.fill(0);
    expect([...back.u8, ...back.buf]).toEqual([1, 2, 3, 4]);
    expect(back.f[0]).toBe(1.5);
  });

  it('sends class instances as plain objects and uses toJSON where a class has one', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    expect(rt(msgpackCodec, new Point(1, 2))).toStrictEqual({ x: 1, y: 2 });
    class Money {
      toJSON() {
        return '1.00 EUR';
      }
    }
    expect(rt(msgpackCodec, { price: new Money() })).toEqual({ price: '1.00 EUR' });
    expect(rt(msgpackCodec, holey())).toStrictEqual([1, undefined, 3]);
    expect(Object.is(rt(msgpackCodec, -0), 0)).toBe(true);
  });

  it('falls back to records for an object with more keys than a 16-bit map holds', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 70_000; i++) wide[`k${i}`] = i;
    const back = rt(msgpackCodec, wide) as Record<string, number>;
    expect(Object.keys(back)).toHaveLength(70_000);
    expect(back.k69999).toBe(69_999);
  });

  it('keeps its msgpackr extensions to itself, and ignores extensions other code adds to msgpackr', () => {
    const other = new MainPackr({ structuredClone: true, useRecords: false });
    const fromOther = new MainUnpackr({ structuredClone: true, useRecords: false }).unpack(
      other.pack({ e: new TypeError('t'), c: new Counter('c') }),
    ) as { e: Error; c: unknown };
    expect(fromOther.e).toBeInstanceOf(TypeError);
    expect(fromOther.c).not.toBeInstanceOf(Counter); // msgpackr alone knows nothing of conc tokens
    class Tagged {
      v = 1;
    }
    mainAddExtension({ Class: Tagged, type: 42, write: () => 'hijacked', read: () => 'hijacked' });
    expect(rt(msgpackCodec, { t: new Tagged() })).toEqual({ t: { v: 1 } });
  });

  it('refuses hostile input quickly and with DeserializationError only', () => {
    const hostile = [
      Buffer.from('dd ffffffff'.replace(/ /g, ''), 'hex'), // array of 4 billion entries
      Buffer.from('df ffffffff'.replace(/ /g, ''), 'hex'), // map of 4 billion entries
      Buffer.from('db ffffffff 61'.replace(/ /g, ''), 'hex'), // 4 GiB string, 1 byte present
      Buffer.from('c1 dd ffffffff'.replace(/ /g, ''), 'hex'),
      Buffer.from(`d4 45 00 ${'93'}01 02 03`.replace(/ /g, ''), 'hex'), // error ext with a bad body
      Buffer.concat([Buffer.from([0xc7, 3, TOKEN_EXT]), Buffer.from('{x}')]), // token ext, not JSON
      Buffer.from('d6 70 00000007'.replace(/ /g, ''), 'hex'), // pointer to an unknown reference
      Buffer.alloc(200_000, 0x91), // nested arrays deeper than the stack
    ];
    for (const bytes of hostile) {
      const err = thrown(() => msgpackCodec.decode(bytes));
      expect(isDeserializationError(err), `${bytes.subarray(0, 8).toString('hex')}: ${err.stack}`).toBe(true);
    }
  });
});

describe('msgpack-plain', () => {
  const script = fileURLToPath(fixture(import.meta.url, 'py_msgpack.py'));

  it('writes standard MessagePack that a Python reader decodes', () => {
    const value = {
      id: 7,
      name: 'rosé',
      neg: -129,
      big: 2n ** 60n,
      huge: 2n ** 64n - 1n,
      min: -(2n ** 63n),
      ts: 1.5,
      nan: Number.NaN,
      data: new Uint8Array([0, 1, 255]),
      when: new Date(1_700_000_000_123),
      list: [null, true, false, 'x'.repeat(40)],
      nested: { k: [] },
      counter: new Counter('jobs', 2),
    };
    const out = execFileSync('python3', [script, 'decode'], { input: plainMsgpackCodec.encode(value) });
    expect(JSON.parse(String(out))).toEqual({
      id: 7,
      name: 'rosé',
      neg: -129,
      big: { int: String(2n ** 60n) },
      huge: { int: String(2n ** 64n - 1n) },
      min: { int: String(-(2n ** 63n)) },
      ts: 1.5,
      nan: { float: 'nan' },
      data: { bin: '0001ff' },
      when: { timestamp_ms: 1_700_000_000_123 },
      list: [null, true, false, 'x'.repeat(40)],
      nested: { k: [] },
      counter: {
        ext: TOKEN_EXT,
        data: JSON.stringify({
          $conc: 'token',
          v: 1,
          kind: 'test.process.Counter',
          data: { name: 'jobs', value: 2 },
        }),
      },
    });
  });

  it('reads what a Python writer produces', () => {
    const bytes = execFileSync('python3', [script, 'encode']);
    expect(plainMsgpackCodec.decode(bytes)).toEqual({
      id: 7,
      name: 'rosé',
      ts: 1.5,
      neg: -5,
      big: 2n ** 60n,
      huge: 2n ** 64n - 1n,
      data: Buffer.from([0, 1, 255]),
      list: [null, true, false, 'x'.repeat(40)],
      nested: { k: [] },
    });
  });

  it('refuses msgpackr structured-clone references on decode', () => {
    const structured = msgpackCodec.encode([{ a: 1 }, { a: 1 }].map((_, __, all) => all[0]));
    expect(isDeserializationError(thrown(() => plainMsgpackCodec.decode(structured)))).toBe(true);
  });
});

describe('v8', () => {
  it('keeps what structured clone keeps: -0, holes, lone surrogates, cycles', () => {
    const cyc: Record<string, unknown> = { z: -0, holes: holey(), s: '\ud800' };
    cyc.self = cyc;
    const back = rt(v8Codec, cyc) as typeof cyc;
    expect(Object.is(back.z, -0)).toBe(true);
    expect(1 in (back.holes as unknown[])).toBe(false);
    expect(back.s).toBe('\ud800');
    expect(back.self).toBe(back);
  });

  it('a decoded small typed array lives in an ArrayBuffer of its own message, not in shared pool memory', () => {
    const secret = Buffer.from('SECRET-TOKEN-0123456789'); // sits in Node's shared Buffer pool
    const bytes = v8Codec.encode(new Uint8Array([1, 2, 3]));
    const back = v8Codec.decode(bytes) as Uint8Array;
    expect([...back]).toEqual([1, 2, 3]);
    expect(back.buffer.byteLength).toBeLessThanOrEqual(bytes.byteLength);
    expect(Buffer.from(back.buffer).includes(secret)).toBe(false);
  });

  it('refuses trailing bytes and returns bytes that never alias the input', () => {
    const bytes = new Uint8Array(serialize({ b: Buffer.alloc(16, 7) }));
    const back = v8Codec.decode(bytes) as { b: Buffer };
    bytes.fill(0);
    expect([...back.b]).toEqual(Array(16).fill(7));
    const padded = Buffer.concat([serialize(1), Buffer.from([0])]);
    expect(thrown(() => v8Codec.decode(padded)).message).toMatch(/1 unexpected bytes after the value/);
  });
});
