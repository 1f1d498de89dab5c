/**
 * One segment, several real processes and a worker thread: the memory is the same
 * memory, and the futex wait/wake reaches across processes.
 */
import { share } from '@conc/serialize';
import { fixture, spawnChild, startWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { SharedMemory, wait, waitAsync, wake } from '../src/index.js';

const LIMIT = 20_000;

describe('across processes', () => {
  it('Atomics.add counts exactly from two processes and a worker thread of a third', async () => {
    const n = 200_000;
    using shm = SharedMemory.create({ size: 64 });
    const words = new Int32Array(shm.buffer);
    const token = JSON.stringify(share(shm));
    const children = [0, 1].map(() =>
      spawnChild(fixture(import.meta.url, 'counter.mjs'), [token, String(n)]),
    );
    const worker = startWorker(fixture(import.meta.url, 'counter-worker.mjs'), {
      workerData: { buffer: shm.buffer, n },
    });
    for (const c of children) expect(await c.nextMessage(LIMIT)).toEqual({ ready: true });
    expect(await worker.nextMessage(LIMIT)).toEqual({ ready: true });
    // Everyone is parked on word 1 (or about to be): one wake releases them all.
    Atomics.store(words, 1, 1);
    wake(words, 1);
    for (const c of children) expect(await c.nextMessage(LIMIT)).toEqual({ done: true });
    expect(await worker.nextMessage(LIMIT)).toEqual({ done: true });
    await within(Promise.all(children.map((c) => c.exited)), LIMIT, 'counters exit');
    await worker.terminate();
    expect(Atomics.load(words, 0)).toBe(3 * n);
    // The children closed their handles: this process is the only user left.
    expect(shm.users().map((u) => u.pid)).toEqual([process.pid]);
  });

  it('futex ping-pong: this process waits async, a child waits blocking; no round is lost', async () => {
    const rounds = 300;
    using shm = SharedMemory.create({ size: 64 });
    const words = new Int32Array(shm.buffer);
    const child = spawnChild(fixture(import.meta.url, 'ponger.mjs'), [
      JSON.stringify(share(shm)),
      String(rounds),
    ]);
    expect(await child.nextMessage(LIMIT)).toEqual({ ready: true });
    for (let i = 1; i <= rounds; i++) {
      Atomics.store(words, 0, i);
      wake(words, 0, 1);
      // One read per check: the child may answer between two reads.
      for (let seen = Atomics.load(words, 1); seen !== i; seen = Atomics.load(words, 1)) {
        expect(seen).toBe(i - 1);
        await within(waitAsync(words, 1, i - 1, 5000), LIMIT, `round ${i}`);
      }
    }
    const done = await child.nextMessage<{ done: boolean; parked: number }>(LIMIT);
    expect(done.done).toBe(true);
    await within(child.exited, LIMIT, 'ponger exit');
  });

  it('futex ping-pong between two child processes, both blocking', async () => {
    const rounds = 300;
    using shm = SharedMemory.create({ size: 64 });
    const token = JSON.stringify(share(shm));
    const pong = spawnChild(fixture(import.meta.url, 'ponger.mjs'), [token, String(rounds), 'pong']);
    expect(await pong.nextMessage(LIMIT)).toEqual({ ready: true });
    const ping = spawnChild(fixture(import.meta.url, 'ponger.mjs'), [token, String(rounds), 'ping']);
    expect(await ping.nextMessage(LIMIT)).toEqual({ ready: true });
    const results = await Promise.all([
      ping.nextMessage<{ done: boolean; parked: number }>(LIMIT),
      pong.nextMessage<{ done: boolean; parked: number }>(LIMIT),
    ]);
    expect(results.map((r) => r.done)).toEqual([true, true]);
    // Both sides really slept in the kernel and were woken by the other process.
    expect(results[0]!.parked + results[1]!.parked).toBeGreaterThan(0);
    const words = new Int32Array(shm.buffer);
    expect([Atomics.load(words, 0), Atomics.load(words, 1)]).toEqual([rounds, rounds]);
    await within(Promise.all([ping.exited, pong.exited]), LIMIT, 'pingers exit');
  });

  it('a wake from another process reaches an async wait in a worker thread', async () => {
    using shm = SharedMemory.create({ size: 64 });
    const words = new Int32Array(shm.buffer);
    const worker = startWorker(fixture(import.meta.url, 'waiter-worker.mjs'), {
      workerData: { buffer: shm.buffer, mode: 'async' },
    });
    expect(await worker.nextMessage(LIMIT)).toEqual({ parking: true });
    const child = spawnChild(fixture(import.meta.url, 'ponger.mjs'), [
      JSON.stringify(share(shm)),
      '1',
      'ping',
    ]);
    // The child stores 1 in word 0 and wakes it: the worker's async wait ends 'ok'.
    expect(await worker.nextMessage(LIMIT)).toEqual({ result: 'ok' });
    await child.kill();
    await worker.terminate();
    expect(wait(words, 0, 0, 0)).toBe('not-equal');
  });
});
