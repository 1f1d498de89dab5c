/**
 * `@conc/serialize/internal`: what the conc packages share among themselves
 * and users do not call: option checks and deadlines, the token envelope
 * check. Not a public API: it changes with the sibling packages, in lockstep.
 */

export { checkToken } from '../share.js';
export {
  abortReason,
  blockingDeadline,
  checkBoolean,
  checkFunction,
  checkInt,
  checkOptions,
  checkSignal,
  checkTimeout,
  deadlineOf,
  describeValue,
  FOREVER,
  NO_WAIT,
  onAbort,
  remaining,
} from './options.js';
