/**
 * Renews a lease every third of its length while something is held. The
 * timer never keeps the process alive by itself: a process with nothing else
 * to do exits, and its holds end with their leases.
 */
export class Renewal {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly leaseMs: number,
    private readonly renew: () => Promise<unknown>,
  ) {}

  /** Starts renewing (idempotent). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => {
        // A failed renewal (Redis briefly away) is tried again on the next tick; a lost
        // lease shows at release (LockNotOwnedError).
        this.renew().catch(() => {});
      },
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    this.#timer.unref();
  }

  /** Stops renewing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
