/**
 * Removing segments nobody uses any more: what a SIGKILL leaves behind.
 *
 * Python's resource tracker is a helper process that unlinks what its family of processes
 * leaked once they have all exited. A sweep gets the same result without a helper: it
 * removes every tracked segment of this user whose recorded users are all dead (by pid and
 * start time). It runs on every create and attach, and whenever `sweep()` is called.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { type Addon, native } from './addon.js';
import { isSegmentName, pathOf, readHeaderOf, refusal, SEGMENT_DIRECTORY, unlinkIfSame } from './file.js';
import { isProcessAlive } from './identity.js';
import { FLAG_TRACKED, HEADER_SIZE, recordedUsers } from './layout.js';

/** Tries one file; true when it was removed. */
function sweepOne(addon: Addon, name: string): boolean {
  let fd: number;
  try {
    fd = openSync(pathOf(name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const stat = fstatSync(fd);
    const header = readHeaderOf(fd, stat);
    // Only our own, valid, tracked segments: never a file some other program made.
    if (refusal(stat, header) !== undefined || typeof header === 'string') return false;
    if ((header.flags & FLAG_TRACKED) === 0) return false;
    // Busy means someone is attaching or closing right now: alive, so leave it.
    if (!addon.lock(fd, true, 0)) return false;
    try {
      // Read again under the lock: an attach may have finished just before it.
      const page = Buffer.alloc(HEADER_SIZE);
      readSync(fd, page, 0, HEADER_SIZE, 0);
      const users = recordedUsers(new DataView(page.buffer, page.byteOffset, HEADER_SIZE));
      if (users.some(isProcessAlive)) return false;
      return unlinkIfSame(name, stat);
    } finally {
      addon.unlock(fd);
    }
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes every tracked `conc-` segment of this user in /dev/shm whose users have all died
 * (killed, or exited without closing it), and returns their names. Never removes a
 * segment with a live user, an untracked one (`track: false`), or a file that is not a
 * valid segment of this user.
 */
export function sweep(): string[] {
  const addon = native();
  let names: string[];
  try {
    names = readdirSync(SEGMENT_DIRECTORY);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (isSegmentName(name) && sweepOne(addon, name)) removed.push(name);
  }
  return removed;
}
