import { share } from '@conc/serialize';
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

describe('primitives built from (buffer, byteOffset)', () => {
  it('many primitives live side by side in one SharedArrayBuffer without disturbing each other', () => {
    const sizes = [
      Lock.byteLength(),
      RLock.byteLength(),
      Semaphore.byteLength({ returnPermitsOfDeadHolders: true, maxHolders: 4 }),
      Event.byteLength(),
      Condition.byteLength({ capacity: 4 }),
      Barrier.byteLength(2),
    ];
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const buffer = new SharedArrayBuffer(sizes.reduce((a, b) => a + b, 0));
    const at = (i: number) => ({ buffer, byteOffset: offsets[i] });
    const lock = new Lock(at(0));
    const rlock = new RLock(at(1));
    const sem = new Semaphore(2, { ...at(2), returnPermitsOfDeadHolders: true, maxHolders: 4 });
    const event = new Event(at(3));
    const cond = new Condition(lock, { ...at(4), capacity: 4 });
    const barrier = new Barrier(2, at(5));

    expect(lock.acquireSync()).toBe(true);
    expect(rlock.locked()).toBe(false);
    expect(sem.value).toBe(2);
    expect(event.isSet()).toBe(false);
    expect(barrier.nWaiting).toBe(0);
    rlock.acquireSync();
    sem.acquireSync();
    event.set();
    expect(cond.notify()).toBe(0);
    expect([lock.locked(), rlock.locked(), sem.value, event.isSet(), barrier.broken]).toEqual([
      true,
      true,
      1,
      true,
      false,
    ]);
    lock.release();
    rlock.release();
    sem.release();
    expect([lock.locked(), rlock.locked(), sem.value, event.isSet()]).toEqual([false, false, 2, true]);
  });

  it('zeroed memory creates the primitive; the same memory opened again is the same primitive', () => {
    const buffer = new SharedArrayBuffer(128);
    const a = new Lock({ buffer, byteOffset: 16 });
    const b = new Lock({ buffer, byteOffset: 16 });
    a.acquireSync();
    expect(b.locked()).toBe(true);
    // Same thread, so b may release what a took: the owner is the thread.
    b.release();
    expect(a.locked()).toBe(false);
    const s1 = new Semaphore(3, { buffer, byteOffset: 32, returnPermitsOfDeadHolders: true, maxHolders: 1 });
    const s2 = new Semaphore(99, { buffer, byteOffset: 32 });
    expect(s2.value).toBe(3);
    s1.acquireSync();
    expect(s2.value).toBe(2);
  });

  it('memory holding another primitive or unrelated data is refused with a clear error', () => {
    const buffer = new SharedArrayBuffer(256);
    new Lock({ buffer, byteOffset: 0 });
    const wrongKind = catchError(() => new Semaphore(1, { buffer, byteOffset: 0 }));
    expect(isForeignBufferError(wrongKind)).toBe(true);
    expect((wrongKind as Error).message).toMatch(/holds a Lock, not a Semaphore/);
    expect(catchError(() => new BoundedSemaphore(1, { buffer, byteOffset: 0 }))).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
    });

    new Int32Array(buffer, 64, 4).fill(0x12345678);
    const garbage = catchError(() => new Event({ buffer, byteOffset: 64 }));
    expect((garbage as Error).message).toMatch(/unrelated data \(0x12345678\)/);

    new Barrier(3, { buffer, byteOffset: 128 });
    expect(catchError(() => new Barrier(4, { buffer, byteOffset: 128 }))).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
      message: expect.stringMatching(/parties 3, not 4/),
    });
    new Semaphore(1, { buffer, byteOffset: 192, returnPermitsOfDeadHolders: true, maxHolders: 2 });
    expect(
      catchError(
        () => new Semaphore(1, { buffer, byteOffset: 192, returnPermitsOfDeadHolders: true, maxHolders: 3 }),
      ),
    ).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
    });
  });

  it('bad placements fail at once: not shared, misaligned, too small, offset without buffer', () => {
    const buffer = new SharedArrayBuffer(32);
    expect(
      catchError(() => new Lock({ buffer: new ArrayBuffer(16) as unknown as SharedArrayBuffer })),
    ).toBeInstanceOf(TypeError);
    expect(catchError(() => new Lock({ buffer, byteOffset: 2 }))).toBeInstanceOf(RangeError);
    expect(catchError(() => new Lock({ buffer, byteOffset: 24 }))).toBeInstanceOf(RangeError);
    expect(catchError(() => new Lock({ byteOffset: 8 }))).toBeInstanceOf(RangeError);
    expect(catchError(() => new Condition(undefined, { buffer, capacity: 4 }))).toBeInstanceOf(RangeError);
    expect(catchError(() => Barrier.byteLength(0))).toBeInstanceOf(RangeError);
  });
});

describe('share() and attach() across threads', () => {
  it('tokens sent by postMessage attach to the same primitives; a Condition brings its lock', async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const event = new Event();
    const sem = new Semaphore(5);
    lock.acquireSync();
    await using w = startWorker(fixture(import.meta.url, 'attacher.mjs'));
    w.post({ lock: share(lock), cond: share(cond), event: share(event), sem: share(sem) });
    expect(await w.nextMessage()).toEqual({
      lockLocked: true,
      condLockLocked: true,
      eventSet: false,
      semValue: 5,
      tookLock: false,
    });
    expect(event.isSet()).toBe(true);
    lock.release();
  });

  it('a lock from a thread tree with its own registry attaches by token, but not by raw buffer', async () => {
    await using root = startWorker(fixture(import.meta.url, 'lineage-root.mjs'));
    const { token, buffer, byteOffset } = await root.nextMessage<{
      token: ReturnType<typeof share<Lock>>;
      buffer: SharedArrayBuffer;
      byteOffset: number;
    }>();
    expect(catchError(() => new Lock({ buffer, byteOffset }))).toMatchObject({
      code: 'ERR_CONC_FOREIGN_BUFFER',
      message: expect.stringMatching(/share\(\)\/attach\(\)/),
    });
    const { attach } = await import('@conc/serialize');
    const lock = attach(token);
    expect(lock.locked()).toBe(true);
    expect(await lock.acquire({ blocking: false })).toBe(false);
    const waiting = lock.acquire({ timeout: 10_000 });
    root.post('release');
    expect(await root.nextMessage()).toEqual({ released: true });
    expect(await waiting).toBe(true);
    // Now the raw buffer opens too: this thread has learnt that registry.
    expect(new Lock({ buffer, byteOffset }).locked()).toBe(true);
    lock.release();
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
