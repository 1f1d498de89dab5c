import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  collectLeaks,
  eventually,
  fixture,
  noise,
  spawnChild,
  spawnProcess,
  startWorker,
  takeBaseline,
  tempDir,
  within,
} from '../src/index.js';

describe('startWorker', () => {
  it('delivers messages in order and reports the exit code', async () => {
    const w = startWorker(fixture(import.meta.url, 'echo-worker.mjs'), { workerData: { greeting: 'hi' } });
    expect(await w.nextMessage()).toMatchObject({ ready: true, greeting: 'hi' });
    w.post(1);
    w.post(2);
    expect(await w.nextMessage()).toEqual({ echo: 1 });
    expect(await w.nextMessage()).toEqual({ echo: 2 });
    w.post('stop');
    expect(await within(w.exited, 10_000, 'worker exit')).toBe(0);
    expect(w.alive()).toBe(false);
  });

  it('terminates a worker parked in Atomics.wait', async () => {
    await using w = startWorker(fixture(import.meta.url, 'echo-worker.mjs'));
    await w.nextMessage();
    w.post('hang');
    expect(await within(w.terminate(), 10_000, 'terminate')).toBe(1);
  });

  it('rejects a pending read with the worker error', async () => {
    const w = startWorker(fixture(import.meta.url, 'echo-worker.mjs'));
    await w.nextMessage();
    w.post('throw');
    await expect(w.nextMessage()).rejects.toThrow(/boom from worker/);
    await w.exited;
    expect(w.error?.message).toBe('boom from worker');
  });

  it('times out a read with a message naming the worker', async () => {
    await using w = startWorker(fixture(import.meta.url, 'echo-worker.mjs'));
    await w.nextMessage();
    await expect(w.nextMessage(50)).rejects.toThrow(/no message from worker .*echo-worker\.mjs within 50 ms/);
  });
});

describe('spawnChild', () => {
  it('runs a real child with IPC, collects stdout and the exit code', async () => {
    const c = spawnChild(fixture(import.meta.url, 'echo-child.mjs'), ['a', 'b']);
    expect(await c.nextMessage()).toMatchObject({ ready: true, argv: ['a', 'b'], pid: c.pid });
    await c.send({ n: 7 });
    expect(await c.nextMessage()).toEqual({ echo: { n: 7 } });
    await c.send('exit');
    expect(await within(c.exited, 10_000, 'child exit')).toEqual({ code: 3, signal: null });
    expect(c.stdout()).toContain('hello from child');
  });

  it('kills a child at a named crash point', async () => {
    const c = spawnChild(fixture(import.meta.url, 'echo-child.mjs'), [], {
      env: { CONC_CRASH_AT: 'on-message' },
    });
    await c.nextMessage();
    await c.send('anything');
    await expect(c.nextMessage()).rejects.toThrow(/exited \(code null, signal SIGKILL\)/);
    expect((await c.exited).signal).toBe('SIGKILL');
  });

  it('runs a child without IPC when asked', async () => {
    const c = spawnChild(fixture(import.meta.url, 'plain-child.mjs'), ['fail'], { ipc: false });
    expect(await within(c.exited, 10_000, 'plain child')).toEqual({ code: 4, signal: null });
    expect(c.stdout()).toContain('no ipc: undefined');
  });

  it('runs other programs too (python3)', async () => {
    const p = spawnProcess('python3', ['-c', 'print(6 * 7)']);
    expect(await within(p.exited, 10_000, 'python')).toEqual({ code: 0, signal: null });
    expect(p.stdout().trim()).toBe('42');
  });
});

describe('leak check', () => {
  it('finds and ends a worker, a child and a server left running, and an entry left in the temp dir', async () => {
    const baseline = takeBaseline();
    const w = startWorker(fixture(import.meta.url, 'echo-worker.mjs'));
    const c = spawnChild(fixture(import.meta.url, 'echo-child.mjs'));
    await w.nextMessage();
    await c.nextMessage();
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const stray = join(tmpdir(), `stray-${process.pid}`);
    mkdirSync(stray, { recursive: true });

    const leaks = await collectLeaks(baseline, 100);
    expect(leaks.some((l) => l.includes('echo-worker.mjs') && l.includes('still running'))).toBe(true);
    expect(leaks.some((l) => l.includes('echo-child.mjs') && l.includes('still running'))).toBe(true);
    expect(leaks.some((l) => l.includes('TCPServerWrap'))).toBe(true);
    expect(leaks.some((l) => l.includes(stray))).toBe(true);
    expect(w.alive()).toBe(false);
    expect(c.alive()).toBe(false);
    expect(existsSync(stray)).toBe(false);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await collectLeaks(baseline, 1000)).toEqual([]);
  });

  it('removes temp dirs silently: they are not leaks', async () => {
    const baseline = takeBaseline();
    const dir = await tempDir();
    expect(existsSync(dir)).toBe(true);
    expect(await collectLeaks(baseline, 100)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('within and eventually', () => {
  it('within rejects with the label and a live-resource report', async () => {
    const never = new Promise(() => {});
    await expect(within(never, 30, 'the step')).rejects.toThrow(
      /the step: not settled within 30 ms[\s\S]*active handles/,
    );
  });

  it('within passes a settled value through', async () => {
    expect(await within(Promise.resolve(5), 1000, 'x')).toBe(5);
  });

  it('eventually retries until the assertion holds, and rethrows the last failure', async () => {
    let n = 0;
    expect(
      await eventually(() => {
        n += 1;
        if (n < 3) throw new Error(`try ${n}`);
        return n;
      }),
    ).toBe(3);
    await expect(
      eventually(
        () => {
          throw new Error('never');
        },
        { timeout: 50 },
      ),
    ).rejects.toThrow('never');
  });
});

describe('private temp dir', () => {
  it('gives this test process its own TMPDIR, inherited by children', async () => {
    expect(process.env.CONC_TEST_TMPDIR).toBeTruthy();
    expect(tmpdir()).toBe(process.env.CONC_TEST_TMPDIR);
    const p = spawnProcess(process.execPath, ['-e', 'console.log(require("node:os").tmpdir())']);
    await within(p.exited, 10_000, 'child');
    expect(p.stdout().trim()).toBe(process.env.CONC_TEST_TMPDIR);
  });
});

describe('noise', () => {
  it('is the same for the same seed, differs by seed, and has no repeating stretch', () => {
    expect(noise(1000, 7).equals(noise(1000, 7))).toBe(true);
    expect(noise(1000, 7).equals(noise(1000, 8))).toBe(false);
    // A swap or duplicate of any two 4 KiB blocks of a 4 MiB message changes it.
    const big = noise(4 * 1024 * 1024, 3);
    const blocks = new Set<string>();
    for (let at = 0; at < big.length; at += 4096) blocks.add(big.subarray(at, at + 4096).toString('hex'));
    expect(blocks.size).toBe(1024);
    expect(noise(7, 1)).toHaveLength(7);
  });
});
