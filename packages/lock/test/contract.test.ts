import { type Shareable, share } from '@conc/serialize';
import { fixture, lockContract, startWorker } from '@conc/testkit';
import { expect } from 'vitest';
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore } from '../src/index.js';

/** A plain Int32 in shared memory: read and write, no atomicity. */
class SharedCounter {
  readonly i32 = new Int32Array(new SharedArrayBuffer(4));
  read(): number {
    return this.i32[0]!;
  }
  write(value: number): void {
    this.i32[0] = value;
  }
}

lockContract('thread', {
  syncPeers: true,
  createLock: () => new Lock(),
  createRLock: () => new RLock(),
  createSemaphore: (value, options) => new Semaphore(value, options),
  createBoundedSemaphore: (value, options) => new BoundedSemaphore(value, options),
  createCondition: (lock) => new Condition(lock as Lock | RLock | undefined),
  createEvent: () => new Event(),
  createBarrier: (parties, options) => new Barrier(parties, options),
  createCounter: () => new SharedCounter(),
  async startPeer(task, shared) {
    const data: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(shared)) {
      data[name] = value instanceof SharedCounter ? { counter: value.i32.buffer } : share(value as Shareable);
    }
    const w = startWorker(fixture(import.meta.url, 'peer.mjs'), { workerData: { task, shared: data } });
    expect(await w.nextMessage()).toEqual({ ready: true });
    return {
      next: (ms) => w.nextMessage(ms),
      kill: async () => {
        await w.terminate();
      },
      stop: async () => {
        await w.terminate();
      },
    };
  },
});
