import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('conc-demo manager', () => {
  it('runs the counter race across processes without a lock, with the RLock (0) and with add (0), then survives a killed holder', async () => {
    const { code, stderr, lines } = await runDemo('manager');
    expect(code, stderr).toBe(0);
    // The unlocked total is usually wrong, but may be right by chance: only its shape is checked.
    expect(lines).toEqual([
      "== manager: Python's multiprocessing.Manager across child processes",
      'The counter race across processes: two child processes share a manager dict; one adds 1,',
      'the other subtracts 1, 300 times each. The total should be 0.',
      expect.stringMatching(
        /^without a lock: total = (0 \(no update was lost this time; run it again\)|-?[1-9]\d* \(updates were lost\))$/,
      ),
      expect.stringMatching(/^with the manager's RLock: total = 0 \(\d+ ms\)$/),
      expect.stringMatching(/^with dict\.add: total = 0 \(\d+ ms, \d+\.\dx the speed of the RLock\)$/),
      'A client that dies: Jack takes the RLock and his process is killed (SIGKILL) while he holds it.',
      'Ken: acquire() -> true; onOwnerDied says a client died holding the RLock',
    ]);
  });
});
