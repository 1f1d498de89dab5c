import { share } from '@conc/serialize';
import { lockContract } from '@conc/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import { type BaseProxy, type LockProxy, Manager, type ValueProxy } from '../src/index.js';
import { AUTHKEY, startPeer } from './helpers.js';

let m: Manager;

beforeAll(async () => {
  m = await Manager.start({ authkey: AUTHKEY });
});

afterAll(async () => {
  await m?.shutdown();
});

/** The contract's non-atomic counter: a manager value read and written in two calls. */
class Counter {
  constructor(readonly value: ValueProxy<number>) {}
  read(): Promise<number> {
    return this.value.get();
  }
  write(v: number): Promise<void> {
    return this.value.set(v);
  }
}

lockContract('manager', {
  peers: 3,
  increments: 100,
  modelRuns: 20,
  createLock: () => m.lock(),
  createRLock: () => m.rlock(),
  createSemaphore: (n) => m.semaphore(n),
  createBoundedSemaphore: (n) => m.boundedSemaphore(n),
  createCondition: (lock) => m.condition(lock as LockProxy | undefined),
  createEvent: () => m.event(),
  createBarrier: (parties, options) => m.barrier(parties, options),
  createCounter: async () => new Counter(await m.value(0)),
  async startPeer(task, shared) {
    const data: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(shared)) {
      data[name] = v instanceof Counter ? { counter: share(v.value) } : share(v as BaseProxy);
    }
    const child = startPeer('lock-peer.mjs', { task, shared: data });
    expect(await child.nextMessage(10_000)).toEqual({ ready: true });
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
