import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives this test process (and the workers and children it starts, which
 * inherit the environment) a private temp directory by pointing TMPDIR at it.
 * Test files run in parallel processes; with one shared /tmp, one process's
 * leak check would see, and remove, another's socket dirs.
 */
export function privateTmpdir(): string {
  const existing = process.env.CONC_TEST_TMPDIR;
  if (existing && process.env.TMPDIR === existing) return existing;
  const dir = mkdtempSync(join(tmpdir(), `conc-tk-${process.pid}-`));
  process.env.CONC_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
