/**
 * The seal of a process pipe's meeting directory: proof that a directory
 * named in a pipe token was made for that very pipe.
 *
 * A token comes from a peer, and a peer can name any directory: the path of a
 * `conc-pipe-*` directory is visible to every local user in the temp dir's
 * listing, and a peer that was once given a genuine token knows a genuine
 * secret. What a forged token cannot know is the secret of *that* directory:
 * `Pipe()` writes an HMAC of the pipe's secret into a file of the fresh 0700
 * directory, where only this user can write. Before an end creates, changes
 * or removes anything in the directory its token names, it checks that file
 * against its own secret (constant-time compare); a directory without the
 * matching seal is left exactly as it was.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { constants, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { isPrivateDir } from './private-dir.js';

/** The name of the seal file in a meeting directory. */
export const SEAL_FILE = 'seal';

const SEAL_SIZE = 32;

/** What the seal file holds: not the secret itself (the handshake proves that), a value derived from it. */
function sealOf(secret: Uint8Array): Buffer {
  return createHmac('sha256', secret).update('conc.pipe.meeting-directory.v1').digest();
}

/** Seals a directory `Pipe()` has just made (exclusive create: it must not exist yet). */
export function writeSealSync(dir: string, secret: Uint8Array): void {
  writeFileSync(join(dir, SEAL_FILE), sealOf(secret), { flag: 'wx', mode: 0o600 });
}

/**
 * Whether `dir` is the meeting directory of the pipe with this `secret`:
 * `'sealed'` when it is, `'gone'` when there is no such directory any more
 * (the pair met, or both ends closed), `'foreign'` when it exists but is not
 * that pipe's (no seal, another seal, or not a private directory of this user).
 * Reads only; never changes anything.
 */
export async function checkSeal(dir: string, secret: Uint8Array): Promise<'sealed' | 'gone' | 'foreign'> {
  try {
    if (!(await isPrivateDir(dir))) return 'gone';
  } catch {
    return 'foreign';
  }
  let found: Buffer;
  try {
    // O_NOFOLLOW: a link planted in place of the seal is not followed. O_NONBLOCK: a FIFO cannot hang us.
    const file = await open(
      join(dir, SEAL_FILE),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
    try {
      const st = await file.stat();
      const uid = process.getuid?.();
      if (!st.isFile() || st.size !== SEAL_SIZE || (uid !== undefined && st.uid !== uid)) return 'foreign';
      found = Buffer.alloc(SEAL_SIZE);
      const { bytesRead } = await file.read(found, 0, SEAL_SIZE, 0);
      if (bytesRead !== SEAL_SIZE) return 'foreign';
    } finally {
      await file.close();
    }
  } catch (err) {
    // The seal goes last when a pair removes its directory: gone in between is still 'gone'.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(await isPrivateDir(dir).catch(() => true))) {
      return 'gone';
    }
    return 'foreign';
  }
  return timingSafeEqual(found, sealOf(secret)) ? 'sealed' : 'foreign';
}
