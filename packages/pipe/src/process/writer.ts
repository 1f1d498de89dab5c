/**
 * The sending half of a socket connection.
 *
 * Messages sent in the same tick form one batch, written with one `writev`
 * (`FrameEncoder.encodeBatch` lays it out: runs of small messages in a single
 * buffer, big payloads uncopied behind their own header). No per-message
 * allocation beyond the codec's own output: at hundreds of thousands of
 * messages a second, a separate header buffer per message was the sender's
 * largest cost. A batch's
 * promise resolves in the write callback, once its bytes are with the
 * operating system; batches sent before the socket exists (a pipe end still
 * meeting its peer) wait, holding the process alive.
 */
import type { Socket } from 'node:net';
import { FrameEncoder, FrameTooLargeError, MESSAGE_HEADER_SIZE } from '@conc/serialize';
import { type Deferred, deferred } from '../core/deadline.js';
import type { KeepAlive } from '../core/keep-alive.js';
import { ConnectionClosedError } from '../errors.js';

/** Writes the frames; the size limit is checked per message in {@link SocketWriter.enqueue}. */
const encoder = new FrameEncoder({ maxFrameSize: Number.POSITIVE_INFINITY });

/** Messages waiting to be written: payloads, and each one's envelope codec tag (-1: raw bytes, no envelope). */
export class Batch {
  readonly payloads: Uint8Array[] = [];
  readonly tags: number[] = [];

  /** Size of the frame `payload` makes (envelope included, header excluded). */
  static frameSize(payload: Uint8Array, tag: number): number {
    return payload.byteLength + (tag >= 0 ? MESSAGE_HEADER_SIZE : 0);
  }

  add(payload: Uint8Array, tag: number): void {
    this.payloads.push(payload);
    this.tags.push(tag);
  }

  /** The chunks to write, in order. */
  chunks(): Uint8Array[] {
    return encoder.encodeBatch(this.payloads, this.tags);
  }
}

const noop = () => {};

interface Outgoing {
  batch: Batch;
  done: Deferred<void>;
  /** Keeps the process alive while the batch waits for its socket. */
  release?: () => void;
}

/** Batches, writes, and fails what can no longer be sent. */
export class SocketWriter {
  readonly #keepAlive: KeepAlive;
  readonly #maxFrameSize: number;
  #socket: Socket | undefined;
  #out: Outgoing | undefined;
  #waiting: Outgoing[] = [];
  #error: Error | undefined;
  /** A message was written at once in this tick: later ones of the tick are batched. */
  #wroteThisTick = false;
  readonly #endTick = () => {
    this.#wroteThisTick = false;
  };

  constructor(keepAlive: KeepAlive, maxFrameSize: number) {
    this.#keepAlive = keepAlive;
    this.#maxFrameSize = maxFrameSize;
  }

  /** Why sends fail, once they do. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** True while batches wait for a socket. */
  get waiting(): boolean {
    return this.#waiting.length > 0 || (this.#out !== undefined && !this.#socket);
  }

  /**
   * Queues one message (`tag`: its envelope codec tag, or -1 for raw bytes) and
   * resolves with its batch.
   */
  enqueue(payload: Uint8Array, tag: number): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    const size = Batch.frameSize(payload, tag);
    if (size > this.#maxFrameSize) return Promise.reject(new FrameTooLargeError(size, this.#maxFrameSize));
    const socket = this.#socket;
    if (!this.#out && !this.#wroteThisTick && socket && socket.writableLength === 0) {
      // The first message of a tick on an idle socket goes out now: no batch, no wait for the
      // microtask (a round trip or a loop of awaited sends pays nothing for batching).
      this.#wroteThisTick = true;
      queueMicrotask(this.#endTick);
      const batch = new Batch();
      batch.add(payload, tag);
      const sent = new Promise<void>((resolve, reject) => {
        this.#writeChunks(socket, batch.chunks(), resolve, reject);
      });
      sent.catch(noop);
      return sent;
    }
    let out = this.#out;
    if (!out) {
      out = { batch: new Batch(), done: deferred<void>() };
      // A send nobody awaits must not become an unhandled rejection; awaiting callers still see it.
      out.done.promise.catch(noop);
      this.#out = out;
      queueMicrotask(() => this.flush());
    }
    out.batch.add(payload, tag);
    return out.done.promise;
  }

  /** Writes the current batch now (or parks it until there is a socket). */
  flush(): void {
    const out = this.#out;
    if (!out) return;
    this.#out = undefined;
    if (this.#socket) {
      this.#write(out);
    } else {
      out.release = this.#keepAlive.hold();
      this.#waiting.push(out);
    }
  }

  /** Gives the writer its socket and writes what was waiting for it. */
  attach(socket: Socket): void {
    this.#socket = socket;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const out of waiting) this.#write(out);
  }

  /** Sends can no longer succeed: rejects the batches not yet written, and every later send. */
  fail(error: Error): void {
    this.#error ??= error;
    const pending = [...this.#waiting, ...(this.#out ? [this.#out] : [])];
    this.#waiting = [];
    this.#out = undefined;
    for (const out of pending) {
      out.release?.();
      out.done.reject(this.#error);
    }
  }

  #write(out: Outgoing): void {
    out.release?.();
    const socket = this.#socket;
    if (!socket || this.#error) {
      out.done.reject(this.#error ?? new ConnectionClosedError('the connection is closed'));
      return;
    }
    this.#writeChunks(socket, out.batch.chunks(), out.done.resolve, out.done.reject);
  }

  /** Writes `chunks` with one `writev`; settles once they are with the OS (or cannot be). */
  #writeChunks(
    socket: Socket,
    chunks: Uint8Array[],
    resolve: () => void,
    reject: (error: Error) => void,
  ): void {
    const done = (error?: Error | null) => {
      if (error) {
        this.#error ??= new ConnectionClosedError(`the connection failed: ${error.message}`, {
          cause: error,
        });
        reject(this.#error);
      } else if (socket.destroyed) {
        // Node calls back without an error for a write cut short by the socket's destruction
        // (a peer that died mid-write): the bytes cannot be known to have left.
        reject(this.#error ?? new ConnectionClosedError('the connection closed during the send'));
      } else {
        resolve();
      }
    };
    if (chunks.length === 1) {
      socket.write(chunks[0] as Uint8Array, done);
      return;
    }
    socket.cork();
    const last = chunks.length - 1;
    // Callbacks run in order: the last write's settles the batch.
    for (let i = 0; i <= last; i++) socket.write(chunks[i] as Uint8Array, i === last ? done : undefined);
    socket.uncork();
  }
}
