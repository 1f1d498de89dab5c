/**
 * Memory that does not hold what a constructor or token says (issue 14,
 * findings 4, 5 and 6): half-created memory, placements overlapping a live
 * primitive, and malformed token data are refused with one clear error, never
 * a hang or a silent corruption of the other primitive.
 */
import { attach, share, type Token } from '@conc/serialize';
import { fixture, startWorker } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  isForeignBufferError,
  Lock,
  RLock,
  Semaphore,
} from '../src/index.js';

const LIMIT = 10_000;

function caught(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}

/** Attaches tokens in a worker, so a hang fails the test instead of stalling the runner. */
async function attachInWorker(
  tokens: unknown[],
): Promise<Array<{ ok?: true; name?: string; code?: string; message?: string }>> {
  await using w = startWorker(fixture(import.meta.url, 'try-attach.mjs'), { workerData: { tokens } });
  return await w.nextMessage(LIMIT);
}

describe('half-created memory (a creator that died mid-construction) is refused, never waited on for ever', () => {
  const makers = {
    Lock: () => new Lock(),
    RLock: () => new RLock(),
    Event: () => new Event(),
    Semaphore: () => new Semaphore(1),
    BoundedSemaphore: () => new BoundedSemaphore(1, { returnPermitsOfDeadHolders: true }),
    Condition: () => new Condition(new Lock()),
    Barrier: () => new Barrier(2),
  };
  it('attach() throws TokenError for every kind whose first word is -1', async () => {
    const tokens = Object.values(makers).map((make) => {
      const p = make();
      const token = share(p);
      Atomics.store(new Int32Array(p.buffer, p.byteOffset, 1), 0, -1);
      return token;
    });
    const results = await attachInWorker(tokens);
    for (const [i, kind] of Object.keys(makers).entries()) {
      expect({ kind, ...results[i] }).toMatchObject({
        kind,
        name: 'TokenError',
        code: 'ERR_CONC_TOKEN',
        message: expect.stringMatching(/half-created: the thread that began creating a primitive there died/),
      });
    }
  });

  it('a constructor on such memory throws ForeignBufferError; a creator still alive is waited for, a bounded time', () => {
    const buffer = new SharedArrayBuffer(64);
    const i32 = new Int32Array(buffer);
    i32[0] = -1;
    expect(caught(() => new Lock({ buffer }))).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
      message: expect.stringMatching(/half-created/),
    });
    // A creating word naming this live thread: waited on, then refused (it never finishes here).
    const me = new Lock({ buffer, byteOffset: 16 });
    const myTag = Atomics.load(new Int32Array(buffer, 16, 4), 2);
    expect(myTag).toBe(0);
    me.acquireSync();
    const tag = Atomics.load(new Int32Array(buffer, 16, 4), 2) & 0x3fffffff;
    me.release();
    i32[8] = (1 << 31) | tag;
    expect(caught(() => new Event({ buffer, byteOffset: 32 }))).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
      message: expect.stringMatching(/has not finished in 1000 ms/),
    });
  });
});

describe('a placement overlapping a live primitive is refused (ForeignBufferError)', () => {
  it('a Lock inside an Event: refused, and the Event still reads as it was', () => {
    const buffer = new SharedArrayBuffer(64);
    const event = new Event({ buffer, byteOffset: 0 });
    const err = caught(() => new Lock({ buffer, byteOffset: 8 }));
    expect(isForeignBufferError(err)).toBe(true);
    expect(err.message).toBe(
      'Lock: byteOffset 8 is inside an Event that starts at byteOffset 0 and occupies 16 bytes',
    );
    expect(event.isSet()).toBe(false);
    event.set();
    expect(caught(() => new Lock({ buffer, byteOffset: 8 }))).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
    });
  });

  it('a Lock inside another Lock: refused; the first lock is neither locked nor abandoned', async () => {
    const buffer = new SharedArrayBuffer(64);
    const lock = new Lock({ buffer, byteOffset: 0 });
    expect(caught(() => new Lock({ buffer, byteOffset: 8 })).message).toMatch(
      /byteOffset 8 is inside a Lock that starts at byteOffset 0/,
    );
    expect(lock.locked()).toBe(false);
    let told = 0;
    expect(await lock.acquire({ blocking: false, onOwnerDied: () => void told++ })).toBe(true);
    expect(told).toBe(0);
    lock.release();
  });

  it('a primitive whose bytes would cover the start of another: refused', () => {
    const buffer = new SharedArrayBuffer(256);
    new Event({ buffer, byteOffset: 8 });
    expect(caught(() => new Lock({ buffer, byteOffset: 0 })).message).toBe(
      'Lock: an Event starts at byteOffset 8, inside the 16 bytes a Lock needs at byteOffset 0',
    );
    new Lock({ buffer, byteOffset: 64 });
    expect(caught(() => new Condition(undefined, { buffer, byteOffset: 32, capacity: 4 })).message).toMatch(
      /a Lock starts at byteOffset 64, inside the 64 bytes a Condition needs at byteOffset 32/,
    );
  });

  it("deep inside a large primitive (a Condition's waiter slots, a Semaphore's holder rows, a Barrier's party tags)", () => {
    const buffer = new SharedArrayBuffer(4096);
    new Condition(undefined, { buffer, byteOffset: 0, capacity: 20 }); // 256 bytes
    new Semaphore(1, { buffer, byteOffset: 256, returnPermitsOfDeadHolders: true, maxHolders: 30 }); // 272
    new Barrier(40, { buffer, byteOffset: 528 }); // 192
    expect(caught(() => new Lock({ buffer, byteOffset: 240 })).message).toMatch(
      /inside a Condition that starts at byteOffset 0 and occupies 256 bytes/,
    );
    expect(caught(() => new Event({ buffer, byteOffset: 512 })).message).toMatch(
      /inside a Semaphore that starts at byteOffset 256/,
    );
    expect(caught(() => new RLock({ buffer, byteOffset: 704 })).message).toMatch(
      /inside a Barrier that starts at byteOffset 528/,
    );
    // Right after the last one is free memory.
    expect(new Lock({ buffer, byteOffset: 720 }).locked()).toBe(false);
  });

  it('a forged token pointing inside another primitive is refused with TokenError', () => {
    const buffer = new SharedArrayBuffer(64);
    const event = new Event({ buffer, byteOffset: 0 });
    const lock = new Lock({ buffer, byteOffset: 32 });
    const forged = (of: Event | Lock, kind: string): Token => {
      const token = share(of) as Token;
      return { ...token, kind, data: { ...(token.data as object), byteOffset: of.byteOffset + 8 } };
    };
    for (const token of [forged(event, 'lock.thread.Lock'), forged(lock, 'lock.thread.Lock')]) {
      expect(caught(() => attach(token))).toMatchObject({
        name: 'TokenError',
        message: expect.stringMatching(
          /^attach: Lock: byteOffset (8|40) is inside an? (Event|Lock) that starts at byteOffset (0|32)/,
        ),
      });
    }
    expect(event.isSet()).toBe(false);
    expect(lock.locked()).toBe(false);
  });

  it('two threads creating overlapping primitives at the same moment: never both (20 races)', async () => {
    const racer = fixture(import.meta.url, 'racing-creator.mjs');
    for (let round = 0; round < 20; round++) {
      const buffer = new SharedArrayBuffer(64);
      const go = new SharedArrayBuffer(4);
      await using a = startWorker(racer, { workerData: { buffer, byteOffset: 0, kind: 'Event', go } });
      await using b = startWorker(racer, { workerData: { buffer, byteOffset: 8, kind: 'Lock', go } });
      expect(await a.nextMessage()).toEqual({ ready: true });
      expect(await b.nextMessage()).toEqual({ ready: true });
      Atomics.store(new Int32Array(go), 0, 1);
      Atomics.notify(new Int32Array(go), 0);
      const results = [await a.nextMessage(LIMIT), await b.nextMessage(LIMIT)] as Array<{
        ok?: boolean;
        code?: string;
      }>;
      expect(results.filter((r) => r.ok).length, JSON.stringify(results)).toBeLessThanOrEqual(1);
      for (const r of results) if (!r.ok) expect(r.code).toBe('ERR_CONC_FOREIGN_BUFFER');
      // Whatever won is intact: its tag is where it was created, the loser left nothing behind.
      const words = new Int32Array(buffer);
      if (results[0]?.ok) expect(new Event({ buffer, byteOffset: 0 }).isSet()).toBe(false);
      if (results[1]?.ok) expect(new Lock({ buffer, byteOffset: 8 }).locked()).toBe(false);
      if (!results[0]?.ok && !results[1]?.ok) expect([...words]).toEqual(new Array(16).fill(0));
    }
  });

  it('memory that is not zeroed is not created over', () => {
    const buffer = new SharedArrayBuffer(32);
    new Int32Array(buffer)[3] = 7;
    expect(caught(() => new Lock({ buffer })).message).toMatch(
      /the 16 bytes at byteOffset 0 are not zeroed \(byteOffset 12 holds 0x00000007\)/,
    );
    expect(new Int32Array(buffer)[0]).toBe(0);
  });
});

describe('lock token data is checked with one clear message (finding 6)', () => {
  const good = share(new Lock()) as Token;
  const data = good.data as Record<string, unknown>;
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'byteOffset NaN',
      { ...data, byteOffset: Number.NaN },
      /byteOffset must be a non-negative multiple of 4, got NaN$/,
    ],
    [
      'byteOffset a string',
      { ...data, byteOffset: '8' },
      /byteOffset must be a non-negative multiple of 4, got the string "8"$/,
    ],
    [
      'byteOffset negative',
      { ...data, byteOffset: -4 },
      /byteOffset must be a non-negative multiple of 4, got -4$/,
    ],
    [
      'byteOffset misaligned',
      { ...data, byteOffset: 2 },
      /byteOffset must be a non-negative multiple of 4, got 2$/,
    ],
    ['buffer missing', { ...data, buffer: undefined }, /buffer must be a SharedArrayBuffer, got undefined$/],
    [
      'registry an ArrayBuffer',
      { ...data, registry: new ArrayBuffer(8) },
      /registry must be a SharedArrayBuffer, got an ArrayBuffer$/,
    ],
    ['data null', null, /its data must be \{ buffer, byteOffset, registry \}, got null$/],
  ];
  for (const [name, d, message] of cases) {
    it(name, () => {
      const err = caught(() => attach({ ...good, data: d }));
      expect(err).toMatchObject({ name: 'TokenError', code: 'ERR_CONC_TOKEN' });
      expect(err.message).toMatch(/^attach: malformed lock\.thread\.Lock token: /);
      expect(err.message).toMatch(message);
    });
  }

  it('a token version NaN or "1" is refused by the envelope check', () => {
    for (const v of [Number.NaN, '1']) {
      expect(caught(() => attach({ ...good, v }))).toMatchObject({
        name: 'TokenError',
        message: expect.stringMatching(/format version must be the number 1, got (NaN|the string "1")$/),
      });
    }
  });
});
