/**
 * `@conc/lock/internal`: what the sibling packages (the queue, the process and
 * Redis tiers) build on and users do not call. Not a public API: it changes
 * with the sibling packages, in lockstep.
 *
 * - The waiting engine (engine/waiting.ts): wait routines driven sync or async
 *   on a tier's {@link WaitWake} (engine/wait-wake.ts), with slices, abort,
 *   keep-alive and the hand-on of a wake-up an aborted waiter took.
 * - The liveness model (engine/liveness.ts): {@link Liveness}, implemented for
 *   threads by {@link OwnerRegistry} (thread/registry.ts).
 * - The robust mutex on one word (engine/robust-mutex.ts), built on both.
 * - The thread tier's engine ({@link threadEngine}).
 */
export { type Liveness, TAG_MASK } from './engine/liveness.js';
export { BUSY, CONTENDED, give, TAKEN, take, tryTake } from './engine/robust-mutex.js';
export { atomicsWaitWake, type WaitResult, type WaitWake } from './engine/wait-wake.js';
export {
  createWaitEngine,
  type Park,
  pendingParks,
  SPINS,
  spin,
  spinWhile,
  WAIT_SLICE_MS,
  type WaitEngine,
  type WaitEngineOptions,
  type WaitRoutine,
} from './engine/waiting.js';
// The Redis tier's pieces that @conc/queue/redis builds on.
export { isReplyError, type RedisArgument } from './redis/connection.js';
export { NOW_MS, num, Script, text } from './redis/script.js';
export { type AttemptResult, BlockingWaits, type WaitSpec } from './redis/waits.js';
export { threadEngine } from './thread/park.js';
export { ABANDONED, OwnerRegistry } from './thread/registry.js';
