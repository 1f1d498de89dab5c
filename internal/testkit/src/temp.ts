import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TrackedResource, track } from './registry.js';

/**
 * A fresh private directory (mode 0700) for this test, removed with
 * everything in it after the test.
 */
export async function tempDir(prefix = 'conc-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const resource: TrackedResource = {
    leakIfAlive: false,
    describe: () => `temp dir ${dir}`,
    alive: () => existsSync(dir),
    destroy: () => rm(dir, { recursive: true, force: true }),
  };
  track(resource);
  return dir;
}
