export {
  AcquireTimeoutError,
  BrokenBarrierError,
  ForeignBufferError,
  isAcquireTimeoutError,
  isBrokenBarrierError,
  isForeignBufferError,
  isLockCapacityError,
  isLockNotOwnedError,
  isSemaphoreOverReleaseError,
  isWouldDeadlockError,
  LockCapacityError,
  LockNotOwnedError,
  SemaphoreOverReleaseError,
  WouldDeadlockError,
} from './core/errors.js';
export { type GuardOptions, LockGuard } from './core/guard.js';
export type { AcquireOptions, OwnerDiedHandler, OwnerDiedInfo, WaitOptions } from './core/options.js';
export { Barrier, type BarrierOptions } from './thread/barrier.js';
export { Condition, type ConditionOptions } from './thread/condition.js';
export { Event, type EventOptions } from './thread/event.js';
export type { Placement } from './thread/layout.js';
export { Lock } from './thread/lock.js';
export type { LockOptions } from './thread/owned-lock.js';
export { RLock } from './thread/rlock.js';
export { BoundedSemaphore, Semaphore, type SemaphoreOptions } from './thread/semaphore.js';
