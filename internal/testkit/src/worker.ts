import { fileURLToPath } from 'node:url';
import { type Transferable, Worker, type WorkerOptions } from 'node:worker_threads';
import { Mailbox } from './mailbox.js';
import { type TrackedResource, track, untrack } from './registry.js';

function shortName(url: URL | string): string {
  const path = typeof url === 'string' ? url : fileURLToPath(url);
  return path.split('/').slice(-2).join('/');
}

/**
 * A real worker thread started by a test: its messages are read in order with
 * a timeout, its exit is a promise, and the leak check terminates it (and
 * fails the test) if the test leaves it running.
 */
export class TrackedWorker implements TrackedResource, AsyncDisposable {
  readonly worker: Worker;
  /** Resolves with the exit code once the thread has stopped. */
  readonly exited: Promise<number>;
  /** The first uncaught error the worker raised, if any. */
  error: Error | undefined;
  readonly leakIfAlive = true;
  readonly #name: string;
  readonly #mailbox: Mailbox;
  #exitCode: number | undefined;

  constructor(url: URL | string, options: WorkerOptions = {}) {
    this.#name = shortName(url);
    this.#mailbox = new Mailbox(() => `worker ${this.#name}`);
    this.worker = new Worker(url, options);
    this.worker.on('message', (m) => this.#mailbox.push(m));
    this.worker.on('error', (err) => {
      this.error ??= err;
      this.#mailbox.close(new Error(`worker ${this.#name} threw: ${err?.stack ?? err}`));
    });
    this.exited = new Promise<number>((resolve) => {
      this.worker.once('exit', (code) => {
        this.#exitCode = code;
        untrack(this);
        this.#mailbox.close(
          this.error
            ? new Error(`worker ${this.#name} threw: ${this.error.stack ?? this.error}`)
            : new Error(`worker ${this.#name} exited with code ${code}`),
        );
        resolve(code);
      });
    });
    track(this);
  }

  /** The thread id of the worker (as `threadId` inside it). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** The next message the worker posted, in order; rejects after `timeoutMs` or when the worker ends. */
  nextMessage<T = unknown>(timeoutMs = 10_000): Promise<T> {
    return this.#mailbox.next<T>(timeoutMs);
  }

  /** Posts a message to the worker. */
  post(message: unknown, transfer?: readonly Transferable[]): void {
    this.worker.postMessage(message, transfer);
  }

  /** Stops the thread (interrupting even `Atomics.wait`) and resolves with its exit code. */
  async terminate(): Promise<number> {
    if (this.#exitCode !== undefined) return this.#exitCode;
    await this.worker.terminate();
    return this.exited;
  }

  describe(): string {
    return `worker ${this.#name} (threadId ${this.worker.threadId})`;
  }

  alive(): boolean {
    return this.#exitCode === undefined;
  }

  async destroy(): Promise<void> {
    await this.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }
}

/** Starts a real worker thread from a fixture (usually `fixture(import.meta.url, 'x.mjs')`). */
export function startWorker(url: URL | string, options: WorkerOptions = {}): TrackedWorker {
  return new TrackedWorker(url, options);
}
