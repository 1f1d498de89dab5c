/**
 * `@conc/lock/redis`: Python's `threading` primitives on Redis, shared by
 * name across processes and machines, with leases instead of thread
 * liveness: a holder that dies loses its hold when its lease runs out, and
 * the next acquirer is told.
 *
 * Also the pieces every conc Redis primitive (and `@conc/queue/redis`) is
 * built from: the client adapter ({@link RedisConnection}), Lua scripts run
 * by SHA ({@link Script}), and the wait engine ({@link BlockingWaits}).
 */
export {
  AcquireTimeoutError,
  BrokenBarrierError,
  isAcquireTimeoutError,
  isBrokenBarrierError,
  isLockNotOwnedError,
  isSemaphoreOverReleaseError,
  LockNotOwnedError,
  SemaphoreOverReleaseError,
} from '../core/errors.js';
export type { AcquireOptions, OwnerDiedHandler, OwnerDiedInfo, WaitOptions } from '../core/options.js';
export { Barrier, type BarrierOptions } from './barrier.js';
export { Condition, type ConditionOptions } from './condition.js';
export { type RedisClientLike, type RedisConnection, redisConnection } from './connection.js';
export { Event } from './event.js';
export { RedisLockGuard } from './guard.js';
export type { RedisHeld } from './held.js';
export { Lock, type OwnedLock, RLock } from './lock.js';
export type { LeaseOptions, RedisPrimitiveOptions } from './options.js';
export { BoundedSemaphore, Semaphore, type SemaphoreOptions } from './semaphore.js';
