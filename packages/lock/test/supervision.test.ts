/**
 * How a thread's death is noticed (RELIABILITY 23, 25): by the thread that
 * created it ('exit' event, or a synchronous probe while that thread is itself
 * blocked), by the dying thread when it ends on its own, and for nested workers
 * by the supervisor of their dead parent.
 */
import { share } from '@conc/serialize';
import { fixture, startWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { Condition, Lock, type OwnerDiedInfo } from '../src/index.js';

const LIMIT = 10_000;
const holder = fixture(import.meta.url, 'holder.mjs');

function ownerTag(lock: Lock): number {
  return Atomics.load(new Int32Array(lock.buffer, lock.byteOffset, 4), 2) & 0x3fffffff;
}

describe('owner death is noticed', () => {
  it('while the creating thread is blocked in acquireSync, for a worker that died without running JavaScript', async () => {
    const lock = new Lock();
    const flag = new SharedArrayBuffer(4);
    await using w = startWorker(holder, {
      workerData: { token: share(lock), flag },
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    expect(await w.nextMessage()).toEqual({ held: true });
    const threadId = w.threadId;
    w.post('oom');
    const told: OwnerDiedInfo[] = [];
    // This thread cannot run the worker's 'exit' event while it blocks here.
    expect(lock.acquireSync({ timeout: LIMIT, onOwnerDied: (info) => told.push(info) })).toBe(true);
    expect(told).toEqual([{ primitive: 'Lock', threadId, recovered: 1 }]);
    expect(await within(w.exited, LIMIT, 'holder exit')).not.toBe(0);
    // The holder's own exit handlers never ran: only the probe could have seen it.
    expect(Atomics.load(new Int32Array(flag), 0)).toBe(0);
    lock.release();
  });

  for (const how of ['throw', 'exit'] as const) {
    it(`when the holder ends on its own (${how === 'throw' ? 'uncaught exception' : 'process.exit'}), from its exit handler`, async () => {
      const lock = new Lock();
      const flag = new SharedArrayBuffer(4);
      await using w = startWorker(holder, { workerData: { token: share(lock), flag } });
      expect(await w.nextMessage()).toEqual({ held: true });
      const waiting = lock.acquire({ timeout: LIMIT, onOwnerDied: () => undefined });
      w.post(how);
      expect(await within(w.exited, LIMIT, 'holder exit')).not.toBe(0);
      expect(Atomics.load(new Int32Array(flag), 0)).toBe(1);
      expect(await within(waiting, LIMIT, 'acquire')).toBe(true);
      expect(lock.ownerDied).toBe(true);
      lock.release();
      expect(lock.ownerDied).toBe(false);
    });
  }

  it('tells the handler given to the constructor when a call passes none', async () => {
    const told: OwnerDiedInfo[] = [];
    const lock = new Lock({ onOwnerDied: (info) => told.push(info) });
    await using w = startWorker(holder, { workerData: { token: share(lock) } });
    expect(await w.nextMessage()).toEqual({ held: true });
    const threadId = w.threadId;
    w.post('exit');
    expect(await within(lock.acquire({ timeout: LIMIT }), LIMIT, 'acquire')).toBe(true);
    expect(told).toEqual([{ primitive: 'Lock', threadId, recovered: 1 }]);
    lock.release();
  });

  it('when a supervising worker dies, the workers it created are counted dead with it', async () => {
    const lock = new Lock();
    const flag = new SharedArrayBuffer(4);
    await using supervisor = startWorker(fixture(import.meta.url, 'supervisor.mjs'), {
      workerData: { token: share(lock), flag },
    });
    const messages = [await supervisor.nextMessage(), await supervisor.nextMessage()] as Array<{
      from?: string;
      threadId?: number;
    }>;
    const held = messages.find((m) => m.from === 'holder');
    expect(held).toMatchObject({ from: 'holder', held: true });
    const told: OwnerDiedInfo[] = [];
    const waiting = lock.acquire({ timeout: LIMIT, onOwnerDied: (info) => told.push(info) });
    // Terminating the supervisor takes its worker down; nobody is left to see that worker's exit.
    await supervisor.terminate();
    expect(await within(waiting, LIMIT, 'acquire after the nested holder died')).toBe(true);
    expect(told).toEqual([{ primitive: 'Lock', threadId: held?.threadId, recovered: 1 }]);
    expect(Atomics.load(new Int32Array(flag), 0)).toBe(0);
    lock.release();
  });
});

describe('a condition whose notifier dies', () => {
  it('a waiter notified by a thread that died before releasing the lock still wakes, holding the lock, and is told', async () => {
    const told: OwnerDiedInfo[] = [];
    const cond = new Condition(new Lock({ onOwnerDied: (info) => told.push(info) }));
    await cond.acquire();
    const waiting = cond.wait({ timeout: LIMIT });
    await using notifier = startWorker(fixture(import.meta.url, 'notifier.mjs'), {
      workerData: { cond: share(cond) },
    });
    expect(await notifier.nextMessage()).toEqual({ notified: true });
    await notifier.terminate();
    expect(await within(waiting, LIMIT, 'wait')).toBe(true);
    expect(told).toHaveLength(1);
    expect(cond.lock.locked()).toBe(true);
    cond.release();
  });
});

describe('owner identity', () => {
  it('a new thread given the dead owner’s registry slot is never taken for the owner (RELIABILITY 25)', async () => {
    const lock = new Lock();
    const first = startWorker(holder, { workerData: { token: share(lock) } });
    expect(await first.nextMessage()).toEqual({ held: true });
    const deadTag = ownerTag(lock);
    await first.terminate();
    // Make the next thread to join the registry take the dead thread's slot.
    const registry = new Int32Array((share(lock).data as { registry: SharedArrayBuffer }).registry);
    Atomics.store(registry, 3, deadTag >>> 20);
    const other = new Lock();
    await using second = startWorker(holder, { workerData: { token: share(other) } });
    expect(await second.nextMessage()).toEqual({ held: true });
    const newTag = ownerTag(other);
    expect(newTag >>> 20).toBe(deadTag >>> 20);
    expect(newTag).not.toBe(deadTag);
    // The lock still names the dead tag; the slot's new, live tenant does not own it.
    let told = 0;
    expect(lock.acquireSync({ blocking: false, onOwnerDied: () => void told++ })).toBe(true);
    expect(told).toBe(1);
    lock.release();
    expect(other.locked()).toBe(true);
  });
});
