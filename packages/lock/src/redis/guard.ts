/** A hold of a Redis primitive, released by `release()` or at the end of an `await using` scope. */
export class RedisLockGuard implements AsyncDisposable {
  /** True when this hold was taken over from a holder that died (its lease ran out). */
  readonly ownerDied: boolean;
  #release: (() => Promise<void>) | undefined;

  /** @internal built by `lock()` */
  constructor(release: () => Promise<void>, ownerDied: boolean) {
    this.#release = release;
    this.ownerDied = ownerDied;
  }

  /** False once released. */
  get held(): boolean {
    return this.#release !== undefined;
  }

  /** Releases the hold; later calls do nothing. */
  async release(): Promise<void> {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    await release();
  }

  /** Releases at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
