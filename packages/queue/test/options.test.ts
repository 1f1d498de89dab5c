/**
 * Options (issue 14, finding 10; DESIGN: every blocking call takes a signal):
 * a wrong option fails at once with a message that says what was passed, and
 * the Sync calls honour `signal` before they block and at each wake-up.
 */
import { isTokenError, share } from '@conc/serialize';
import { fixture, startWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { PriorityQueue, Queue, SimpleQueue } from '../src/index.js';

const peer = fixture(import.meta.url, 'queue-peer.mjs');

/** The error `fn` throws (or its promise rejects with). */
async function thrown(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('wrong options say what was passed', () => {
  it('a timeout of the wrong type is a TypeError naming the call and the value, never "got 100"', async () => {
    const q = new Queue<number>();
    await q.put(1);
    const cases: Array<[string, () => unknown]> = [
      ['get', () => q.get({ timeout: '100' as never })],
      ['getSync', () => q.getSync({ timeout: '100' as never })],
      ['getMany', () => q.getMany(2, { timeout: '100' as never })],
      ['getManySync', () => q.getManySync(2, { timeout: '100' as never })],
      ['put', () => q.put(2, { timeout: '100' as never })],
      ['putSync', () => q.putSync(2, { timeout: '100' as never })],
      ['putMany', () => q.putMany([2], { timeout: '100' as never })],
      ['putManySync', () => q.putManySync([2], { timeout: '100' as never })],
      ['join', () => q.join({ timeout: '100' as never })],
      ['joinSync', () => q.joinSync({ timeout: '100' as never })],
    ];
    for (const [call, fn] of cases) {
      const err = await thrown(fn);
      expect(err, call).toBeInstanceOf(TypeError);
      expect(err.message, call).toBe(
        `${call}: timeout must be a number of milliseconds (>= 0, or Infinity), got the string "100"`,
      );
    }
    // Nothing was taken or put by the failed calls.
    expect(q.qsize()).toBe(1);
  });

  it('numbers out of range, block, signal and the options object itself', async () => {
    const q = new Queue<number>();
    expect((await thrown(() => q.get({ timeout: Number.NaN }))).message).toBe(
      'get: timeout must be a number of milliseconds (>= 0, or Infinity), got NaN',
    );
    expect(await thrown(() => q.get({ timeout: -1 }))).toBeInstanceOf(RangeError);
    expect((await thrown(() => q.get({ block: 'no' as never }))).message).toBe(
      'get: block must be a boolean, got the string "no"',
    );
    expect((await thrown(() => q.getSync({ signal: 'stop' as never }))).message).toBe(
      'getSync: signal must be an AbortSignal, got the string "stop"',
    );
    expect((await thrown(() => q.put(1, 5 as never))).message).toBe(
      'put: options must be an object like { block, timeout, signal }, got 5',
    );
    expect((await thrown(() => q.getMany('3' as never))).message).toBe(
      'getMany: max must be an integer from 1 to 2147483647, got the string "3"',
    );
    expect((await thrown(() => q.shutdown({ immediate: 1 as never }))).message).toBe(
      'shutdown: immediate must be a boolean, got 1',
    );
    expect(q.isShutDown).toBe(false);
  });

  it('constructor options: maxsize, capacityBytes and key', () => {
    const err = (() => {
      try {
        new Queue({ maxsize: '5' as never });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(TypeError);
    expect(err?.message).toBe(
      'Queue: maxsize must be an integer up to 2147483647 (0 or less: unbounded), got the string "5"',
    );
    expect(() => new Queue({ maxsize: 1.5 })).toThrow(
      'Queue: maxsize must be an integer up to 2147483647 (0 or less: unbounded), got 1.5',
    );
    expect(() => new SimpleQueue({ capacityBytes: '1e6' as never })).toThrow(
      /^SimpleQueue: capacityBytes must be an integer from \d+ to \d+, got the string "1e6"$/,
    );
    expect(() => new PriorityQueue({ key: 'urgency' as never })).toThrow(
      'PriorityQueue: key must be a function, got the string "urgency"',
    );
    expect(() => new Queue(7 as never)).toThrow(/^Queue: options must be an object like .*, got 7$/);
  });

  it('attach refuses token data share() cannot have made, saying what it found', () => {
    const q = new Queue();
    const token = share(q);
    const data = token.data as Record<string, unknown>;
    for (const [bad, says] of [
      [{ ...data, keyed: 'yes' }, 'keyed must be a boolean, got the string "yes"'],
      [{ ...data, keyed: undefined }, 'keyed must be a boolean, got undefined'],
      [{ ...data, codec: 7 }, 'its codec must be a codec name, got 7'],
      [null, 'expected { buffer, codec, keyed, registry } from share(), got null'],
      [{ ...data, registry: undefined }, 'expected the owner registry of a share() token'],
      [{ ...data, registry: new SharedArrayBuffer(64) }, 'not a @conc/lock owner registry'],
      [{ ...data, buffer: new ArrayBuffer(8) }, 'not a conc queue buffer'],
    ] as const) {
      const forged = { ...token, data: bad } as never;
      for (const attachIt of [() => Queue.attach(forged)]) {
        const err = (() => {
          try {
            attachIt();
          } catch (e) {
            return e as Error;
          }
        })();
        expect(isTokenError(err), says).toBe(true);
        expect(err?.message).toContain(says);
      }
    }
    expect(() => Queue.attach(token, { codec: 5 as never })).toThrow(TypeError);
    expect(() => PriorityQueue.attach(share(new PriorityQueue()), { key: 1 as never })).toThrow(
      'attach: key must be a function, got 1',
    );
  });
});

describe('the Sync calls take a signal', () => {
  it('an aborted signal fails each Sync call with its reason before it touches the queue', () => {
    const q = new Queue<string>({ maxsize: 2 });
    q.putSync('kept');
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    const calls: Array<[string, () => unknown]> = [
      ['getSync', () => q.getSync({ signal })],
      ['getManySync', () => q.getManySync(5, { signal })],
      ['putSync', () => q.putSync('not put', { signal })],
      ['putManySync', () => q.putManySync(['not put'], { signal })],
      ['joinSync', () => q.joinSync({ signal })],
    ];
    for (const [call, fn] of calls) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err, call).toBe(reason);
    }
    // Nothing taken, nothing put.
    expect(q.qsize()).toBe(1);
    expect(q.getNowait()).toBe('kept');
  });

  it('a Sync wait looks at its signal at each wake-up: a worker blocked in getSync stops when another thread aborts it', async () => {
    const q = new Queue<string>();
    // A signal whose state lives in shared memory: the only kind another thread can abort.
    const word = new SharedArrayBuffer(4);
    const w = startWorker(peer, {
      workerData: {
        token: share(q),
        task: { role: 'getOne', mode: 'sync', timeout: 60_000, signalWord: word },
      },
    });
    try {
      expect(await w.nextMessage()).toEqual({ ready: true });
      await new Promise((r) => setTimeout(r, 100)); // let it block
      Atomics.store(new Int32Array(word), 0, 1);
      expect(await w.nextMessage(10_000)).toEqual({ error: 'Error', message: 'aborted from another thread' });
      // It took nothing: the next item goes to the next get.
      await q.put('after');
      expect(await within(q.get(), 10_000, 'get')).toBe('after');
    } finally {
      await w.terminate();
    }
  });

  it("a signal aborted from the blocked thread's own event loop cannot fire while it blocks: the timeout ends the wait", async () => {
    const q = new Queue<string>();
    const w = startWorker(peer, {
      workerData: { token: share(q), task: { role: 'getOne', mode: 'sync', timeout: 300, timerSignal: 20 } },
    });
    try {
      expect(await w.nextMessage()).toEqual({ ready: true });
      expect(await w.nextMessage(10_000)).toEqual({ error: 'ERR_CONC_QUEUE_EMPTY' });
    } finally {
      await w.terminate();
    }
  });
});
