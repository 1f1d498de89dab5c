/**
 * What keeps a process alive (real child processes): an idle or held
 * primitive never does; a pending wait does, until it settles, and leaves no
 * timer behind (a pending Atomics.waitAsync alone would let the process exit).
 */
import { fileURLToPath } from 'node:url';
import { fixture, spawnProcess, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';

const LIMIT = 10_000;

async function run(mode: string): Promise<{ code: number | null; out: unknown; stderr: string }> {
  // No IPC channel: it would keep the child alive by itself.
  const script = fileURLToPath(fixture(import.meta.url, 'liveness.mjs'));
  await using child = spawnProcess(process.execPath, [script, mode]);
  const { code } = await within(child.exited, LIMIT, `child ${mode}`);
  const lines = child.stdout().trim().split('\n');
  return {
    code,
    out: lines.length > 0 && lines[0] ? JSON.parse(lines.at(-1)!) : undefined,
    stderr: child.stderr(),
  };
}

describe('liveness', () => {
  it('idle primitives of every kind, even held ones, let the process exit', async () => {
    const r = await run('idle');
    expect(r).toMatchObject({ code: 0, out: { done: true } });
  });

  it('pending waits with timeouts keep the process alive until they time out, and leave no timer', async () => {
    const r = await run('timeouts');
    expect(r.code).toBe(0);
    const out = r.out as { results: unknown[]; timersBefore: number; timersAfter: number };
    expect(out.results).toEqual([false, false, false, false, 'ERR_CONC_BROKEN_BARRIER']);
    expect(out.timersAfter).toBe(out.timersBefore);
  });

  it('a pending acquire keeps the process alive until a worker releases the lock', async () => {
    const r = await run('released-by-worker');
    expect(r).toMatchObject({ code: 0, out: { acquired: true } });
  });
});
