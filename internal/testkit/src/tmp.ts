import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private temp dir in force: {@link PrivateTmpdir.dispose} removes it and restores TMPDIR. */
export interface PrivateTmpdir {
  readonly dir: string;
  dispose(): void;
}

/**
 * Gives this test file (and the workers and children it starts, which inherit
 * the environment) a private temp directory by pointing TMPDIR at it. Test
 * files run in parallel processes; with one shared /tmp, one process's leak
 * check would see, and remove, another's socket dirs.
 */
export function usePrivateTmpdir(): PrivateTmpdir {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), `conc-tk-${process.pid}-`));
  process.env.CONC_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
  // A runner that ends the process without the afterAll hook still leaves nothing behind.
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', onExit);
  return {
    dir,
    dispose() {
      process.off('exit', onExit);
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      delete process.env.CONC_TEST_TMPDIR;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
