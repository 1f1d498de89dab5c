export { isAvailable } from './addon.js';
export {
  isSharedMemoryClosedError,
  isSharedMemoryExistsError,
  isSharedMemoryNotFoundError,
  isSharedMemoryUnavailableError,
  SharedMemoryClosedError,
  SharedMemoryExistsError,
  SharedMemoryNotFoundError,
  SharedMemoryUnavailableError,
} from './errors.js';
export { NAME_PREFIX, SEGMENT_DIRECTORY } from './file.js';
export {
  pendingWaits,
  type WaitAsyncOptions,
  type WaitResult,
  type WordHolder,
  wait,
  waitAsync,
  wake,
} from './futex.js';
export { isProcessAlive, type ProcessIdentity, processIdentity } from './identity.js';
export { type CreateOptions, SharedMemory } from './segment.js';
export { sweep } from './sweep.js';
