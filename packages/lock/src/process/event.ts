/** Event for processes (see process/lock.ts). */
import { registerKind, shareSymbol } from '@conc/serialize';
import { kTier, type Tier } from '../core/tier.js';
import { Event as ThreadEvent } from '../thread/event.js';
import {
  attachProcessData,
  closePrimitive,
  type ProcessPlacement,
  place,
  processTier,
  processTokenData,
} from './tier.js';

const KIND = 'lock.process.Event';

/**
 * A flag processes wait for (Python's `multiprocessing.Event`): `set()` wakes
 * every waiter in every process.
 */
export class Event extends ThreadEvent implements Disposable {
  /** A new event in a segment of its own, or created/attached in `memory` at `byteOffset`. */
  constructor(options?: ProcessPlacement) {
    super(place('Event', options, () => ThreadEvent.byteLength(), ''));
  }

  /** @internal */
  override get [kTier](): Tier {
    return processTier;
  }

  /** A JSON-safe token (segment name, nonce and offset). */
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
    registerKind<Event>({
      kind: KIND,
      attach: (data) => attachProcessData(data, KIND, (p) => new Event(p)),
      Class: Event,
    });
  }
}
