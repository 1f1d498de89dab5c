import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('conc-demo lock', () => {
  it('runs the counter race without and with a Lock (always 0), then survives a holder that dies', async () => {
    const { code, stderr, lines } = await runDemo('lock');
    expect(code, stderr).toBe(0);
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
