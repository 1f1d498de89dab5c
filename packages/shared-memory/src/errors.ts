import { ConcError, type ConcErrorOptions, defineConcError, errorGuard } from '@conc/serialize';

/**
 * The native addon of `@conc/shared-memory` could not be loaded (it did not build at
 * install, was built for another Node version, or this is not Linux). Thrown by the first
 * call that needs it, never at import. `cause` holds the loader's own error.
 */
export class SharedMemoryUnavailableError extends ConcError {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(
      `@conc/shared-memory cannot be used here: its native addon did not load (${why}). ` +
        'Build it with a C++ compiler present (`npm rebuild @conc/shared-memory`; under pnpm 10, ' +
        'allow its build script with `pnpm approve-builds`), or share a queue or lock between ' +
        'processes through a Manager (@conc/manager), which needs no native code.',
      { cause } satisfies ConcErrorOptions,
    );
  }
  static {
    defineConcError(this, 'SharedMemoryUnavailableError', 'ERR_CONC_SHM_UNAVAILABLE');
  }
}

/** `SharedMemory.create({ name })` with a name that is taken (Python's `FileExistsError`). */
export class SharedMemoryExistsError extends ConcError {
  static {
    defineConcError(this, 'SharedMemoryExistsError', 'ERR_CONC_SHM_EXISTS');
  }
}

/**
 * `SharedMemory.attach(name)` found no segment of that name (Python's
 * `FileNotFoundError`): it was never made, was unlinked, or its last user closed it or died.
 */
export class SharedMemoryNotFoundError extends ConcError {
  static {
    defineConcError(this, 'SharedMemoryNotFoundError', 'ERR_CONC_SHM_NOT_FOUND');
  }
}

/** `buffer` read from a `SharedMemory` after `close()`. */
export class SharedMemoryClosedError extends ConcError {
  static {
    defineConcError(this, 'SharedMemoryClosedError', 'ERR_CONC_SHM_CLOSED');
  }
}

/** True for a {@link SharedMemoryUnavailableError} from any copy of this package, in any thread. */
export const isSharedMemoryUnavailableError = errorGuard(SharedMemoryUnavailableError);
/** True for a {@link SharedMemoryExistsError} from any copy of this package, in any thread. */
export const isSharedMemoryExistsError = errorGuard(SharedMemoryExistsError);
/** True for a {@link SharedMemoryNotFoundError} from any copy of this package, in any thread. */
export const isSharedMemoryNotFoundError = errorGuard(SharedMemoryNotFoundError);
/** True for a {@link SharedMemoryClosedError} from any copy of this package, in any thread. */
export const isSharedMemoryClosedError = errorGuard(SharedMemoryClosedError);
