/**
 * `@conc/lock/process`: Python's `multiprocessing` Lock, RLock, Semaphore,
 * BoundedSemaphore, Condition, Event and Barrier for Node child processes (and
 * unrelated processes of the same user), in shared memory from
 * `@conc/shared-memory` (an optional peer dependency, needed only here). The
 * thread tier's algorithms on another memory: same interfaces, same contract.
 */
export { Barrier, type ProcessBarrierOptions } from './process/barrier.js';
export { Condition, type ProcessConditionOptions } from './process/condition.js';
export { Event } from './process/event.js';
export { Lock, type ProcessLockOptions, RLock } from './process/lock.js';
export { BoundedSemaphore, type ProcessSemaphoreOptions, Semaphore } from './process/semaphore.js';
export type { ProcessPlacement } from './process/tier.js';
