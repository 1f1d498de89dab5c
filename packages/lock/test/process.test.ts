/**
 * The process tier between real child processes: a counter kept exact by a
 * process Lock whatever way its token travelled (argv, env, process.send, a
 * conc Pipe), and a holder SIGKILLed in one child while another child waits.
 * The contract suite (process-contract.test.ts) covers each primitive.
 */
import { Pipe } from '@conc/pipe';
import { share } from '@conc/serialize';
import { SharedMemory } from '@conc/shared-memory';
import { fixture, spawnChild, type TrackedChild, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { isForeignBufferError, Condition as ThreadCondition, Lock as ThreadLock } from '../src/index.js';
import { Condition, Event, Lock, RLock, Semaphore } from '../src/process.js';

const child = fixture(import.meta.url, 'process-child.mjs');
const peer = fixture(import.meta.url, 'process-peer.mjs');

describe('a process Lock between child processes', () => {
  it('keeps a non-atomic counter exact across 4 children, tokens via argv, env and process.send', async () => {
    using lock = new Lock();
    using memory = SharedMemory.create({ size: 4 });
    const tokens = JSON.stringify({ lock: share(lock), memory: share(memory) });
    const times = 1500;
    const children: TrackedChild[] = [
      spawnChild(child, ['argv', tokens, 'sync', String(times)]),
      spawnChild(child, ['argv', tokens, 'async', String(times)]),
      spawnChild(child, ['env', '', 'sync', String(times)], { env: { CONC_TOKENS: tokens } }),
      spawnChild(child, ['message', '', 'async', String(times)]),
    ];
    await children[3]!.send(JSON.parse(tokens));
    try {
      const replies = await Promise.all(children.map((c) => c.nextMessage(60_000)));
      expect(replies).toEqual([
        { done: times, isLock: true, how: 'argv' },
        { done: times, isLock: true, how: 'argv' },
        { done: times, isLock: true, how: 'env' },
        { done: times, isLock: true, how: 'message' },
      ]);
      expect(new Int32Array(memory.buffer, 0, 1)[0]).toBe(4 * times);
      expect(lock.locked()).toBe(false);
    } finally {
      for (const c of children) await c.kill('SIGKILL');
    }
  });

  it('travels inside a message through a conc process Pipe and arrives attached', async () => {
    using lock = new Lock();
    using memory = SharedMemory.create({ size: 4 });
    const [mine, theirs] = Pipe<unknown>({ scope: 'process' });
    const c = spawnChild(child, ['pipe', JSON.stringify(share(theirs)), 'sync', '500']);
    try {
      await mine.send({ lock, memory });
      expect(await within(mine.recv(), 30_000, 'reply through the pipe')).toEqual({
        done: 500,
        isLock: true,
        how: 'pipe',
      });
      expect(new Int32Array(memory.buffer, 0, 1)[0]).toBe(500);
    } finally {
      await mine.close();
      await c.kill('SIGKILL');
    }
  });
});

describe('a holder SIGKILLed in one child: a waiter in another child takes over and is told', () => {
  it('onOwnerDied is told the pid of the dead holder (this process acquiring)', async () => {
    using lock = new Lock();
    const holder = spawnChild(peer, [
      JSON.stringify({ task: { role: 'hold', mode: 'sync' }, shared: { target: share(lock) } }),
    ]);
    try {
      expect(await holder.nextMessage(20_000)).toEqual({ ready: true });
      expect(await holder.nextMessage(20_000)).toEqual({ held: true });
      const infos: unknown[] = [];
      const acquired = lock.acquire({ timeout: 20_000, onOwnerDied: (info) => infos.push(info) });
      await holder.kill('SIGKILL');
      expect(await within(acquired, 25_000, 'take over')).toBe(true);
      expect(infos).toEqual([{ primitive: 'Lock', threadId: -1, pid: holder.pid, recovered: 1 }]);
      lock.release();
    } finally {
      await holder.kill('SIGKILL');
    }
  });

  const cases = [
    ['Lock', () => new Lock(), 1],
    ['RLock (held twice)', () => new RLock(), 2],
    [
      'Semaphore with returnPermitsOfDeadHolders',
      () => new Semaphore(1, { returnPermitsOfDeadHolders: true }),
      1,
    ],
  ] as const;
  for (const [name, make, depth] of cases) {
    for (const mode of ['sync', 'async'] as const) {
      it(`${name}, ${mode} waiter`, async () => {
        using target = make();
        const shared = { target: share(target) };
        const holder = spawnChild(peer, [
          JSON.stringify({ task: { role: 'hold', mode: 'sync', depth }, shared }),
        ]);
        let waiter: TrackedChild | undefined;
        try {
          expect(await holder.nextMessage(20_000)).toEqual({ ready: true });
          expect(await holder.nextMessage(20_000)).toEqual({ held: true });
          // Only now: a waiter started earlier could take it before the holder does.
          waiter = spawnChild(peer, [
            JSON.stringify({ task: { role: 'acquire', mode, timeout: 20_000 }, shared }),
          ]);
          expect(await waiter.nextMessage(20_000)).toEqual({ ready: true });
          expect(await waiter.nextMessage(20_000)).toEqual({ waiting: true });
          await holder.kill('SIGKILL');
          // Generous: the bound proves "no hang", not a speed (the tier notices within a slice).
          expect(await waiter.nextMessage(10_000)).toEqual({ acquired: true, ownerDied: true });
          expect(await waiter.nextMessage(10_000)).toEqual({ released: true });
        } finally {
          await holder.kill('SIGKILL');
          await waiter?.kill('SIGKILL');
        }
      });
    }
  }
});

describe('placement in a SharedMemory the user gives', () => {
  it('many primitives in one segment; overlap refused; a placed lock attaches here and in a child', async () => {
    using memory = SharedMemory.create({ size: 4096 });
    using counter = SharedMemory.create({ size: 4 });
    using lock = new Lock({ memory, byteOffset: 0 });
    using sem = new Semaphore(2, { memory, byteOffset: Lock.byteLength() });
    let refused: unknown;
    try {
      new Event({ memory, byteOffset: 8 });
    } catch (err) {
      refused = err;
    }
    expect(isForeignBufferError(refused)).toBe(true);
    expect(() => new Lock({ memory: new SharedArrayBuffer(16) as never })).toThrow(TypeError);
    // The same memory opened again in this process is the same lock.
    using again = new Lock({ memory, byteOffset: 0 });
    expect(lock.acquireSync()).toBe(true);
    expect(again.locked()).toBe(true);
    lock.release();
    expect(sem.acquireSync()).toBe(true);
    expect(sem.value).toBe(1);
    sem.release();
    const tokens = JSON.stringify({ lock: share(lock), memory: share(counter) });
    const c = spawnChild(child, ['argv', tokens, 'sync', '300']);
    try {
      expect(await c.nextMessage(30_000)).toEqual({ done: 300, isLock: true, how: 'argv' });
      expect(new Int32Array(counter.buffer, 0, 1)[0]).toBe(300);
    } finally {
      await c.kill('SIGKILL');
    }
  });
});

describe('tiers do not mix', () => {
  it('a Condition refuses a lock of the other tier (their waits and wake-ups never meet)', () => {
    using lock = new Lock();
    expect(() => new ThreadCondition(lock)).toThrow(/same tier/);
    expect(() => new Condition(new ThreadLock() as never)).toThrow(TypeError);
  });
});
