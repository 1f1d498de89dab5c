/**
 * Lock and RLock for processes: the thread tier's classes on the process tier
 * (segments, the cross-process futex, holders by pid and start time).
 */
import { registerKind, shareSymbol } from '@conc/serialize';
import type { OwnerDiedHandler } from '../core/options.js';
import { kTier, type Tier } from '../core/tier.js';
import { Lock as ThreadLock } from '../thread/lock.js';
import { OwnedLock } from '../thread/owned-lock.js';
import { RLock as ThreadRLock } from '../thread/rlock.js';
import {
  attachProcessData,
  closePrimitive,
  type ProcessPlacement,
  place,
  processTier,
  processTokenData,
} from './tier.js';

/** Options of `new Lock()` / `new RLock()` from `@conc/lock/process`. */
export interface ProcessLockOptions extends ProcessPlacement {
  /**
   * Default `onOwnerDied` for acquisitions through this object; it is told
   * the dead holder's pid (as `threadId`).
   * @default undefined (emit an `OwnerDiedWarning`)
   */
  onOwnerDied?: OwnerDiedHandler;
}

const LOCK = 'lock.process.Lock';
const RLOCK = 'lock.process.RLock';
const bytes = (): number => OwnedLock.byteLength();

/**
 * A mutual-exclusion lock between processes (Python's `multiprocessing.Lock`),
 * in shared memory: the thread tier's {@link ThreadLock} with the process as
 * its owner. Any code of the holding process may release it.
 *
 * A process killed while holding it (even by `SIGKILL`) hands it to the next
 * acquirer, who is told (`onOwnerDied`, `ownerDied`, or an `OwnerDiedWarning`).
 * `acquireSync()` blocks the calling thread on a futex: fine in a child
 * process's main thread that has nothing else to do.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * fork('child.js', [JSON.stringify(share(lock))]);
 * // in the child: const lock = attach(JSON.parse(process.argv[2]));
 * ```
 */
export class Lock extends ThreadLock implements Disposable {
  /** A new lock in a segment of its own, or created/attached in `memory` at `byteOffset`. */
  constructor(options?: ProcessLockOptions) {
    super(place('Lock', options, bytes, ', onOwnerDied'));
  }

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token (segment name, nonce and offset): for argv, env, `process.send`. */
  override [shareSymbol](): { kind: string; data: unknown } {
    return { kind: LOCK, data: processTokenData(this) };
  }

  /**
   * Lets go of this process's handle: its segment goes once every process
   * closed it (or exited). Do not use the object afterwards.
   */
  close(): void {
    closePrimitive(this);
  }

  /** `using lock = new Lock()` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    registerKind<Lock>({
      kind: LOCK,
      attach: (data) => attachProcessData(data, LOCK, (p) => new Lock(p)),
      Class: Lock,
    });
  }
}

/**
 * A reentrant lock between processes (Python's `multiprocessing.RLock`): the
 * holding process may acquire it again and must release it as many times.
 * Owner death as for {@link Lock}.
 */
export class RLock extends ThreadRLock implements Disposable {
  /** A new RLock in a segment of its own, or created/attached in `memory` at `byteOffset`. */
  constructor(options?: ProcessLockOptions) {
    super(place('RLock', options, bytes, ', onOwnerDied'));
  }

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token (segment name, nonce and offset). */
  override [shareSymbol](): { kind: string; data: unknown } {
    return { kind: RLOCK, data: processTokenData(this) };
  }

  /** Lets go of this process's handle (see {@link Lock.close}). */
  close(): void {
    closePrimitive(this);
  }

  /** `using` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    registerKind<RLock>({
      kind: RLOCK,
      attach: (data) => attachProcessData(data, RLOCK, (p) => new RLock(p)),
      Class: RLock,
    });
  }
}
