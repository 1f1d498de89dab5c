/**
 * The thread tier (see core/tier.ts): SharedArrayBuffers, `Atomics` waits,
 * and the owner registry of this process's threads.
 */
import type { Tier } from '../core/tier.js';
import { open, storedParam } from './layout.js';
import { threadEngine } from './park.js';

/** The tier of `@conc/lock`'s own primitives. */
export const threadTier: Tier = {
  engine: threadEngine,
  holder: 'thread',
  open,
  storedParam: (placement, kind, index) => storedParam(placement, kind, index),
};
