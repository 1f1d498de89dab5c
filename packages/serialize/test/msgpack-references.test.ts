/**
 * The msgpack codec's shared references after its speed-ups: the pre-walk lets
 * a message in which every object appears once skip msgpackr's reference
 * tracking (a packer without structured clone), `encodeRange` writes such a
 * message straight into msgpackr's buffer, and everything else still goes
 * through the structured-clone packers.
 *
 * "As before" is checked against msgpackr packers configured the way the
 * codec documents its structured mode (structuredClone, moreTypes,
 * copyBuffers; records behind a leading 0xC1 for Maps and cycles; conc's
 * Error encoding), on the same msgpackr instance, so with conc's extensions.
 */
import fc from 'fast-check';
import msgpackr from 'msgpackr/index-no-eval';
import { describe, expect, it } from 'vitest';
import { msgpackCodec, SerializationError } from '../src/index.js';
import { msgpackValues } from './arbitraries.js';
import { Counter } from './fixtures/kinds.mjs';
import { thrown } from './helpers.js';

const { Packr, RESERVE_START_SPACE } = msgpackr;

const RECORDS_MARK = 0xc1;
const documented = {
  structuredClone: true,
  moreTypes: true,
  copyBuffers: true,
  writeFunction: () => {
    throw new SerializationError('a function cannot be serialized');
  },
} as const;

/** The packer that writes conc's Error encoding: msgpackr's extensions ask for this mark. */
function structured<P extends object>(packer: P): P {
  Object.defineProperty(packer, Symbol.for('conc.msgpack.structuredPacker'), { value: true });
  return packer;
}

const plainReference = structured(new Packr({ ...documented, useRecords: false }));
const recordsReference = structured(new Packr({ ...documented, useRecords: true }));

/** What the structured-clone packers write for `v`, in the form (plain or records) the codec chose. */
function reference(v: unknown, records: boolean): Uint8Array {
  if (!records) return plainReference.pack(v);
  const out = recordsReference.pack(v, RESERVE_START_SPACE | 1);
  out[0] = RECORDS_MARK;
  return out;
}

const enc = (v: unknown) => msgpackCodec.encode(v);
const rt = (v: unknown) => msgpackCodec.decode(msgpackCodec.encode(v));

/** `encodeRange`'s bytes, copied at once (they are valid only until the codec's next call). */
function ranged(v: unknown): Uint8Array {
  const out = { bytes: new Uint8Array(0), start: 0, end: 0 };
  msgpackCodec.encodeRange?.(v, out);
  return Uint8Array.prototype.slice.call(out.bytes, out.start, out.end); // a copy, even of a Buffer
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

function containsMap(v: unknown, seen = new Set<unknown>()): boolean {
  if (typeof v !== 'object' || v === null || seen.has(v)) return false;
  seen.add(v);
  if (v instanceof Map) return true;
  if (v instanceof Set) return [...v].some((x) => containsMap(x, seen));
  if (v instanceof Error) return containsMap((v as { cause?: unknown }).cause, seen);
  if (ArrayBuffer.isView(v)) return false;
  return Object.values(v).some((x) => containsMap(x, seen));
}

const isLeafObject = (x: object) =>
  ArrayBuffer.isView(x) || x instanceof ArrayBuffer || x instanceof Date || x instanceof RegExp;

/**
 * Asserts that `back` is `original` decoded with its object graph intact: one
 * decoded object per original object (a shared reference stays shared, two
 * distinct objects stay distinct, a cycle stays a cycle), same contents.
 * Objects with `toJSON` stand for what `toJSON()` returns.
 */
function expectSameGraph(original: unknown, back: unknown): void {
  const forward = new Map<object, object>();
  const backward = new Map<object, object>();
  // Plain checks on the hot path (a graph may hold 100k objects), expect() for the details of a failure.
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what);
  };
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (typeof x !== 'object' || x === null) {
      if (!Object.is(x, y)) expect(y, path).toStrictEqual(x);
      return;
    }
    if (
      !isLeafObject(x) &&
      !(x instanceof Error) &&
      typeof (x as { toJSON?: unknown }).toJSON === 'function'
    ) {
      walk((x as { toJSON(): unknown }).toJSON(), y, `${path}.toJSON()`);
      return;
    }
    // The message is built only on failure: String() of an object may throw (a `toString: undefined` key).
    if (typeof y !== 'object' || y === null) check(false, `${path}: expected an object, got ${String(y)}`);
    const o = y as object;
    const was = forward.get(x);
    if (was !== undefined) {
      check(o === was, `${path}: a shared object must decode to the object decoded first`);
      return;
    }
    check(!backward.has(o), `${path}: two distinct objects decoded to one`);
    forward.set(x, o);
    backward.set(o, x);
    if (isLeafObject(x)) {
      expect(o, path).toStrictEqual(x);
    } else if (Array.isArray(x)) {
      check(Array.isArray(o) && o.length === x.length, `${path}: expected an array of ${x.length}`);
      for (let i = 0; i < x.length; i++) walk(x[i], (o as unknown[])[i], `${path}[${i}]`);
    } else if (x instanceof Map) {
      expect(o, path).toBeInstanceOf(Map);
      const xs = [...x];
      const ys = [...(o as Map<unknown, unknown>)];
      expect(ys.length, path).toBe(xs.length);
      xs.forEach(([k, v], i) => {
        walk(k, ys[i]?.[0], `${path}.keys()[${i}]`);
        walk(v, ys[i]?.[1], `${path}.values()[${i}]`);
      });
    } else if (x instanceof Set) {
      expect(o, path).toBeInstanceOf(Set);
      const xs = [...x];
      const ys = [...(o as Set<unknown>)];
      expect(ys.length, path).toBe(xs.length);
      for (let i = 0; i < xs.length; i++) walk(xs[i], ys[i], `${path}.values()[${i}]`);
    } else if (x instanceof Error) {
      expect(o, path).toBeInstanceOf(x.constructor);
      expect((o as Error).message, path).toBe(x.message);
      for (const k of Object.keys(x)) walk((x as never)[k], (o as never)[k], `${path}.${k}`);
      if (Object.hasOwn(x, 'cause')) walk(x.cause, (o as Error).cause, `${path}.cause`);
    } else {
      // Class instances travel as plain objects; conc primitives come back as their class.
      const proto = Object.getPrototypeOf(o);
      check(
        proto === Object.prototype || proto === Object.getPrototypeOf(x),
        `${path}: expected a plain object or a ${x.constructor?.name}`,
      );
      const keys = Object.keys(x);
      if (Object.keys(o).join('\0') !== keys.join('\0')) expect(Object.keys(o), path).toEqual(keys);
      for (const k of keys) walk((x as never)[k], (o as never)[k], `${path}.${k}`);
    }
  };
  walk(original, back, '(root)');
}

/** Every property the fast path must keep, for one value. */
function expectAsBefore(v: unknown): void {
  // A copy: encode's bytes may share an ArrayBuffer with what encodeRange writes next.
  const bytes = Uint8Array.prototype.slice.call(enc(v));
  expect(sameBytes(bytes, reference(v, bytes[0] === RECORDS_MARK)), 'the bytes written before').toBe(true);
  expect(sameBytes(ranged(v), bytes), 'encodeRange writes what encode writes').toBe(true);
  expectSameGraph(v, msgpackCodec.decode(bytes));
}

// ---- arbitraries --------------------------------------------------------------

type PoolKind = 'object' | 'array' | 'set' | 'map' | 'error' | 'date' | 'bytes' | 'buffer';
type Tree =
  | null
  | boolean
  | number
  | string
  | { ref: number }
  | { list: Tree[] }
  | { dict: [string, Tree][] };

const key = fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__');
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 8 })),
    fc.nat(7).map((ref) => ({ ref })),
    fc.array(tie('node'), { maxLength: 4 }).map((list) => ({ list })),
    fc
      .uniqueArray(fc.tuple(key, tie('node')), { maxLength: 4, selector: ([k]) => k })
      .map((dict) => ({ dict })),
  ),
})).node;

function makePooled(kind: PoolKind, k: number): object {
  switch (kind) {
    case 'object':
      return { id: k };
    case 'array':
      return [k];
    case 'set':
      return new Set([k]);
    case 'map':
      return new Map([['id', k]]);
    case 'error':
      return Object.assign(new RangeError(`e${k}`), { id: k, detail: { k } });
    case 'date':
      return new Date(k);
    case 'bytes':
      return Uint8Array.of(k, k + 1);
    case 'buffer':
      return Buffer.from([k]);
  }
}

/** Links a container to another object (perhaps the root): how the graphs get cycles. */
function link(from: object, to: object, k: number): void {
  if (from instanceof Map) from.set(`to${k}`, to);
  else if (from instanceof Set) from.add(to);
  else if (Array.isArray(from)) from.push(to);
  else if (!(from instanceof Error) && !isLeafObject(from)) (from as Record<string, unknown>)[`to${k}`] = to;
}

/**
 * Values whose objects are reached any number of times: a pool of objects of
 * every kind the codec walks or carries whole, referenced from a random tree,
 * plus links between them (and back to the root) when `cycles` is set.
 */
function graphs(cycles: boolean): fc.Arbitrary<unknown> {
  return fc
    .record({
      kinds: fc.array(
        fc.constantFrom<PoolKind>('object', 'array', 'set', 'map', 'error', 'date', 'bytes', 'buffer'),
        { minLength: 1, maxLength: 5 },
      ),
      shape: tree,
      links: cycles
        ? fc.array(fc.tuple(fc.nat(7), fc.option(fc.nat(7))), { maxLength: 3 })
        : fc.constant([] as [number, number | null][]),
    })
    .map(({ kinds, shape, links }) => {
      const pool = kinds.map((kind, k) => makePooled(kind, k));
      const build = (t: Tree): unknown => {
        if (t === null || typeof t !== 'object') return t;
        if ('ref' in t) return pool[t.ref % pool.length];
        if ('list' in t) return t.list.map(build);
        return Object.fromEntries(t.dict.map(([k, v]) => [k, build(v)]));
      };
      const root = { pool, shape: build(shape) };
      links.forEach(([from, to], k) => {
        link(pool[from % pool.length] as object, to === null ? root : (pool[to % pool.length] as object), k);
      });
      return root;
    });
}

// ---- tests --------------------------------------------------------------------

describe('msgpack: shared references and cycles after the single-reference fast path', () => {
  it('the same object twice decodes to one object', () => {
    const o = {};
    const back = rt([o, o]) as [object, object];
    expect(back[0]).toBe(back[1]);
    expect(back).toStrictEqual([{}, {}]);
    expectAsBefore([o, o]);
  });

  it('keeps sharing through nested arrays, Sets, Maps, typed arrays, Dates, Errors and conc primitives', () => {
    const inner = [1, [2]];
    const nested = [[inner], { deeper: [[inner]] }];
    const n = rt(nested) as [[unknown[]], { deeper: [[unknown[]]] }];
    expect(n[0][0]).toBe(n[1].deeper[0][0]);

    const s = { s: 1 };
    const viaSet = rt([new Set([s, 'x']), s]) as [Set<unknown>, object];
    expect([...viaSet[0]][0]).toBe(viaSet[1]);

    const viaMap = rt({ m: new Map<unknown, unknown>([[s, s]]), s }) as { m: Map<object, object>; s: object };
    const [[mk, mv]] = [...viaMap.m] as [[object, object]];
    expect(mk).toBe(viaMap.s);
    expect(mv).toBe(viaMap.s);

    const bytes = Uint8Array.of(1, 2, 3);
    const when = new Date(7);
    const leaves = rt({ a: bytes, b: bytes, c: when, d: when }) as Record<string, unknown>;
    expect(leaves.a).toBe(leaves.b);
    expect(leaves.c).toBe(leaves.d);

    const counter = new Counter('c', 2);
    const prims = rt([counter, { again: counter }]) as [Counter, { again: Counter }];
    expect(prims[0]).toBeInstanceOf(Counter);
    expect(prims[0]).toBe(prims[1].again);

    for (const v of [
      nested,
      [new Set([s, 'x']), s],
      { a: bytes, b: bytes, c: when, d: when },
      [counter, counter],
    ]) {
      expectAsBefore(v);
    }
  });

  it('keeps an object shared between an Error’s fields, its cause and the rest of the message', () => {
    const detail = { n: 1 };
    const cause = { reason: 'disk', detail };
    const err = Object.assign(new TypeError('bad', { cause }), { code: 'E_BAD', detail });
    const back = rt({ err, detail, cause }) as {
      err: TypeError & { detail: object; cause: { detail: object } };
      detail: object;
      cause: object;
    };
    expect(back.err).toBeInstanceOf(TypeError);
    expect(back.err.detail).toBe(back.detail);
    expect(back.err.cause).toBe(back.cause);
    expect(back.err.cause.detail).toBe(back.detail);
    expectAsBefore({ err, detail, cause });
    // An Error alone (its fields unwalked by the pre-walk) still round-trips and writes the bytes written before.
    expectAsBefore(Object.assign(new Error('alone'), { detail: { x: [1] } }));
  });

  it('sends what toJSON returns, keeping it shared when toJSON returns a shared object', () => {
    const shared = { x: 1 };
    class Ref {
      toJSON() {
        return shared;
      }
    }
    class Fresh {
      toJSON() {
        return { y: 2 };
      }
    }
    const back = rt([new Ref(), shared, new Ref()]) as object[];
    expect(back[0]).toBe(back[1]);
    expect(back[2]).toBe(back[1]);
    const fresh = rt([new Fresh(), new Fresh()]) as object[];
    expect(fresh).toStrictEqual([{ y: 2 }, { y: 2 }]);
    expect(fresh[0]).not.toBe(fresh[1]);
    expectAsBefore([new Ref(), shared, new Ref()]);
    expectAsBefore({ f: new Fresh(), g: [new Fresh()] });
  });

  it('keeps cycles through objects, arrays, Sets, Maps and back to the root', () => {
    const root: Record<string, unknown> = { name: 'root' };
    const list: unknown[] = [root];
    list.push(list);
    root.list = list;
    root.set = new Set([root, list]);
    root.map = new Map<string, unknown>([['up', root]]);
    const back = rt(root) as typeof root & { list: unknown[]; set: Set<unknown>; map: Map<string, unknown> };
    expect(back.list[0]).toBe(back);
    expect(back.list[1]).toBe(back.list);
    expect([...back.set]).toEqual([back, back.list]);
    expect([...back.set][0]).toBe(back);
    expect(back.map.get('up')).toBe(back);
    expectAsBefore(root);
    const arrayOnly: unknown[] = [1];
    arrayOnly.push([arrayOnly]);
    expectAsBefore(arrayOnly);
  });

  it('random graphs with shared objects keep their identity and the bytes written before (fast-check)', () => {
    fc.assert(
      fc.property(graphs(false), (v) => {
        const bytes = enc(v);
        if (!containsMap(v))
          expect(bytes[0], 'no Map and no cycle: plain structured msgpack').not.toBe(RECORDS_MARK);
        expectAsBefore(v);
      }),
      { numRuns: 300 },
    );
  });

  it('random graphs with cycles keep their identity and the bytes written before (fast-check)', () => {
    fc.assert(
      fc.property(graphs(true), (v) => {
        expectAsBefore(v);
      }),
      { numRuns: 300 },
    );
  });

  it('values in which every object appears once write the bytes written before (fast-check)', () => {
    fc.assert(
      fc.property(msgpackValues, (v) => {
        const bytes = enc(v);
        if (!containsMap(v)) expect(bytes[0]).not.toBe(RECORDS_MARK);
        expectAsBefore(v);
        expect(msgpackCodec.decode(bytes)).toStrictEqual(v);
      }),
      { numRuns: 300 },
    );
  });

  it('values too deep or too wide for the quick pre-walk keep their shared objects too', () => {
    const shared = { at: 'bottom' };
    let deep: unknown = [shared, shared];
    for (let i = 0; i < 100; i++) deep = { d: deep };
    let back = rt(deep) as { d: unknown };
    for (let i = 0; i < 100; i++) back = back.d as { d: unknown };
    const [a, b] = back as unknown as [object, object];
    expect(a).toBe(b);
    expectAsBefore(deep);

    const wide: unknown[] = Array.from({ length: 120_000 }, (_, i) => (i % 2 === 0 ? { i } : i));
    wide.push(wide[0]);
    const w = rt(wide) as unknown[];
    expect(w[w.length - 1]).toBe(w[0]);
    expect(w).toHaveLength(120_001);
    expectAsBefore(wide);
  });

  it('each message is walked afresh: what came before (a refusal, a repeat, the same objects) changes nothing', () => {
    const throwing = {
      get x(): number {
        throw new Error('getter exploded');
      },
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            graphs(false),
            graphs(true),
            msgpackValues,
            fc.constantFrom<unknown>({ bad: () => 1 }, [Symbol('s')], { throwing }, new WeakMap()),
          ),
          { minLength: 2, maxLength: 8 },
        ),
        (values) => {
          for (const v of values) {
            let bytes: Uint8Array;
            try {
              bytes = enc(v);
            } catch (err) {
              expect((err as Error).name).toBe('SerializationError');
              expect(thrown(() => ranged(v)).message).toBe((err as Error).message);
              continue;
            }
            expect(sameBytes(bytes, reference(v, bytes[0] === RECORDS_MARK))).toBe(true);
            expectSameGraph(v, msgpackCodec.decode(bytes));
            // The same objects again, now shared: the earlier message leaves no trace in the walk.
            const twice = [v, v];
            expectAsBefore(twice);
            const back = rt(twice) as [unknown, unknown];
            if (typeof v === 'object' && v !== null) expect(back[0]).toBe(back[1]);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
