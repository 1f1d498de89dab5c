import { fileURLToPath } from 'node:url';
import { spawnProcess, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('conc-demo lock', () => {
  it('runs the counter race without and with a Lock (always 0), then survives a holder that dies', async () => {
    const p = spawnProcess(process.execPath, [cli, 'lock']);
    const exit = await within(p.exited, 50_000, 'conc-demo lock');
    expect(exit.code, p.stderr()).toBe(0);
    const lines = p
      .stdout()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    // The unlocked total is usually wrong, but may be right by chance: only its shape is checked.
    expect(lines).toEqual([
      "== lock: Python's threading locks across worker threads",
      'The counter race: two worker threads share one Int32; one adds 1, the other subtracts 1,',
      '1000 times each, by reading it, yielding, then writing it back. The total should be 0.',
      expect.stringMatching(
        /^without a lock: total = (0 \(no update was lost this time; run it again\)|-?[1-9]\d* \(updates were lost\))$/,
      ),
      'with a Lock:    total = 0',
      'A holder that dies: Jack takes the Lock and his thread is terminated while he holds it.',
      expect.stringMatching(/^Ken: acquire\(\) -> true; onOwnerDied says thread \d+ died holding the Lock$/),
    ]);
  });
});
