import { fixture, startWorker } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import {
  attach,
  getCodec,
  isDeserializationError,
  isSerializationError,
  isShareable,
  isToken,
  isTokenError,
  jsonCodec,
  msgpackCodec,
  onKind,
  plainMsgpackCodec,
  registerKind,
  type SerializationError,
  share,
  shareSymbol,
  TOKEN_VERSION,
  type Token,
  v8Codec,
} from '../src/index.js';
import { Cell, Counter, Loner } from './fixtures/kinds.mjs';
import { thrown } from './helpers.js';

describe('share / attach', () => {
  it('turns a primitive into a versioned, JSON-safe token and back', () => {
    const c = new Counter('jobs', 3);
    const token = share(c);
    expect(token).toEqual({
      $conc: 'token',
      v: TOKEN_VERSION,
      kind: 'test.process.Counter',
      data: { name: 'jobs', value: 3 },
    });
    expect(isToken(token)).toBe(true);
    const viaJson = JSON.parse(JSON.stringify(token)) as Token<Counter>;
    const back = attach(viaJson);
    expect(back).toBeInstanceOf(Counter);
    expect(back).toMatchObject({ name: 'jobs', value: 3 });
  });

  it('refuses what is not a primitive', () => {
    expect(isShareable({})).toBe(false);
    expect(isShareable(new Counter('x'))).toBe(true);
    expect(() => share({} as never)).toThrow(TypeError);
  });

  it('refuses malformed, foreign and newer-version tokens with TokenError', () => {
    const good = share(new Counter('a'));
    const cases: unknown[] = [
      undefined,
      null,
      'token',
      { kind: 'test.process.Counter', v: 1, data: {} },
      { $conc: 'nope', v: 1, kind: 'test.process.Counter', data: {} },
      { ...good, v: TOKEN_VERSION + 1 },
      { ...good, v: 0 },
      { ...good, v: '1' },
      { ...good, v: Number.NaN },
      { ...good, v: 1.5 },
      { ...good, v: null },
      { ...good, kind: 'elsewhere.thread.Thing' },
      { ...good, data: 'not an object' },
    ];
    for (const bad of cases) {
      const err = thrown(() => attach(bad));
      expect(isTokenError(err), `for ${JSON.stringify(bad)}: ${err}`).toBe(true);
    }
    expect(thrown(() => attach({ ...good, v: 99 })).message).toMatch(
      /format version 99, newer than .* reads \(version 1\)/,
    );
    expect(thrown(() => attach({ ...good, v: '1' })).message).toMatch(
      /must be the number 1, got the string "1"/,
    );
    expect(thrown(() => attach({ ...good, v: Number.NaN })).message).toMatch(/must be the number 1, got NaN/);
    expect(thrown(() => attach({ ...good, kind: 'elsewhere.thread.Thing' })).message).toMatch(
      /import @conc\/elsewhere/,
    );
    const wrapped = thrown(() => attach({ ...good, data: null }));
    expect(wrapped.message).toMatch(/malformed test\.process\.Counter token/);
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });

  it('keeps the first definition of a kind and tells listeners about past and future kinds', () => {
    const seen: string[] = [];
    onKind((def) => seen.push(def.kind));
    expect(seen).toEqual(expect.arrayContaining(['test.process.Counter', 'test.thread.Cell']));
    registerKind({ kind: 'test.process.Counter', attach: () => 'impostor' });
    expect(attach(share(new Counter('kept')))).toBeInstanceOf(Counter);
    registerKind({ kind: 'test.process.Late', attach: (d) => ({ late: d }) });
    expect(seen).toContain('test.process.Late');
    expect(attach({ $conc: 'token', v: 1, kind: 'test.process.Late', data: 7 })).toEqual({ late: 7 });
    expect(() => registerKind({ kind: '', attach: () => 1 })).toThrow(TypeError);
  });
});

describe('primitives inside messages', () => {
  const byteCodecs = [msgpackCodec, plainMsgpackCodec, jsonCodec];

  for (const codec of byteCodecs) {
    it(`${codec.name}: rebuilds registered primitives wherever they sit`, () => {
      const a = new Counter('a', 1);
      const message = { job: 7, counters: [a, { nested: new Counter('b', 2) }], solo: a };
      const back = codec.decode(codec.encode(message)) as {
        job: number;
        counters: [Counter, { nested: Counter }];
        solo: Counter;
      };
      expect(back.job).toBe(7);
      expect(back.counters[0]).toBeInstanceOf(Counter);
      expect(back.counters[0]).toMatchObject({ name: 'a', value: 1 });
      expect(back.counters[1].nested).toBeInstanceOf(Counter);
      expect(back.counters[1].nested.value).toBe(2);
      expect(back.solo).toBeInstanceOf(Counter);
      expect(codec.decode(codec.encode(new Counter('root', 9)))).toBeInstanceOf(Counter);
    });

    it(`${codec.name}: refuses a primitive whose token carries shared memory, naming the path`, () => {
      const err = thrown(() => codec.encode({ slots: [new Cell()] }));
      expect(isSerializationError(err)).toBe(true);
      expect(err.path).toBe('slots[0]');
      expect(err.message).toMatch(/SharedArrayBuffer/);
      expect(err.message).toMatch(/workerData or postMessage/);
    });

    it(`${codec.name}: names the token's inner path once, whatever its keys hold`, () => {
      class OddCell extends Cell {
        override [shareSymbol]() {
          return { kind: 'test.thread.Cell', data: { 'a: b': this.sab } };
        }
      }
      const err = thrown(() => codec.encode({ slots: [new OddCell()] }));
      expect(isSerializationError(err)).toBe(true);
      expect(err.path).toBe('slots[0]');
      expect(err.message).toMatch(
        /token cannot travel inside a message: at data\["a: b"\]: a SharedArrayBuffer/,
      );
      expect(err.message.match(/cannot serialize/g)).toHaveLength(1);
    });

    it(`${codec.name}: refuses a primitive whose package registers no class`, () => {
      const err = thrown(() => codec.encode({ x: new Loner() }));
      expect(isSerializationError(err)).toBe(true);
      expect(err.path).toBe('x');
      expect(err.message).toMatch(/share\(x\)/);
    });

    it(`${codec.name}: leaves an explicitly sent token a token`, () => {
      const token = share(new Counter('t'));
      const back = codec.decode(codec.encode({ token })) as { token: unknown };
      expect(back.token).toEqual(token);
    });
  }

  it('msgpack: a primitive token of an unknown kind fails decode with DeserializationError carrying the TokenError', () => {
    registerKind({ kind: 'test.process.Vanishing', Class: Counter, attach: () => new Counter('v') });
    // Simulate a receiver that lacks the kind: swap the kind name inside the encoded bytes.
    const bytes = Buffer.from(msgpackCodec.encode({ c: new Counter('x') }));
    const at = bytes.indexOf('test.process.Counter');
    bytes.write('test.process.Missing', at);
    const err = thrown(() => msgpackCodec.decode(bytes));
    expect(isDeserializationError(err)).toBe(true);
    expect(isTokenError(err.cause)).toBe(true);
    expect(err.message).toMatch(/unknown kind "test\.process\.Missing"/);
  });

  it('json: only walks messages that contain the marker, and revives safely under a __proto__ key', () => {
    const text = `{"__proto__":{"$concShared":${JSON.stringify(share(new Counter('p', 4)))}},"plain":{"$conc":"token"}}`;
    const back = jsonCodec.decode(Buffer.from(text)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toBeInstanceOf(Counter);
    expect(({} as Record<string, unknown>).name).toBeUndefined();
    const malformed = Buffer.from('{"x":{"$concShared":{"not":"a token"}}}');
    const err = thrown(() => jsonCodec.decode(malformed));
    expect(isDeserializationError(err)).toBe(true);
    expect(isTokenError(err.cause)).toBe(true);
    const extraKey = Buffer.from(`{"x":{"$concShared":${JSON.stringify(share(new Counter('q')))},"y":1}}`);
    expect(isDeserializationError(thrown(() => jsonCodec.decode(extraKey)))).toBe(true);
  });

  it('json: refuses user data that uses the reserved key', () => {
    const err = thrown(() => jsonCodec.encode({ a: { $concShared: 1 } })) as SerializationError;
    expect(isSerializationError(err)).toBe(true);
    expect(err.path).toBe('a.$concShared');
  });

  it('v8: refuses primitives instead of sending their fields', () => {
    const err = thrown(() => v8Codec.encode({ list: [new Counter('v')] }));
    expect(isSerializationError(err)).toBe(true);
    expect(err.path).toBe('list[0]');
    expect(err.message).toMatch(/does not rebuild conc primitives/);
  });

  it('a primitive whose share() throws is refused with the path and the cause', () => {
    class Broken extends Counter {
      override [shareSymbol](): { kind: string; data: unknown } {
        throw new Error('closed');
      }
    }
    const err = thrown(() => msgpackCodec.encode({ deep: [new Broken('b')] }));
    expect(isSerializationError(err)).toBe(true);
    expect(err.path).toBe('deep[0]');
    expect(err.message).toMatch(/closed/);
  });

  for (const name of ['msgpack', 'msgpack-plain', 'json'] as const) {
    it(`${name}: a worker thread with its own package copy rebuilds the primitive, and sends one back`, async () => {
      const codec = getCodec(name);
      await using w = startWorker(fixture(import.meta.url, 'share-worker.mjs'));
      expect(await w.nextMessage()).toBe('ready');
      w.post({ codec: name, bytes: codec.encode({ counter: new Counter('shared', 41) }) });
      const reply = await w.nextMessage<{
        isCounter: boolean;
        name: string;
        value: number;
        reply: Uint8Array;
      }>();
      expect(reply).toMatchObject({ isCounter: true, name: 'shared', value: 41 });
      const back = codec.decode(reply.reply) as { back: Counter };
      expect(back.back).toBeInstanceOf(Counter);
      expect(back.back).toMatchObject({ name: 'shared-back', value: 42 });
    });
  }
});
