/**
 * `@conc/lock/redis`: Python's `threading` primitives on Redis, shared by
 * name across processes and machines, with leases instead of thread
 * liveness: a holder that dies loses its hold when its lease runs out.
 */
export {
  isReplyError,
  type RedisArgument,
  type RedisClientLike,
  type RedisConnection,
  redisConnection,
} from './connection.js';
export { NOW_MS, num, Script, text } from './script.js';
export { type AttemptResult, BlockingWaits, type WaitSpec } from './waits.js';
