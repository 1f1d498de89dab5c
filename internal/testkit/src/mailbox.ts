/**
 * A FIFO of messages from a worker or child, read with a timeout; closed with
 * a reason when the peer exits or errors, so a reader never waits forever.
 */
export class Mailbox {
  readonly #items: unknown[] = [];
  readonly #readers: Array<{ resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }> = [];
  #closed: Error | undefined;

  constructor(private readonly who: () => string) {}

  push(message: unknown): void {
    const reader = this.#readers.shift();
    if (reader) {
      clearTimeout(reader.timer);
      reader.resolve(message);
    } else {
      this.#items.push(message);
    }
  }

  close(reason: Error): void {
    if (this.#closed) return;
    this.#closed = reason;
    for (const reader of this.#readers.splice(0)) {
      clearTimeout(reader.timer);
      reader.reject(reason);
    }
  }

  /** Messages received and not yet read. */
  get pending(): readonly unknown[] {
    return this.#items;
  }

  next<T>(timeoutMs: number): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift() as T);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      const reader = {
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          const i = this.#readers.indexOf(reader);
          if (i >= 0) this.#readers.splice(i, 1);
          reject(new Error(`no message from ${this.who()} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#readers.push(reader);
    });
  }
}
