/** Barrier for processes (see process/lock.ts). */
import { registerKind, shareSymbol } from '@conc/serialize';
import { ForeignBufferError } from '../core/errors.js';
import { kTier, type Tier } from '../core/tier.js';
import { Barrier as ThreadBarrier } from '../thread/barrier.js';
import { SIZE_PARAM } from '../thread/layout.js';
import {
  attachProcessData,
  closePrimitive,
  type ProcessPlacement,
  place,
  processTier,
  processTokenData,
} from './tier.js';

const KIND = 'lock.process.Barrier';

/** Options of `new Barrier()` from `@conc/lock/process`. */
export interface ProcessBarrierOptions extends ProcessPlacement {
  /** Run by the last party to arrive, in its own process. */
  action?: () => void;
  /** Default timeout (ms) of `wait()`. */
  timeout?: number;
}

/**
 * A barrier for `parties` processes (Python's `multiprocessing.Barrier`): each
 * `wait()` returns once all parties arrived; a party that dies while waiting
 * breaks it for the others.
 */
export class Barrier extends ThreadBarrier implements Disposable {
  /** A barrier in a segment of its own, or created/attached in `memory` at `byteOffset`. */
  constructor(parties: number, options?: ProcessBarrierOptions) {
    super(
      parties,
      place('Barrier', options, () => ThreadBarrier.byteLength(parties), ', action, timeout'),
    );
  }

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token (the action stays in this process). */
  override [shareSymbol](): { kind: string; data: unknown } {
    return { kind: KIND, data: processTokenData(this) };
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
    registerKind<Barrier>({
      kind: KIND,
      attach: (data) =>
        attachProcessData(data, KIND, (p) => {
          const at = { buffer: p.memory!.buffer, byteOffset: p.byteOffset ?? 0 };
          const parties = processTier.storedParam(at, 'Barrier', SIZE_PARAM.Barrier);
          if (parties === undefined)
            throw new ForeignBufferError('Barrier: the token points at memory holding no Barrier');
          return new Barrier(parties, p);
        }),
      Class: Barrier,
    });
  }
}
