/** Wrong options are refused with messages that say what was passed, the same on every call. */
import { describe, expect, it } from 'vitest';
import { Pipe, wait } from './helpers.js';

describe('options', () => {
  it('refuses a timeout of the wrong type or range, saying what it got', async () => {
    const [a, b] = Pipe();
    try {
      await expect(b.recv({ timeout: '100' as never })).rejects.toThrow(
        /^recv: timeout must be a number of milliseconds \(>= 0, or Infinity\), got the string "100"$/,
      );
      await expect(b.recv({ timeout: '100' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(b.recv({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(b.recv({ timeout: Number.NaN })).rejects.toThrow(/got NaN$/);
      await expect(b.poll('5' as never)).rejects.toThrow(/^poll: timeout .* got the string "5"$/);
      await expect(wait([b], { timeout: [] as never })).rejects.toThrow(/^wait: timeout .* got an array$/);
      await expect(b.recv({ signal: 'stop' as never })).rejects.toThrow(
        /^recv: signal must be an AbortSignal, got the string "stop"$/,
      );
      await a.send('still usable');
      expect(await b.recv({ timeout: 5000 })).toBe('still usable');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
