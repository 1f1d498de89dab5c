import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, ftruncateSync, type Stats } from 'node:fs';
import { registerKind, type Shareable, shareSymbol, TokenError } from '@conc/serialize';
import { type Addon, native } from './addon.js';
import { SharedMemoryClosedError, SharedMemoryExistsError, SharedMemoryNotFoundError } from './errors.js';
import {
  isSegmentName,
  NAME_PREFIX,
  openSegment,
  pathOf,
  SEGMENT_DIRECTORY,
  stillNamed,
  unlinkIfSame,
} from './file.js';
import { isProcessAlive, type ProcessIdentity, thisProcess } from './identity.js';
import { FLAG_TRACKED, HEADER_SIZE, join, leave, recordedUsers, writeHeader } from './layout.js';
import { sweep } from './sweep.js';

const KIND = 'shared-memory.SharedMemory';

/** How long a create, attach or close waits for another process's brief hold of the file lock. */
const LOCK_TIMEOUT_MS = 5000;

/** Options of {@link SharedMemory.create}. */
export interface CreateOptions {
  /** Bytes the segment holds (what `buffer.byteLength` will be): a positive integer. */
  size: number;
  /**
   * The segment's name, starting with `conc-` (letters, digits, `.`, `_`, `-` after it).
   * Taken names throw `SharedMemoryExistsError`.
   * @default a fresh random name
   */
  name?: string;
  /**
   * Remove the segment once its last user is gone: closed, exited, or killed (a later
   * sweep then removes it). `false` keeps it until `unlink()`, as Python's `track=False` does.
   * @default true
   */
  track?: boolean;
}

interface Parts {
  name: string;
  size: number;
  fd: number;
  stat: Stats;
  header: SharedArrayBuffer;
  buffer: SharedArrayBuffer;
  tracked: boolean;
  nonce: string;
}

/** Handles open in this thread: closed when it exits, so a clean exit leaves no segment behind. */
const open = new Set<SharedMemory>();
let closeAtExit = false;

function closeAll(): void {
  for (const segment of open) {
    try {
      segment.close();
    } catch {}
  }
}

function me(): ProcessIdentity {
  return thisProcess();
}

function lockOrThrow(addon: Addon, fd: number, what: string): void {
  if (!addon.lock(fd, true, LOCK_TIMEOUT_MS)) {
    throw new TokenError(
      `${what}: another process has held the segment's lock for ${LOCK_TIMEOUT_MS} ms (stopped?)`,
    );
  }
}

function sweepQuietly(): void {
  try {
    sweep();
  } catch {}
}

/**
 * A named block of memory shared by processes (Python's `multiprocessing.shared_memory.SharedMemory`):
 * a file under /dev/shm mapped into every process that attaches it, seen as a
 * `SharedArrayBuffer`. `Atomics` work on it across processes; `wait`/`waitAsync`/`wake`
 * (this package) wait and wake across processes; `postMessage` shares the buffer with
 * this process's worker threads.
 *
 * Lifetime: a tracked segment (the default) is removed when its last user closes it or
 * exits, and by the next sweep when its users were all killed; `unlink()` removes the name
 * at once. Each handle holds a file descriptor until `close()`.
 *
 * @example
 * ```ts
 * const shm = SharedMemory.create({ size: 1024 });
 * const child = fork('child.js', [shm.name]);       // child: SharedMemory.attach(process.argv[2])
 * Atomics.add(new Int32Array(shm.buffer), 0, 1);
 * ```
 */
export class SharedMemory implements Shareable {
  /** The segment's name: pass it to `SharedMemory.attach` in another process. */
  readonly name: string;
  /** Bytes in `buffer`. */
  readonly size: number;
  readonly #fd: number;
  readonly #stat: Stats;
  readonly #header: DataView;
  readonly #buffer: SharedArrayBuffer;
  readonly #tracked: boolean;
  readonly #nonce: string;
  #closed = false;

  private constructor(parts: Parts) {
    this.name = parts.name;
    this.size = parts.size;
    this.#fd = parts.fd;
    this.#stat = parts.stat;
    this.#header = new DataView(parts.header);
    this.#buffer = parts.buffer;
    this.#tracked = parts.tracked;
    this.#nonce = parts.nonce;
    open.add(this);
    if (!closeAtExit) {
      closeAtExit = true;
      process.once('exit', closeAll);
    }
  }

  /**
   * Creates a new segment of `size` zeroed bytes. The file appears under its name only once
   * fully initialised, so no other process ever sees half a header.
   *
   * @throws SharedMemoryExistsError when `name` is taken.
   * @throws SharedMemoryUnavailableError when the native addon did not load.
   */
  static create(options: CreateOptions): SharedMemory {
    const { size, name, track = true } = options ?? ({} as CreateOptions);
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`SharedMemory.create: size must be a positive integer (got ${String(size)})`);
    }
    if (name !== undefined && !isSegmentName(name)) {
      throw new TypeError(
        `SharedMemory.create: name must be "${NAME_PREFIX}" followed by letters, digits, ".", "_" or "-" (got ${JSON.stringify(name)})`,
      );
    }
    const addon = native();
    sweepQuietly();
    const fd = addon.openUnnamed(SEGMENT_DIRECTORY);
    try {
      fchmodSync(fd, 0o600); // exact, whatever the umask
      ftruncateSync(fd, HEADER_SIZE + size);
      const [header, buffer] = addon.map(fd, HEADER_SIZE + size, HEADER_SIZE);
      const view = new DataView(header);
      const nonce = randomBytes(8).toString('hex');
      writeHeader(view, {
        size,
        flags: track ? FLAG_TRACKED : 0,
        creatorUid: process.geteuid?.() ?? 0,
        creator: me(),
        nonce,
      });
      join(view, me(), isProcessAlive);
      let chosen = name;
      for (let attempt = 0; ; attempt++) {
        chosen = name ?? `${NAME_PREFIX}${randomBytes(8).toString('hex')}`;
        try {
          addon.giveName(fd, pathOf(chosen));
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          if (name !== undefined) throw new SharedMemoryExistsError(`shared memory "${name}" already exists`);
          if (attempt >= 10) throw err;
        }
      }
      return new SharedMemory({
        name: chosen as string,
        size,
        fd,
        stat: fstatSync(fd),
        header,
        buffer,
        tracked: track,
        nonce,
      });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Attaches an existing segment by name. The file must be a segment of this user (mode
   * 0600) with a valid header whose size matches the file; anything else is refused.
   *
   * @throws TokenError for a malformed name or a file that is not such a segment.
   * @throws SharedMemoryNotFoundError when no segment has that name.
   * @throws SharedMemoryUnavailableError when the native addon did not load.
   */
  static attach(name: string): SharedMemory {
    const addon = native();
    if (isSegmentName(name)) sweepQuietly();
    const { fd, stat, header } = openSegment(name);
    try {
      lockOrThrow(addon, fd, `SharedMemory.attach("${name}")`);
      try {
        // A sweep or a last close may have removed the name between open and lock.
        if (!stillNamed(name, stat)) throw new SharedMemoryNotFoundError(`no shared memory named "${name}"`);
        const [headerPage, buffer] = addon.map(fd, stat.size, HEADER_SIZE);
        if (!join(new DataView(headerPage), me(), isProcessAlive)) {
          throw new TokenError(`SharedMemory.attach("${name}"): every user slot holds a live process`);
        }
        return new SharedMemory({
          name,
          size: header.size,
          fd,
          stat,
          header: headerPage,
          buffer,
          tracked: (header.flags & FLAG_TRACKED) !== 0,
          nonce: header.nonce,
        });
      } finally {
        addon.unlock(fd);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * The segment's memory. Every handle of every process sees the same bytes. Stays valid
   * (mapped) as long as it is referenced, even after `close()`.
   *
   * @throws SharedMemoryClosedError after `close()`.
   */
  get buffer(): SharedArrayBuffer {
    if (this.#closed) throw new SharedMemoryClosedError(`shared memory "${this.name}" is closed`);
    return this.#buffer;
  }

  /** Whether the segment is removed once its last user is gone (see {@link CreateOptions.track}). */
  get tracked(): boolean {
    return this.#tracked;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The live processes attached to the segment now (each once, however many handles it holds). */
  users(): ProcessIdentity[] {
    return recordedUsers(this.#header).filter(isProcessAlive);
  }

  /**
   * Lets go of this handle (Python's `close()`). When it was the last user of a tracked
   * segment, the segment is removed. A `buffer` already taken stays usable. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    const addon = native();
    // A stopped process holding the lock must not hang this one: then leave unlocked, keep the file.
    const locked = addon.lock(this.#fd, true, LOCK_TIMEOUT_MS);
    try {
      leave(this.#header, me());
      if (locked && this.#tracked && !recordedUsers(this.#header).some(isProcessAlive)) {
        unlinkIfSame(this.name, this.#stat);
      }
    } finally {
      if (locked) addon.unlock(this.#fd);
      closeSync(this.#fd);
    }
  }

  /**
   * Removes the segment's name now (Python's `unlink()`): no one can attach it any more;
   * processes attached keep using it until they close. Never removes a newer segment that
   * took the same name.
   */
  unlink(): void {
    unlinkIfSame(this.name, this.#stat);
  }

  /** `using shm = SharedMemory.create(...)` closes it at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  [shareSymbol](): { kind: string; data: unknown } {
    return { kind: KIND, data: { name: this.name, size: this.size, nonce: this.#nonce } };
  }

  static {
    // The codec only needs the class to recognise instances; the constructor stays private.
    const Class = SharedMemory as unknown as abstract new (...args: never[]) => SharedMemory;
    registerKind<SharedMemory>({ kind: KIND, attach: attachToken, Class });
  }
}

/** `attach(token)`: the segment the token names, and no other that took its name since. */
function attachToken(data: unknown): SharedMemory {
  const d = data as { name?: unknown; size?: unknown; nonce?: unknown } | null;
  if (typeof d !== 'object' || d === null || typeof d.nonce !== 'string' || typeof d.size !== 'number') {
    throw new TokenError('attach: malformed shared-memory token (expected { name, size, nonce })');
  }
  let segment: SharedMemory;
  try {
    segment = SharedMemory.attach(d.name as string);
  } catch (err) {
    if (err instanceof SharedMemoryNotFoundError) {
      throw new TokenError(`attach: ${err.message}: its users have all closed it or died`, { cause: err });
    }
    throw err;
  }
  const shared = segment[shareSymbol]().data as { size: number; nonce: string };
  if (shared.nonce !== d.nonce || shared.size !== d.size) {
    segment.close();
    throw new TokenError(`attach: "${segment.name}" is another segment than the one the token was made for`);
  }
  return segment;
}
