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
  parkAsync,
  pendingParks,
  RLock,
  Semaphore,
} from '../src/index.js';

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
    expect(thrown(() => new Semaphore(1, { maxHolders: 0 }))).toBeInstanceOf(RangeError);
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
