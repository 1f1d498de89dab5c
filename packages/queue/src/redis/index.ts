/**
 * `@conc/queue/redis`: Python's queues on Redis, shared by name across
 * processes and machines, with reliable (at-least-once) processing.
 */
export {
  EmptyError,
  FullError,
  isEmptyError,
  isFullError,
  isShutDownError,
  isTaskDoneError,
  ShutDownError,
  TaskDoneError,
} from '../core/errors.js';
export type { AsyncWaitOptions, JoinOptions, ShutdownOptions, WaitOptions } from '../core/options.js';
export type { Priority } from '../core/priority-key.js';
export type { RedisBaseQueue } from './base-queue.js';
export { isLeaseLostError, isQueueClosedError, LeaseLostError, QueueClosedError } from './errors.js';
export type { RedisQueueOptions, ReliableQueueOptions } from './options.js';
export {
  type DeadLetter,
  type Delivery,
  JoinableQueue,
  LifoQueue,
  PriorityQueue,
  type PriorityQueueOptions,
  Queue,
} from './queue.js';
export { SimpleQueue } from './simple-queue.js';
