/**
 * Where the addon did not build: importing the package works, the first use throws an
 * error that names the cause and the alternative. Run on a copy of the built package with
 * no build/ and no prebuilds/ (what a failed install leaves), in a real child process.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess, within } from '@conc/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
let copy: string | undefined;

afterEach(() => {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
  copy = undefined;
});

describe('without the native addon', () => {
  it('imports fine and throws SharedMemoryUnavailableError at first use, naming cause and alternative', async () => {
    // Inside the package, so that its dependencies resolve as they would when installed.
    copy = mkdtempSync(join(packageRoot, 'test', '.no-addon-'));
    cpSync(join(packageRoot, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(packageRoot, 'package.json'), join(copy, 'package.json'));
    const probe = `
      const shm = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
      const out = { imported: true, available: shm.isAvailable() };
      for (const [what, use] of [
        ['create', () => shm.SharedMemory.create({ size: 8 })],
        ['wake', () => shm.wake(new Int32Array(new SharedArrayBuffer(4)), 0)],
      ]) {
        try { use(); out[what] = 'no error'; }
        catch (err) { out[what] = { name: err.name, code: err.code, guard: shm.isSharedMemoryUnavailableError(err), message: err.message }; }
      }
      console.log(JSON.stringify(out));
    `;
    await using child = spawnProcess(process.execPath, ['--input-type=module', '-e', probe]);
    const { code } = await within(child.exited, 10_000, 'probe');
    expect(child.stderr()).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(child.stdout());
    expect(out).toMatchObject({ imported: true, available: false });
    for (const what of ['create', 'wake']) {
      expect(out[what]).toMatchObject({
        name: 'SharedMemoryUnavailableError',
        code: 'ERR_CONC_SHM_UNAVAILABLE',
        guard: true,
      });
      expect(out[what].message).toMatch(/No native build was found/);
      expect(out[what].message).toMatch(/Manager/);
    }
  });
});
