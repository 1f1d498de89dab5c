import { type Shareable, share } from '@conc/serialize';
import { SharedMemory } from '@conc/shared-memory';
import { fixture, lockContract, spawnChild } from '@conc/testkit';
import { expect } from 'vitest';
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore } from '../src/process.js';

/** A plain Int32 in a segment: read and write, no atomicity. */
class SegmentCounter {
  readonly memory = SharedMemory.create({ size: 4 });
  readonly i32 = new Int32Array(this.memory.buffer, 0, 1);
  read(): number {
    return this.i32[0]!;
  }
  write(value: number): void {
    this.i32[0] = value;
  }
}

lockContract('process', {
  syncPeers: true,
  peers: 3,
  increments: 300,
  createLock: () => new Lock(),
  createRLock: () => new RLock(),
  createSemaphore: (value, options) => new Semaphore(value, options),
  createBoundedSemaphore: (value, options) => new BoundedSemaphore(value, options),
  createCondition: (lock) => new Condition(lock as Lock | RLock | undefined),
  createEvent: () => new Event(),
  createBarrier: (parties, options) => new Barrier(parties, options),
  createCounter: () => new SegmentCounter(),
  destroy(primitive) {
    if (primitive instanceof SegmentCounter) primitive.memory.close();
    else (primitive as { close?: () => void }).close?.();
  },
  async startPeer(task, shared) {
    const data: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(shared)) {
      data[name] =
        value instanceof SegmentCounter ? { counter: share(value.memory) } : share(value as Shareable);
    }
    const child = spawnChild(fixture(import.meta.url, 'process-peer.mjs'), [
      JSON.stringify({ task, shared: data }),
    ]);
    expect(await child.nextMessage(20_000)).toEqual({ ready: true });
    return {
      next: (ms) => child.nextMessage(ms),
      kill: async () => {
        await child.kill('SIGKILL');
      },
      stop: async () => {
        await child.kill('SIGKILL');
      },
    };
  },
});
