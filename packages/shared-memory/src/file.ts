/**
 * Segment files under /dev/shm: names, opening with every check an attach needs, and
 * removal that never touches a file other than the one checked.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
  unlinkSync,
} from 'node:fs';
import { TokenError } from '@conc/serialize';
import { SharedMemoryNotFoundError } from './errors.js';
import { HEADER_SIZE, type Header, readHeader } from './layout.js';

/** Where segments live: tmpfs, so the memory is the file. */
export const SEGMENT_DIRECTORY = '/dev/shm';

/** Every segment's name starts with this, so a sweep and a leak check find ours and only ours. */
export const NAME_PREFIX = 'conc-';

// No '/', so a name cannot lead out of the directory; 255 bytes is the file name limit.
const NAME = /^conc-[A-Za-z0-9._-]{1,250}$/;

/** True for a well-formed segment name (`conc-` then letters, digits, `.`, `_`, `-`). */
export function isSegmentName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

export function pathOf(name: string): string {
  return `${SEGMENT_DIRECTORY}/${name}`;
}

function show(value: unknown): string {
  return JSON.stringify(String(value).slice(0, 80));
}

/** An open segment file whose header checked out. */
export interface OpenedSegment {
  readonly fd: number;
  readonly stat: Stats;
  readonly header: Header;
}

/** Why this file is not a segment this process may attach, or undefined when it is one. */
export function refusal(stat: Stats, header: Header | string): string | undefined {
  const uid = process.geteuid?.() ?? -1;
  if (!stat.isFile()) return 'not a regular file';
  if (stat.uid !== uid) return `a file of another user (uid ${stat.uid})`;
  if ((stat.mode & 0o777) !== 0o600) return `a file with mode ${(stat.mode & 0o777).toString(8)}, not 600`;
  if (stat.size <= HEADER_SIZE) return `too small for a segment (${stat.size} bytes)`;
  if (typeof header === 'string') return header;
  if (HEADER_SIZE + header.size !== stat.size) {
    return `a file of ${stat.size} bytes where the header says ${HEADER_SIZE + header.size}`;
  }
  return undefined;
}

/** Reads the header page through the file (no mapping: a short file cannot raise SIGBUS). */
export function readHeaderOf(fd: number, stat: Stats): Header | string {
  if (stat.size < HEADER_SIZE) return `too small for a segment (${stat.size} bytes)`;
  const page = Buffer.alloc(HEADER_SIZE);
  const n = readSync(fd, page, 0, HEADER_SIZE, 0);
  return readHeader(new DataView(page.buffer, page.byteOffset, n));
}

/**
 * Opens `name` for an attach: refuses (TokenError) anything but a segment of this user,
 * mode 0600, with a valid header whose size matches the file; SharedMemoryNotFoundError
 * when there is no such file.
 */
export function openSegment(name: unknown): OpenedSegment {
  if (!isSegmentName(name)) {
    throw new TokenError(
      `SharedMemory.attach: ${show(name)} is not a conc shared memory name (conc- followed by letters, digits, ".", "_" or "-")`,
    );
  }
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted under a conc- name is refused, not followed.
    fd = openSync(pathOf(name), constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SharedMemoryNotFoundError(`no shared memory named "${name}"`);
    throw new TokenError(`SharedMemory.attach: cannot open "${name}" (${code ?? String(err)})`, {
      cause: err,
    });
  }
  try {
    const stat = fstatSync(fd);
    const header = readHeaderOf(fd, stat);
    const why = refusal(stat, header);
    if (why !== undefined || typeof header === 'string') {
      throw new TokenError(`SharedMemory.attach: "${name}" is refused: ${why}`);
    }
    return { fd, stat, header };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** True while `name` still names the file `stat` describes. */
export function stillNamed(name: string, stat: Stats): boolean {
  const now = statSync(pathOf(name), { throwIfNoEntry: false });
  return now !== undefined && now.ino === stat.ino && now.dev === stat.dev;
}

/** Removes `name` if it still names the file `stat` describes (never a newer file of that name). */
export function unlinkIfSame(name: string, stat: Stats): boolean {
  if (!stillNamed(name, stat)) return false;
  try {
    unlinkSync(pathOf(name));
    return true;
  } catch {
    return false;
  }
}
