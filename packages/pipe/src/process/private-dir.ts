/**
 * Private directories for unix sockets: mode 0700, owned by this user,
 * removed on close and, failing that, when the process exits.
 *
 * Removal takes only the entries this package puts there, by name, and then
 * the directory if it is empty: a path that came from a peer (a pipe token)
 * can never make this process delete anything else.
 */
import { mkdtempSync, rmdirSync, unlinkSync } from 'node:fs';
import { lstat, mkdtemp, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Directories to remove at exit, with the names of the entries we made in each. */
const toRemove = new Map<string, readonly string[]>();
let exitHookInstalled = false;

const ignorable = new Set(['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EPERM']);

function ignore(err: unknown): void {
  if (!ignorable.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
}

/**
 * Removes `dir` when the process exits (its entries named `names`, then the
 * directory if that left it empty), unless {@link forgetOnExit} is called first.
 */
export function removeOnExit(dir: string, names: readonly string[]): void {
  toRemove.set(dir, names);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [d, entries] of toRemove) {
      try {
        for (const name of entries) {
          try {
            unlinkSync(join(d, name));
          } catch (err) {
            ignore(err);
          }
        }
        rmdirSync(d);
      } catch {
        // Exiting: whatever is left stays.
      }
    }
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

/**
 * Removes the entries named `names` from `dir`, then `dir` if it is now empty.
 * Anything else in it (not ours) stays, and so does the directory. A directory
 * or entry already gone is fine.
 */
export async function removeDir(dir: string, names: readonly string[]): Promise<void> {
  forgetOnExit(dir);
  for (const name of names) await unlink(join(dir, name)).catch(ignore);
  await rmdir(dir).catch(ignore);
}
