/**
 * The thread tier's waiting engine: the shared engine (engine/waiting.ts) on
 * `Atomics.wait`/`waitAsync`/`notify`, with the owner registry's probe of this
 * thread's workers run whenever a blocking park times out (their `'exit'`
 * events cannot run while this thread blocks).
 */

import { atomicsWaitWake } from '../engine/wait-wake.js';
import { createWaitEngine, type WaitEngine } from '../engine/waiting.js';
import { probeChildren } from './registry.js';

/** The engine every thread-tier primitive waits with. */
export const threadEngine: WaitEngine<Int32Array> = createWaitEngine(atomicsWaitWake, {
  onBlockedSliceTimedOut: probeChildren,
});

/** Runs a wait routine blocking this thread. */
export const blockOn = threadEngine.blockOn;
/** Runs a wait routine without blocking the event loop. */
export const waitOn = threadEngine.waitOn;
