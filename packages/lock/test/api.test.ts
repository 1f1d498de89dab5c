import { errorFromWire, errorToWire } from '@conc/serialize';
import { within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  isBrokenBarrierError,
  isLockNotOwnedError,
  isWouldDeadlockError,
  Lock,
  LockNotOwnedError,
  RLock,
  Semaphore,
} from '../src/index.js';
import { pendingParks, threadEngine } from '../src/internal.js';

const parkAsync = threadEngine.parkAsync;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('sync calls in one thread', () => {
  it('acquireSync of a Lock this thread holds: WouldDeadlockError without a timeout, false with one', () => {
    const lock = new Lock();
    expect(lock.acquireSync()).toBe(true);
    expect(isWouldDeadlockError(thrown(() => lock.acquireSync()))).toBe(true);
    expect(lock.acquireSync({ timeout: 10 })).toBe(false);
    expect(lock.acquireSync({ blocking: false })).toBe(false);
    lock.release();
  });

  it('RLock re-enters synchronously and counts; sync guards release at scope end', () => {
    const r = new RLock();
    {
      using outer = r.lockSync();
      {
        using inner = r.lockSync();
        expect(inner.held).toBe(true);
      }
      expect(r.locked()).toBe(true);
      expect(outer.ownerDied).toBe(false);
    }
    expect(r.locked()).toBe(false);
    const lock = new Lock();
    const g = lock.lockSync();
    g.release();
    g.release(); // a guard releases once, however often it is told to
    expect(lock.locked()).toBe(false);
    expect(isLockNotOwnedError(thrown(() => lock.release()))).toBe(true);
  });

  it('timed sync waits return false: Semaphore, Condition, Event', () => {
    const sem = new BoundedSemaphore(1);
    expect(sem.acquireSync()).toBe(true);
    expect(sem.acquireSync({ timeout: 10 })).toBe(false);
    sem.release();
    const cond = new Condition();
    cond.acquireSync();
    expect(cond.waitSync({ timeout: 10 })).toBe(false);
    expect(cond.waitForSync(() => 0, { timeout: 10 })).toBe(0);
    expect(cond.waitForSync(() => 'ready')).toBe('ready');
    cond.release();
    const event = new Event();
    expect(event.waitSync({ timeout: 10 })).toBe(false);
    event.set();
    expect(event.waitSync()).toBe(true);
  });

  it('a one-party barrier releases at once; an action that throws breaks it', () => {
    const b = new Barrier(1);
    expect(b.waitSync()).toBe(0);
    expect(b.waitSync()).toBe(0);
    b.action = () => {
      throw new Error('action failed');
    };
    expect(thrown(() => b.waitSync())).toMatchObject({ message: 'action failed' });
    expect(b.broken).toBe(true);
    expect(isBrokenBarrierError(thrown(() => b.waitSync()))).toBe(true);
    b.reset();
    b.action = undefined;
    expect(b.waitSync()).toBe(0);
  });
});

describe('options are validated up front', () => {
  it('constructors', () => {
    expect(thrown(() => new Semaphore(-1))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Semaphore(1.5))).toBeInstanceOf(RangeError);
    expect(
      thrown(() => new Semaphore(1, { returnPermitsOfDeadHolders: true, maxHolders: 0 })),
    ).toBeInstanceOf(RangeError);
    expect(thrown(() => new Barrier(0))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Barrier(2, { timeout: -5 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Barrier(2, { action: 'x' as unknown as () => void }))).toBeInstanceOf(TypeError);
    expect(thrown(() => new Condition(undefined, { capacity: 0 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Condition({} as Lock))).toBeInstanceOf(TypeError);
  });

  it('calls', async () => {
    const lock = new Lock();
    await expect(lock.acquire({ timeout: Number.NaN })).rejects.toBeInstanceOf(RangeError);
    await expect(lock.acquire({ blocking: false, timeout: 1 })).rejects.toBeInstanceOf(TypeError);
    await expect(lock.acquire({ signal: {} as AbortSignal })).rejects.toBeInstanceOf(TypeError);
    await expect(lock.acquire({ onOwnerDied: 1 as unknown as () => void })).rejects.toBeInstanceOf(TypeError);
    expect(thrown(() => lock.acquireSync({ timeout: -1 }))).toBeInstanceOf(RangeError);
    expect(lock.locked()).toBe(false);
    expect(thrown(() => new Semaphore(1).release(-1))).toBeInstanceOf(RangeError);
    const cond = new Condition();
    cond.acquireSync();
    expect(thrown(() => cond.notify(-1))).toBeInstanceOf(RangeError);
    cond.release();
    await expect(new Event().wait({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
    // Checked whether or not the flag is up: a bad call fails the same way every time.
    const set = new Event();
    set.set();
    await expect(set.wait({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
    expect(thrown(() => set.waitSync({ timeout: -1 }))).toBeInstanceOf(RangeError);
    await expect(lock.withLock(undefined as unknown as () => void)).rejects.toBeInstanceOf(TypeError);
  });
});

/**
 * Issue 14, finding 10: a wrong-typed option is reported with its type
 * (`got the string "10"`), never echoed as if it were a valid value.
 */
describe('wrong-typed options say what they got', () => {
  const bad = <T>(value: unknown) => value as T;
  const ms = 'timeout must be a number of milliseconds \\(>= 0, or Infinity\\), got the string "10"';
  type Call = [string, () => unknown, RegExp];
  const calls = (): Call[] => {
    const lock = new Lock();
    const rlock = new RLock();
    const sem = new Semaphore(1);
    const bsem = new BoundedSemaphore(1);
    const cond = new Condition();
    cond.acquireSync();
    const event = new Event();
    const barrier = new Barrier(2);
    const t = { timeout: bad<number>('10') };
    return [
      ['Lock.acquire', () => lock.acquire(t), new RegExp(`^Lock.acquire: ${ms}$`)],
      ['Lock.acquireSync', () => lock.acquireSync(t), new RegExp(`^Lock.acquireSync: ${ms}$`)],
      ['Lock.lock', () => lock.lock(t), new RegExp(`^Lock.acquire: ${ms}$`)],
      ['RLock.acquire', () => rlock.acquire(t), new RegExp(`^RLock.acquire: ${ms}$`)],
      ['Semaphore.acquire', () => sem.acquire(t), new RegExp(`^Semaphore.acquire: ${ms}$`)],
      [
        'BoundedSemaphore.acquireSync',
        () => bsem.acquireSync(t),
        new RegExp(`^BoundedSemaphore.acquireSync: ${ms}$`),
      ],
      ['Condition.acquire', () => cond.acquire(t), new RegExp(`^RLock.acquire: ${ms}$`)],
      ['Condition.wait', () => cond.wait(t), new RegExp(`^Condition.wait: ${ms}$`)],
      [
        'Condition.waitForSync',
        () => cond.waitForSync(() => true, t),
        new RegExp(`^Condition.waitForSync: ${ms}$`),
      ],
      ['Event.wait', () => event.wait(t), new RegExp(`^Event.wait: ${ms}$`)],
      ['Event.waitSync', () => event.waitSync(t), new RegExp(`^Event.waitSync: ${ms}$`)],
      ['Barrier.wait', () => barrier.wait(t), new RegExp(`^Barrier.wait: ${ms}$`)],
      ['new Barrier', () => new Barrier(2, t), new RegExp(`^Barrier: ${ms}$`)],
      [
        'blocking',
        () => lock.acquire({ blocking: bad<boolean>('no') }),
        /^Lock.acquire: blocking must be a boolean, got the string "no"$/,
      ],
      [
        'signal',
        () => event.wait({ signal: bad<AbortSignal>('stop') }),
        /^Event.wait: signal must be an AbortSignal, got the string "stop"$/,
      ],
      [
        'onOwnerDied',
        () => sem.acquire({ onOwnerDied: bad<() => void>('log') }),
        /^Semaphore.acquire: onOwnerDied must be a function, got the string "log"$/,
      ],
      [
        'options',
        () => lock.acquire(bad<object>(10)),
        /^Lock.acquire: options must be an object like \{ blocking, timeout, signal, onOwnerDied \}, got 10$/,
      ],
      [
        'Semaphore value',
        () => new Semaphore(bad<number>('5')),
        /^Semaphore: value must be an integer from 0 to 1073741823, got the string "5"$/,
      ],
      [
        'maxHolders',
        () => new Semaphore(1, { returnPermitsOfDeadHolders: true, maxHolders: bad<number>('5') }),
        /^Semaphore: maxHolders must be an integer from 1 to 65536, got the string "5"$/,
      ],
      [
        'returnPermitsOfDeadHolders',
        () => new Semaphore(1, { returnPermitsOfDeadHolders: bad<boolean>('yes') }),
        /^Semaphore: returnPermitsOfDeadHolders must be a boolean, got the string "yes"$/,
      ],
      [
        'release n',
        () => sem.release(bad<number>('2')),
        /^Semaphore.release: n must be an integer from 1 to 1073741823, got the string "2"$/,
      ],
      [
        'parties',
        () => new Barrier(bad<number>('3')),
        /^Barrier: parties must be an integer from 1 to 65536, got the string "3"$/,
      ],
      [
        'capacity',
        () => new Condition(undefined, { capacity: bad<number>('4') }),
        /^Condition: capacity must be an integer from 1 to 65536, got the string "4"$/,
      ],
      [
        'notify n',
        () => cond.notify(bad<number>('1')),
        /^Condition.notify: n must be a non-negative number, got the string "1"$/,
      ],
      [
        'byteOffset',
        () => new Lock({ buffer: new SharedArrayBuffer(32), byteOffset: bad<number>('8') }),
        /^Lock: byteOffset must be a non-negative multiple of 4, got the string "8"$/,
      ],
      [
        'buffer',
        () => new Event({ buffer: bad<SharedArrayBuffer>(new ArrayBuffer(16)) }),
        /^Event: buffer must be a SharedArrayBuffer \(other threads cannot see an ArrayBuffer\), got an ArrayBuffer$/,
      ],
    ];
  };
  it('for every primitive, call and constructor (TypeError, message names the value and its type)', async () => {
    for (const [name, call, message] of calls()) {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect({ name, err }).toMatchObject({ name, err: expect.any(TypeError) });
      expect({ name, message: (err as Error).message }).toMatchObject({
        name,
        message: expect.stringMatching(message),
      });
    }
  });
});

describe('errors', () => {
  it('keep their class, name and code across a thread boundary', () => {
    const lock = new Lock();
    const err = thrown(() => lock.release()) as LockNotOwnedError;
    const back = errorFromWire(structuredClone(errorToWire(err)));
    expect(back).toBeInstanceOf(LockNotOwnedError);
    expect(isLockNotOwnedError(back)).toBe(true);
    expect(back).toMatchObject({
      name: 'LockNotOwnedError',
      code: 'ERR_CONC_LOCK_NOT_OWNED',
      message: err.message,
    });
  });
});

describe('parking building blocks', () => {
  it('an aborted parkAsync passes a wake-up it receives later on to the next waiter', async () => {
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    const ac = new AbortController();
    const first = parkAsync(i32, 0, 0, 10_000, ac.signal);
    const second = parkAsync(i32, 0, 0, 10_000);
    expect(pendingParks()).toBe(2);
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(first).rejects.toBe(reason);
    expect(pendingParks()).toBe(1);
    // Atomics.notify wakes the oldest waiter: the abandoned one, which hands it on.
    Atomics.notify(i32, 0, 1);
    expect(await within(second, 10_000, 'second park')).toBe('ok');
    expect(pendingParks()).toBe(0);
  });

  it('parkAsync resolves not-equal at once when the word already changed', async () => {
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    i32[0] = 1;
    expect(await parkAsync(i32, 0, 0, 10_000)).toBe('not-equal');
    expect(pendingParks()).toBe(0);
  });
});
