/** Semaphore and BoundedSemaphore for processes (see process/lock.ts). */
import { registerKind, shareSymbol } from '@conc/serialize';
import type { OwnerDiedHandler } from '../core/options.js';
import { kTier, type Tier } from '../core/tier.js';
import {
  BoundedSemaphore as ThreadBoundedSemaphore,
  Semaphore as ThreadSemaphore,
} from '../thread/semaphore.js';
import {
  attachProcessData,
  closePrimitive,
  type ProcessPlacement,
  place,
  processTier,
  processTokenData,
} from './tier.js';

/** Options of `new Semaphore()` / `new BoundedSemaphore()` from `@conc/lock/process`. */
export interface ProcessSemaphoreOptions extends ProcessPlacement {
  /**
   * Give back the permits a process still held when it ended (exited or was
   * killed, `SIGKILL` included), and tell the acquirers that get them. Off by
   * default: as in Python, permits stay taken whatever happens to the process
   * that took them.
   * @default false
   */
  returnPermitsOfDeadHolders?: boolean;
  /** With `returnPermitsOfDeadHolders`: how many processes may hold permits at once. @default 64 */
  maxHolders?: number;
  /** Default `onOwnerDied` (only called with `returnPermitsOfDeadHolders`). */
  onOwnerDied?: OwnerDiedHandler;
}

const KEYS = ', returnPermitsOfDeadHolders, maxHolders, onOwnerDied';
const SEMAPHORE = 'lock.process.Semaphore';
const BOUNDED = 'lock.process.BoundedSemaphore';
const bytes = (o: ProcessSemaphoreOptions | undefined): number =>
  ThreadSemaphore.byteLength(
    o === undefined
      ? undefined
      : { returnPermitsOfDeadHolders: o.returnPermitsOfDeadHolders, maxHolders: o.maxHolders },
  );

/**
 * A counting semaphore between processes (Python's
 * `multiprocessing.Semaphore`); the thread tier's algorithm in a segment.
 */
export class Semaphore extends ThreadSemaphore implements Disposable {
  /** A semaphore with `value` permits (ignored when attaching to existing memory). */
  constructor(value = 1, options?: ProcessSemaphoreOptions) {
    super(value, place('Semaphore', options, bytes, KEYS));
  }

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token (segment name, nonce and offset). */
  override [shareSymbol](): { kind: string; data: unknown } {
    return { kind: SEMAPHORE, data: processTokenData(this) };
  }

  /** Lets go of this process's handle (see `Lock.close`). */
  close(): void {
    closePrimitive(this);
  }

  /** `using` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    registerKind<Semaphore>({
      kind: SEMAPHORE,
      attach: (data) => attachProcessData(data, SEMAPHORE, (p) => new Semaphore(0, p)),
      Class: Semaphore,
    });
  }
}

/**
 * A semaphore between processes that refuses to be released above its
 * initial value (Python's `multiprocessing.BoundedSemaphore`).
 */
export class BoundedSemaphore extends ThreadBoundedSemaphore implements Disposable {
  /** A bounded semaphore with `value` permits, which is also its bound. */
  constructor(value = 1, options?: ProcessSemaphoreOptions) {
    super(value, place('BoundedSemaphore', options, bytes, KEYS));
  }

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token (segment name, nonce and offset). */
  override [shareSymbol](): { kind: string; data: unknown } {
    return { kind: BOUNDED, data: processTokenData(this) };
  }

  /** Lets go of this process's handle (see `Lock.close`). */
  close(): void {
    closePrimitive(this);
  }

  /** `using` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    registerKind<BoundedSemaphore>({
      kind: BOUNDED,
      attach: (data) => attachProcessData(data, BOUNDED, (p) => new BoundedSemaphore(0, p)),
      Class: BoundedSemaphore,
    });
  }
}
