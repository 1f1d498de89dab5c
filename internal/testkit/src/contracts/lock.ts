/**
 * The conformance suite every lock tier passes (Python's `threading`
 * primitives): the thread tier (shared memory), and later the process, manager
 * and Redis tiers, which speak the same interface. Structural types only (no
 * `@conc/*` import); errors are recognised by their stable `code`.
 *
 * A tier supplies a factory: how to make each primitive, a shared counter that
 * peers update *without* atomicity (so only mutual exclusion keeps it exact),
 * and how to start a *peer* (a worker thread, a child process...) that attaches
 * the primitives it is given and runs one {@link LockPeerTask}. The peer
 * program is the tier's own and follows this protocol:
 *
 * - it posts `{ ready: true }` once attached (`startPeer` consumes it);
 * - `increment` (shared `lock`, `counter`): `times` × { acquire; v = read;
 *   let other threads run; write v + 1; release }, then posts `{ done: times }`;
 *   `lock` may be a Lock, an RLock, a Semaphore(1) or a Condition;
 * - `hold` (shared `target`): acquires `depth` times (default 1), posts
 *   `{ held: true }`, then does nothing until stopped or killed;
 * - `acquire` (shared `target`): posts `{ waiting: true }`, acquires with
 *   `blocking`/`timeout`, posts `{ acquired, ownerDied }` (`ownerDied`: its
 *   `onOwnerDied` handler ran), releases if acquired, posts `{ released: true }`;
 * - `release` (shared `target`): one release; posts `{ ok: true }` or `{ error: code }`;
 * - `consume` (shared `cond`, `counter`): `items` × { acquire; waitFor(counter > 0);
 *   counter -= 1; release }, then posts `{ consumed: items }`;
 * - `condWait` (shared `cond`, `counter`): acquires, posts `{ waiting: true }`
 *   while holding the lock, waits (with `timeout`), adds 1 to the counter if
 *   notified, releases, posts `{ woke: boolean }`;
 * - `notify` (shared `cond`): acquires, notifies one waiter (all with `all`),
 *   releases, posts `{ notified: true }`;
 * - `eventWait` (shared `event`): posts `{ waiting: true }`, waits (with
 *   `timeout`), posts `{ result: boolean }`;
 * - `barrierWait` (shared `barrier`): posts `{ waiting: true }`, then for each
 *   of `cycles` (default 1) waits and posts `{ index }` or `{ error: code }`.
 * `mode: 'sync'` asks for the blocking calls (`acquireSync`, `waitSync`...)
 * where the tier has them.
 *
 * The suite is composed of one part per primitive (`lock/*.ts`) plus the
 * owner-death part; each part is a function of the shared harness.
 *
 * @example
 * ```ts
 * lockContract('thread', {
 *   syncPeers: true,
 *   createLock: () => new Lock(),
 *   ...,
 *   startPeer: async (task, shared) => { ...start a worker with share(...) of each... },
 * });
 * ```
 */
import { describe } from 'vitest';
import { barrierParts } from './lock/barrier.js';
import { conditionParts } from './lock/condition.js';
import { eventParts } from './lock/event.js';
import { lockHarness } from './lock/harness.js';
import { lockParts } from './lock/lock.js';
import { ownerDeathParts } from './lock/owner-death.js';
import { rlockParts } from './lock/rlock.js';
import { semaphoreParts } from './lock/semaphore.js';
import type { LockContractFactory } from './lock/types.js';

export type * from './lock/types.js';

/** Runs the lock contract for a tier; every blocking step is bounded. */
export function lockContract(tier: string, factory: LockContractFactory): void {
  const h = lockHarness(factory);
  describe(`lock contract: ${tier}`, () => {
    lockParts(h);
    rlockParts(h);
    semaphoreParts(h);
    conditionParts(h);
    eventParts(h);
    barrierParts(h);
    ownerDeathParts(h);
  });
}
