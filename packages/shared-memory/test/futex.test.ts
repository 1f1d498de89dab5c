/**
 * wait / waitAsync / wake: results as Atomics gives them, timeouts, aborts, what keeps a
 * process alive, and threads that end while waiting.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fixture, spawnProcess, startWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { pendingWaits, SharedMemory, wait, waitAsync, wake } from '../src/index.js';

const LIMIT = 10_000;

function words(): { shm: SharedMemory; i32: Int32Array } {
  const shm = SharedMemory.create({ size: 64 });
  return { shm, i32: new Int32Array(shm.buffer) };
}

async function settleAll(): Promise<void> {
  // Aborted waits report back from their threads shortly after the abort.
  const deadline = Date.now() + LIMIT;
  while (pendingWaits() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describe('wait', () => {
  it("answers as Atomics.wait: 'not-equal', 'timed-out'", () => {
    const { shm, i32 } = words();
    Atomics.store(i32, 2, 5);
    expect(wait(i32, 2, 4, 1000)).toBe('not-equal');
    expect(wait(i32, 2, 5, 0)).toBe('timed-out');
    expect(wait(i32, 2, 5, 20)).toBe('timed-out');
    // A SharedArrayBuffer and a word index name the same word as the view does.
    expect(wait(shm.buffer, 2, 4)).toBe('not-equal');
    shm.close();
  });

  it('checks where the word is', () => {
    const { shm, i32 } = words();
    expect(() => wait(i32, 16, 0, 0)).toThrow(RangeError);
    expect(() => wait(i32, -1, 0, 0)).toThrow(RangeError);
    expect(() => wait(new Int32Array(4), 0, 0, 0)).toThrow(TypeError);
    expect(() => wake(i32, 1.5)).toThrow(RangeError);
    // A view with an offset: index 0 is its first word.
    const tail = new Int32Array(shm.buffer, 8, 2);
    Atomics.store(i32, 2, 3);
    expect(wait(tail, 0, 2, 0)).toBe('not-equal');
    shm.close();
  });

  it('a worker blocked in wait with no timeout is still terminated', async () => {
    const { shm } = words();
    const worker = startWorker(fixture(import.meta.url, 'waiter-worker.mjs'), {
      workerData: { buffer: shm.buffer, mode: 'sync' },
    });
    expect(await worker.nextMessage(LIMIT)).toEqual({ parking: true });
    // Let it get into the kernel: terminating it before would prove nothing.
    await new Promise((r) => setTimeout(r, 200));
    await within(worker.terminate(), LIMIT, 'terminate a worker blocked in wait');
    shm.close();
  });
});

describe('waitAsync', () => {
  it("answers 'not-equal' and 'timed-out' as Atomics.waitAsync does, and 'ok' when woken", async () => {
    const { shm, i32 } = words();
    expect(await waitAsync(i32, 0, 1)).toBe('not-equal');
    expect(await waitAsync(i32, 0, 0, 0)).toBe('timed-out');
    expect(await waitAsync(i32, 0, 0, 30)).toBe('timed-out');
    const woken = waitAsync(i32, 0, 0, LIMIT);
    setTimeout(() => {
      Atomics.store(i32, 0, 1);
      wake(i32, 0);
    }, 20);
    expect(await woken).toBe('ok');
    expect(pendingWaits()).toBe(0);
    shm.close();
  });

  it('many waits at once: every one is woken, and wake counts them', async () => {
    const { shm, i32 } = words();
    const n = 40;
    const all = Array.from({ length: n }, () => waitAsync(i32, 1, 0, LIMIT));
    // Each wait sleeps on a thread of its own; count them as they reach the kernel.
    let woken = 0;
    const deadline = Date.now() + LIMIT;
    while (woken < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      woken += wake(i32, 1, 1);
    }
    expect(woken).toBe(n);
    expect(await within(Promise.all(all), LIMIT, 'all woken')).toEqual(Array(n).fill('ok'));
    expect(wake(i32, 1)).toBe(0);
    shm.close();
  });

  it('an abort rejects with the reason at once and frees the waiting thread', async () => {
    const { shm, i32 } = words();
    const ac = new AbortController();
    const pending = waitAsync(i32, 0, 0, undefined, { signal: ac.signal });
    const reason = new Error('stop waiting');
    setTimeout(() => ac.abort(reason), 20);
    await expect(within(pending, LIMIT, 'aborted wait')).rejects.toBe(reason);
    await settleAll();
    expect(pendingWaits()).toBe(0);
    const pre = AbortSignal.abort(new Error('already'));
    await expect(waitAsync(i32, 0, 0, undefined, { signal: pre })).rejects.toThrow('already');
    shm.close();
  });

  it('a wake-up that reaches an aborted wait is passed on to another waiter', async () => {
    const { shm, i32 } = words();
    for (let round = 0; round < 30; round++) {
      // As every futex protocol does, the waker changes the word before it wakes.
      const ac = new AbortController();
      const aborted = waitAsync(i32, 0, round, undefined, { signal: ac.signal }).catch(() => 'aborted');
      await new Promise((r) => setTimeout(r, 2));
      const other = waitAsync(i32, 0, round, LIMIT);
      await new Promise((r) => setTimeout(r, 2));
      // The kernel may hand this one wake to the aborted wait's thread, still asleep.
      ac.abort();
      Atomics.store(i32, 0, round + 1);
      wake(i32, 0, 1);
      expect(await within(other, LIMIT, `round ${round}: the other waiter`)).toBe('ok');
      expect(await aborted).toBe('aborted');
      await settleAll();
    }
    shm.close();
  });
});

describe('two copies of the package in one thread', () => {
  it('the ESM and CommonJS builds share the one addon, and the waits of each still end', async () => {
    const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof import('../src/index.js');
    const { shm, i32 } = words();
    const first = waitAsync(i32, 0, 0, LIMIT);
    // The second copy installs its own dispatcher in the addon the first one uses.
    const second = cjs.waitAsync(i32, 0, 0, LIMIT);
    Atomics.store(i32, 0, 1);
    wake(i32, 0);
    expect(await within(Promise.all([first, second]), LIMIT, 'both copies')).toEqual(['ok', 'ok']);
    shm.close();
  });
});

describe('what keeps a process alive', () => {
  async function run(mode: string): Promise<{ code: number | null; lines: string[] }> {
    const script = fileURLToPath(fixture(import.meta.url, 'liveness.mjs'));
    await using child = spawnProcess(process.execPath, [script, mode]);
    const { code } = await within(child.exited, LIMIT, `liveness ${mode}`);
    expect(child.stderr()).toBe('');
    return { code, lines: child.stdout().trim().split('\n').filter(Boolean) };
  }

  it('nothing pending: the process exits', async () => {
    expect(await run('idle')).toEqual({ code: 0, lines: ['{"result":"not-equal"}'] });
  });

  it('a pending wait keeps it alive until the wait ends', async () => {
    expect(await run('pending')).toEqual({ code: 0, lines: ['{"result":"timed-out"}'] });
  });

  it('a pending wait with ref: false does not', async () => {
    expect(await run('unref')).toEqual({ code: 0, lines: [] });
  });
});

describe('threads that end while waiting', () => {
  it('terminating a worker with an async wait pending neither hangs nor crashes', async () => {
    const { shm, i32 } = words();
    for (let i = 0; i < 3; i++) {
      const worker = startWorker(fixture(import.meta.url, 'waiter-worker.mjs'), {
        workerData: { buffer: shm.buffer, mode: 'async' },
      });
      expect(await worker.nextMessage(LIMIT)).toEqual({ parking: true });
      await new Promise((r) => setTimeout(r, 20));
      await within(worker.terminate(), LIMIT, 'terminate a worker with an async wait');
    }
    // The cancelled waits left the kernel: nobody is there to wake.
    expect(wake(i32, 0)).toBe(0);
    shm.close();
  });
});
