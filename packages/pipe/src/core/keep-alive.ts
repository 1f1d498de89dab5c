/**
 * Counts the reasons a connection has to keep the process alive (a pending
 * `recv`, a `wait`, an RPC call in flight) and tells its handle to `ref()` on
 * the first and `unref()` after the last. Idle connections never keep a
 * process alive, like Node's unref'd handles and like a Python script that
 * exits while a pipe is open.
 */
export class KeepAlive {
  #count = 0;
  readonly #apply: (alive: boolean) => void;

  constructor(apply: (alive: boolean) => void) {
    this.#apply = apply;
  }

  /** True while at least one hold is active. */
  get active(): boolean {
    return this.#count > 0;
  }

  /** Takes a hold; the returned function releases it (once). */
  hold(): () => void {
    if (this.#count++ === 0) this.#apply(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#count === 0) this.#apply(false);
    };
  }
}
