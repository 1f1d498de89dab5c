/**
 * Private directories for unix sockets: mode 0700, owned by this user,
 * removed on close and, failing that, when the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const toRemove = new Set<string>();
let exitHookInstalled = false;

/** Removes `dir` when the process exits, unless {@link forgetOnExit} is called first. */
export function removeOnExit(dir: string): void {
  toRemove.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of toRemove) rmSync(d, { recursive: true, force: true });
  });
}

/** Stops tracking `dir` for removal at exit. */
export function forgetOnExit(dir: string): void {
  toRemove.delete(dir);
}

/** A fresh private directory under the OS temp dir (mkdtemp creates it 0700). */
export function freshPrivateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'conc-pipe-'));
}

/** A fresh private directory, made synchronously (for `Pipe()`, which returns at once). */
export function freshPrivateDirSync(): string {
  return mkdtempSync(join(tmpdir(), 'conc-pipe-'));
}

/**
 * Whether `dir` exists as a private directory of this user: a real directory
 * (not a link), owned by this user, closed to others. False when it is gone;
 * throws for a directory someone else prepared.
 */
export async function isPrivateDir(dir: string): Promise<boolean> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(`refusing ${dir}: not a private directory of this user (mode 0700)`);
  }
  return true;
}

/** Removes `dir` and what is in it, ignoring a directory already gone. */
export async function removeDir(dir: string): Promise<void> {
  forgetOnExit(dir);
  await rm(dir, { recursive: true, force: true });
}
