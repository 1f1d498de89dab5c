/**
 * The native addon, loaded at first use: importing this package never fails, so code
 * that only imports it (a thread-tier user of a sibling package) never needs a compiler.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SharedMemoryUnavailableError } from './errors.js';

/** What native/shm.cc exports. Results of waits: 0 ok, 1 not-equal, 2 timed-out, 3 cancelled, -1 pending. */
export interface Addon {
  map(fd: number, length: number, split: number): [SharedArrayBuffer, SharedArrayBuffer];
  openUnnamed(directory: string): number;
  giveName(fd: number, path: string): void;
  lock(fd: number, exclusive: boolean, timeoutMs: number): boolean;
  unlock(fd: number): void;
  wait(buffer: SharedArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): number;
  wake(buffer: SharedArrayBuffer, byteOffset: number, count: number): number;
  waitAsync(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    expected: number,
    timeoutMs: number,
    id: number,
    ref: boolean,
  ): number;
  cancel(id: number): void;
  setDispatcher(fn: (id: number, result: number) => void): void;
}

let addon: Addon | undefined;
let failure: unknown;

function load(): Addon {
  if (process.platform !== 'linux') {
    throw new Error(`${process.platform} is not supported (Linux only: /dev/shm and futexes)`);
  }
  const require = createRequire(import.meta.url);
  // dist/ sits next to build/ and prebuilds/, where node-gyp-build looks.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const find = require('node-gyp-build') as (dir: string) => Addon;
  return find(root);
}

/** The addon, or a {@link SharedMemoryUnavailableError} naming why it cannot load (the same one each time). */
export function native(): Addon {
  if (addon !== undefined) return addon;
  if (failure === undefined) {
    try {
      addon = load();
      return addon;
    } catch (err) {
      failure = err;
    }
  }
  throw new SharedMemoryUnavailableError(failure);
}

/**
 * True when the native addon loads here: shared memory and cross-process waits work.
 * When false, every other export throws `SharedMemoryUnavailableError`, which says why.
 */
export function isAvailable(): boolean {
  try {
    native();
    return true;
  } catch {
    return false;
  }
}
