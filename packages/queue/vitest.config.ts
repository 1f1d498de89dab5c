import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineProject } from 'vitest/config';

// A private temp dir per run: the leak check counts every new `conc-*` entry in the
// OS temp dir, which other packages' tests (running at the same time) create too.
const tmp = join(tmpdir(), `queue-tests-${process.pid}`);
mkdirSync(tmp, { recursive: true });
process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));

export default defineProject({
  test: {
    name: 'queue',
    include: ['test/**/*.test.ts'],
    setupFiles: ['@conc/testkit/setup'],
    env: { TMPDIR: tmp },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
