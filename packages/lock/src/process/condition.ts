/** Condition for processes (see process/lock.ts). */
import { attach, registerKind, share, shareSymbol, type Token } from '@conc/serialize';
import { kTier, type Tier } from '../core/tier.js';
import { Condition as ThreadCondition } from '../thread/condition.js';
import { Lock, RLock } from './lock.js';
import {
  attachProcessData,
  closePrimitive,
  type ProcessPlacement,
  place,
  processTier,
  processTokenData,
} from './tier.js';

const KIND = 'lock.process.Condition';

/** Options of `new Condition()` from `@conc/lock/process`. */
export interface ProcessConditionOptions extends ProcessPlacement {
  /** Waiters that can wait at once, across processes. @default 64 */
  capacity?: number;
}

function checkLock(lock: unknown): Lock | RLock | undefined {
  if (lock === undefined || lock instanceof Lock || lock instanceof RLock) return lock;
  throw new TypeError('Condition: lock must be a Lock or RLock from @conc/lock/process');
}

/**
 * A condition variable between processes (Python's
 * `multiprocessing.Condition`), on a process {@link Lock} or {@link RLock}
 * (a new RLock when omitted).
 */
export class Condition extends ThreadCondition implements Disposable {
  /** A condition on `lock`, in a segment of its own or in `memory` at `byteOffset`. */
  constructor(lock?: Lock | RLock, options?: ProcessConditionOptions) {
    const l = checkLock(lock);
    super(
      l ?? new RLock(),
      place('Condition', options, (o) => ThreadCondition.byteLength({ capacity: o?.capacity }), ', capacity'),
    );
    this.#ownLock = l === undefined;
  }

  #ownLock: boolean;

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token: the condition's segment and its lock's token. */
  override [shareSymbol](): { kind: string; data: unknown } {
    return { kind: KIND, data: { ...processTokenData(this), lock: share(this.lock) } };
  }

  /** Lets go of this process's handle (and of the lock's, when the condition made it). */
  close(): void {
    closePrimitive(this);
    if (this.#ownLock) (this.lock as RLock).close();
  }

  /** `using` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    registerKind<Condition>({
      kind: KIND,
      attach: (data) =>
        attachProcessData(data, KIND, (p) => {
          const lock = checkLock(attach((data as { lock?: Token }).lock));
          const c = new Condition(lock, p);
          c.#ownLock = true;
          return c;
        }),
      Class: Condition,
    });
  }
}
