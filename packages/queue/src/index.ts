export {
  EmptyError,
  FullError,
  GetDeserializationError,
  ItemTooLargeError,
  isEmptyError,
  isFullError,
  isGetDeserializationError,
  isItemTooLargeError,
  isShutDownError,
  isTaskDoneError,
  type QueueErrorOptions,
  ShutDownError,
  TaskDoneError,
} from './core/errors.js';
export type { AsyncWaitOptions, JoinOptions, ShutdownOptions, WaitOptions } from './core/options.js';
export type { Priority } from './core/priority-key.js';
export type { BaseQueue } from './thread/base-queue.js';
export { LifoQueue } from './thread/lifo-queue.js';
export {
  type PriorityAttachOptions,
  PriorityQueue,
  type PriorityQueueOptions,
} from './thread/priority-queue.js';
export { Queue, type QueueOptions } from './thread/queue.js';
export type { AttachOptions, BaseQueueOptions } from './thread/setup.js';
export { SimpleQueue, type SimpleQueueOptions } from './thread/simple-queue.js';
