import { createRequire } from 'node:module';
import { types } from 'node:util';
import { fixture, startWorker } from '@conc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConcError,
  DeserializationError,
  defineConcError,
  errorFromWire,
  errorGuard,
  errorToWire,
  FrameTooLargeError,
  isConcError,
  isFrameTooLargeError,
  isProtocolError,
  isSerializationError,
  isWireError,
  msgpackCodec,
  ProtocolError,
  SerializationError,
  type WireError,
} from '../src/index.js';

class QueueEmptyTestError extends ConcError {
  static {
    defineConcError(this, 'QueueEmptyTestError', 'ERR_CONC_TEST_EMPTY');
  }
}
const isQueueEmptyTestError = errorGuard(QueueEmptyTestError);

describe('errors from a peer', () => {
  it('isWireError refuses records whose optional fields have the wrong type', () => {
    const base = { $concError: 1, name: 'Error', message: 'm' };
    expect(isWireError(base)).toBe(true);
    for (const bad of [{ code: 42 }, { stack: {} }, { props: null }, { props: [1] }, { props: 'x' }]) {
      expect(isWireError({ ...base, ...bad }), JSON.stringify(bad)).toBe(false);
    }
  });

  it('errorFromWire makes a real error of any name, even a key of Object.prototype', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const err = errorFromWire({ $concError: 1, name, message: 'm' });
      expect(err, name).toBeInstanceOf(Error);
      expect([err.name, err.message]).toEqual([name, 'm']);
    }
  });

  it('errorFromWire never throws for a record isWireError accepts', () => {
    const field = fc.oneof(fc.constant(undefined), fc.anything());
    fc.assert(
      fc.property(
        fc.record({
          name: fc.string(),
          message: fc.string(),
          code: field,
          stack: field,
          props: field,
          cause: field,
        }),
        (r) => {
          const wire = { $concError: 1, ...r };
          if (isWireError(wire)) expect(errorFromWire(wire)).toBeInstanceOf(Error);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('errors', () => {
  it('give every class a stable name and code, and a guard that checks the code', () => {
    const err = new QueueEmptyTestError('empty');
    expect(err.name).toBe('QueueEmptyTestError');
    expect(err.code).toBe('ERR_CONC_TEST_EMPTY');
    expect(QueueEmptyTestError.code).toBe('ERR_CONC_TEST_EMPTY');
    expect(String(err.stack)).toMatch(/^QueueEmptyTestError: empty/);
    expect(isQueueEmptyTestError(err)).toBe(true);
    expect(isConcError(err)).toBe(true);
    expect(isConcError(err, 'ERR_CONC_TEST_EMPTY')).toBe(true);
    expect(isConcError(err, 'ERR_CONC_OTHER')).toBe(false);
    expect(isProtocolError(err)).toBe(false);
    expect(isConcError(new Error('plain'))).toBe(false);
    expect(isConcError({ code: 'ERR_CONC_TEST_EMPTY' })).toBe(false);
    expect(isConcError(null)).toBe(false);
  });

  it('keep their cause and own fields', () => {
    const cause = new RangeError('inner');
    const err = new FrameTooLargeError(10, 5, { cause });
    expect(err.cause).toBe(cause);
    expect(err).toMatchObject({ size: 10, limit: 5 });
    const se = new SerializationError('no', { path: 'a[1]' });
    expect(se.path).toBe('a[1]');
  });

  it('round-trip through errorToWire / JSON / errorFromWire as the same class', () => {
    const original = new FrameTooLargeError(5000, 1000, { cause: new TypeError('because') });
    const wire = JSON.parse(JSON.stringify(errorToWire(original))) as WireError;
    expect(isWireError(wire)).toBe(true);
    const back = errorFromWire(wire);
    expect(back).toBeInstanceOf(FrameTooLargeError);
    expect(types.isNativeError(back)).toBe(true);
    expect(isFrameTooLargeError(back)).toBe(true);
    expect(back.message).toBe(original.message);
    expect(back).toMatchObject({ size: 5000, limit: 1000, code: 'ERR_CONC_FRAME_TOO_LARGE' });
    expect(back.cause).toBeInstanceOf(TypeError);
    expect((back.cause as Error).message).toBe('because');
    expect((back as ConcError).remoteStack).toBe(original.stack);
    expect(back.stack).toContain('--- rethrown across a boundary ---');
  });

  it('rebuild unknown conc classes as ConcError with their name and code, and other errors as plain errors', () => {
    const unknownConc = errorFromWire({
      $concError: 1,
      name: 'ElsewhereError',
      code: 'ERR_CONC_ELSEWHERE',
      message: 'm',
    });
    expect(unknownConc).toBeInstanceOf(ConcError);
    expect(unknownConc.name).toBe('ElsewhereError');
    expect(isConcError(unknownConc, 'ERR_CONC_ELSEWHERE')).toBe(true);

    const custom = errorFromWire({ $concError: 1, name: 'MyAppError', message: 'x', code: 'EAPP' });
    expect(custom).toBeInstanceOf(Error);
    expect(isConcError(custom)).toBe(false);
    expect(custom.name).toBe('MyAppError');
    expect((custom as Error & { code?: string }).code).toBe('EAPP');

    const thrown = errorToWire('a string was thrown');
    expect(thrown).toEqual({ $concError: 1, name: 'Error', message: 'a string was thrown' });
  });

  it('ignore prototype-polluting field names on the way back', () => {
    const wire = JSON.parse(
      '{"$concError":1,"name":"Error","message":"m","props":{"__proto__":{"polluted":1},"constructor":1,"ok":2}}',
    ) as WireError;
    const back = errorFromWire(wire) as Error & Record<string, unknown>;
    expect(back.ok).toBe(2);
    expect(Object.getPrototypeOf(back)).toBe(Error.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('are recognised across two copies of the package in one thread (ESM and CJS builds)', () => {
    const require = createRequire(import.meta.url);
    const cjs = require('@conc/serialize') as typeof import('../src/index.js');
    expect(cjs.ProtocolError).not.toBe(ProtocolError);
    const fromCjs = new cjs.ProtocolError('from the other copy');
    expect(fromCjs).not.toBeInstanceOf(ProtocolError);
    expect(isProtocolError(fromCjs)).toBe(true);
    expect(isConcError(fromCjs, 'ERR_CONC_PROTOCOL')).toBe(true);
    expect(cjs.isProtocolError(new ProtocolError('x'))).toBe(true);
    // Both copies register under the same global map: the first copy loaded wins and rebuilds.
    const back = cjs.errorFromWire(errorToWire(new ProtocolError('y')));
    expect(isProtocolError(back)).toBe(true);
  });

  describe('across a real worker thread', () => {
    it('rebuild the class, cause and fields of an error sent as wire data', async () => {
      await using w = startWorker(fixture(import.meta.url, 'errors-worker.mjs'));
      expect(await w.nextMessage()).toBe('ready');
      w.post('wire');
      const { wire } = await w.nextMessage<{ wire: WireError }>();
      const err = errorFromWire(wire);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(isProtocolError(err)).toBe(true);
      expect(err.message).toBe('bad header');
      expect(err.cause).toBeInstanceOf(RangeError);
      expect((err as ConcError).remoteStack).toContain('errors-worker.mjs');

      w.post('wire-large');
      const large = errorFromWire((await w.nextMessage<{ wire: WireError }>()).wire);
      expect(large).toBeInstanceOf(FrameTooLargeError);
      expect(large).toMatchObject({ size: 5000, limit: 1000 });

      w.post('wire-serialization');
      const ser = errorFromWire((await w.nextMessage<{ wire: WireError }>()).wire);
      expect(isSerializationError(ser)).toBe(true);
      expect((ser as SerializationError).path).toBe('items[1].callback');
    });

    it('rebuild an error sent inside a msgpack message', async () => {
      await using w = startWorker(fixture(import.meta.url, 'errors-worker.mjs'));
      expect(await w.nextMessage()).toBe('ready');
      w.post('in-message');
      const { bytes } = await w.nextMessage<{ bytes: Uint8Array }>();
      const msg = msgpackCodec.decode(bytes) as { ok: boolean; error: Error };
      expect(msg.ok).toBe(false);
      expect(msg.error).toBeInstanceOf(ProtocolError);
      expect(isProtocolError(msg.error)).toBe(true);
      expect(msg.error.message).toBe('from the worker');
      expect(msg.error.stack).toContain('errors-worker.mjs');
    });
  });

  it('DeserializationError is a ConcError with its code', () => {
    const e = new DeserializationError('x');
    expect(isConcError(e, 'ERR_CONC_DESERIALIZATION')).toBe(true);
  });
});
