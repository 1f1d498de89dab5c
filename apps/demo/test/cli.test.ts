import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

async function demo(...args: string[]) {
  const { code, stdout, stderr } = await runDemo(...args);
  return { code, out: stdout, err: stderr };
}

describe('conc-demo', () => {
  it('lists what each of the five packages offers, read from the packages themselves', async () => {
    const { code, out } = await demo('packages');
    expect(code).toBe(0);
    for (const name of ['serialize', 'pipe', 'lock', 'queue', 'manager']) {
      expect(out).toMatch(new RegExp(`@conc/${name}@\\d+\\.\\d+\\.\\d+: `));
    }
    expect(out).toMatch(/function: .*\bshare\b/);
    expect(out).toMatch(/function: .*\battach\b/);
    expect(out).toMatch(/class: .*\bManagerUnavailableError\b/);
  });

  it('lists its scenarios', async () => {
    const { code, out } = await demo('--list');
    expect(code).toBe(0);
    expect(out).toMatch(/^packages\s+what each package offers$/m);
  });

  it('refuses an unknown scenario with the list of known ones', async () => {
    const { code, err } = await demo('no-such-thing');
    expect(code).toBe(2);
    expect(err).toContain('unknown scenario no-such-thing');
    expect(err).toContain('packages');
  });
});
