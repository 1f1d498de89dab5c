/**
 * The waiting engine runs on whatever wait/wake primitive a tier supplies
 * (issue 15): here a tier that records its calls over the real Atomics futex,
 * to see what the engine asks of it (sliced parks, wakes, keep-alive left to
 * a primitive that keeps the loop alive itself).
 */
import { within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import {
  atomicsWaitWake,
  createWaitEngine,
  pendingParks,
  type WaitResult,
  type WaitRoutine,
  type WaitWake,
} from '../src/internal.js';

function recordingTier(keepsAlive: boolean) {
  const calls: string[] = [];
  const timeouts: number[] = [];
  const tier: WaitWake<Int32Array> = {
    wait(memory, index, expected, timeoutMs) {
      calls.push('wait');
      timeouts.push(timeoutMs);
      return atomicsWaitWake.wait(memory, index, expected, timeoutMs);
    },
    waitAsync(memory, index, expected, timeoutMs) {
      calls.push('waitAsync');
      timeouts.push(timeoutMs);
      return atomicsWaitWake.waitAsync(memory, index, expected, timeoutMs);
    },
    wake(memory, index, count) {
      calls.push('wake');
      return atomicsWaitWake.wake(memory, index, count);
    },
    waitAsyncKeepsAlive: keepsAlive,
  };
  return { tier, calls, timeouts };
}

/** Waits until word 0 leaves 0 or the deadline passes; returns whether it changed and how many parks it took. */
function* waitForChange(i32: Int32Array, deadline: number): WaitRoutine<{ changed: boolean; parks: number }> {
  let parks = 0;
  for (;;) {
    if (Atomics.load(i32, 0) !== 0) return { changed: true, parks };
    const left = deadline - performance.now();
    if (left <= 0) return { changed: false, parks };
    const r: WaitResult = yield { memory: i32, index: 0, value: 0, timeout: left };
    if (r !== 'not-equal') parks++;
  }
}

describe('the waiting engine on a supplied wait/wake primitive', () => {
  it('cuts every park to a slice and reports each timed-out blocking slice', () => {
    const { tier, calls, timeouts } = recordingTier(false);
    let slicesTimedOut = 0;
    const engine = createWaitEngine(tier, {
      sliceMs: 20,
      onBlockedSliceTimedOut: () => void slicesTimedOut++,
    });
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    const r = engine.blockOn(waitForChange(i32, performance.now() + 100));
    expect(r.changed).toBe(false);
    // A 100 ms wait is asked of the primitive in slices of at most 20 ms (a slice may
    // overrun on a loaded machine, so how many there are is not fixed).
    expect(timeouts[0]).toBe(20);
    expect(Math.max(...timeouts)).toBeLessThanOrEqual(20);
    expect(r.parks).toBe(timeouts.length);
    expect(calls.every((c) => c === 'wait')).toBe(true);
    expect(slicesTimedOut).toBe(r.parks);
  });

  it('drives the same routine async; a wake through the engine ends it', async () => {
    const { tier, calls } = recordingTier(false);
    const engine = createWaitEngine(tier);
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    const waiting = engine.waitOn(waitForChange(i32, performance.now() + 10_000));
    expect(pendingParks()).toBe(1);
    Atomics.store(i32, 0, 1);
    engine.wake(i32, 0, 1);
    expect((await within(waiting, 10_000, 'async wait')).changed).toBe(true);
    expect(calls).toEqual(['waitAsync', 'wake']);
    expect(pendingParks()).toBe(0);
  });

  it('leaves the keep-alive to a primitive whose pending waits keep the loop alive themselves', async () => {
    const { tier } = recordingTier(true);
    const engine = createWaitEngine(tier);
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    const ac = new AbortController();
    const waiting = engine.waitOn(waitForChange(i32, performance.now() + 10_000), ac.signal);
    expect(pendingParks()).toBe(0);
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
