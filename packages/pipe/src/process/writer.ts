/**
 * The sending half of a socket connection.
 *
 * The first message of a tick on an idle socket is written at once, as one
 * frame in one buffer (a program awaiting every send pays one `write` and
 * nothing for batching). The messages after it in the same tick form one
 * batch, written with one `writev` (`FrameEncoder.encodeBatch` lays it out:
 * runs of small messages in a single buffer, big payloads uncopied behind
 * their own header). No per-message allocation beyond the codec's own
 * output: at hundreds of thousands of messages a second, a separate header
 * buffer per message was the sender's largest cost. A send's promise
 * resolves in the write callback, once its bytes are with the operating
 * system; batches sent before the socket exists (a pipe end still meeting its
 * peer) wait, holding the process alive.
 */
import type { Socket } from 'node:net';
import {
  type Codec,
  FrameEncoder,
  FrameTooLargeError,
  MESSAGE_HEADER_SIZE,
  MESSAGE_VERSION,
} from '@conc/serialize';
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

/** Where a codec's `encodeRange` leaves a message: `bytes[start, end)`, valid until its next call. */
interface Range {
  bytes: Uint8Array;
  start: number;
  end: number;
}
const range: Range = { bytes: new Uint8Array(0), start: 0, end: 0 };

/** Longest frame body a 4-byte header describes; {@link frameOf} writes no other. */
const SHORT_MAX = 0x7fffffff;
/** Payloads up to this size are copied behind their header; longer ones go out uncopied (see encodeBatch). */
const COPY_MAX = 16 * 1024;

/**
 * One frame (body up to {@link SHORT_MAX}) in one buffer of its own: the
 * 4-byte length, the envelope when `tag` ≥ 0, then `bytes[start, end)`. (From
 * Node's pool when small: it only ever goes to the socket, never to a user.)
 */
function frameOf(bytes: Uint8Array, start: number, end: number, tag: number): Buffer {
  const head = tag >= 0 ? 4 + MESSAGE_HEADER_SIZE : 4;
  const frame = Buffer.allocUnsafe(head + end - start);
  frame.writeInt32BE(frame.byteLength - 4, 0);
  if (tag >= 0) {
    frame[4] = MESSAGE_VERSION;
    frame[5] = tag;
  }
  frame.set(start === 0 && end === bytes.byteLength ? bytes : bytes.subarray(start, end), head);
  return frame;
}

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
  /**
   * A message was written at once and its write callback has not run yet: later
   * messages are batched. The callback runs once the current run of microtasks is
   * over (Node defers it with `nextTick` even when the write completed at once), so
   * this spans at least the tick, without a microtask of its own per send.
   */
  #writing = false;

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

  /** True when a message sent now is written at once (see {@link SocketWriter.sendValue}). */
  #idle(): boolean {
    return !this.#out && !this.#writing && this.#socket !== undefined && this.#socket.writableLength === 0;
  }

  /**
   * Encodes `value` with `codec` (envelope tag `tag`) and sends it. When it is
   * written at once, the codec's `encodeRange` output is copied straight into
   * the frame (one copy, no intermediate buffer).
   *
   * @throws what `codec` throws for a value it cannot encode (nothing is sent).
   */
  sendValue(codec: Codec, value: unknown, tag: number): Promise<void> {
    if (this.#error || codec.encodeRange === undefined || !this.#idle()) {
      return this.enqueue(codec.encode(value), tag);
    }
    codec.encodeRange(value, range);
    const size = range.end - range.start + MESSAGE_HEADER_SIZE;
    if (size > this.#maxFrameSize) return Promise.reject(new FrameTooLargeError(size, this.#maxFrameSize));
    // The range is the codec's until its next call: copied here, before anything else can encode.
    if (size > SHORT_MAX) return this.enqueue(range.bytes.slice(range.start, range.end), tag);
    return this.#writeNow(frameOf(range.bytes, range.start, range.end, tag));
  }

  /**
   * Queues one message (`tag`: its envelope codec tag, or -1 for raw bytes) and
   * resolves with its batch.
   */
  enqueue(payload: Uint8Array, tag: number): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    const size = Batch.frameSize(payload, tag);
    if (size > this.#maxFrameSize) return Promise.reject(new FrameTooLargeError(size, this.#maxFrameSize));
    if (this.#idle()) {
      const chunks =
        payload.byteLength <= COPY_MAX
          ? frameOf(payload, 0, payload.byteLength, tag)
          : encoder.encodeBatch([payload], [tag]);
      return this.#writeNow(chunks);
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

  /**
   * Writes one frame now: the first message of a tick on an idle socket (a
   * round trip or a loop of awaited sends pays nothing for batching).
   */
  #writeNow(chunks: Uint8Array | Uint8Array[]): Promise<void> {
    const socket = this.#socket as Socket;
    this.#writing = true;
    let resolveSent!: () => void;
    let rejectSent!: (error: Error) => void;
    const sent = new Promise<void>((resolve, reject) => {
      resolveSent = resolve;
      rejectSent = reject;
    });
    // One callback per send (this path runs once per awaited send: its allocations count).
    this.#writeChunks(socket, chunks, (error?: Error | null) => {
      this.#writing = false;
      const failure = this.#failure(socket, error);
      if (failure === undefined) {
        resolveSent();
        return;
      }
      // A send nobody awaits must not become an unhandled rejection; awaiting callers still
      // see it. (Marked here, on failure only: a catch() per send costs a promise per send.)
      sent.catch(noop);
      rejectSent(failure);
    });
    return sent;
  }

  #write(out: Outgoing): void {
    out.release?.();
    const socket = this.#socket;
    if (!socket || this.#error) {
      out.done.reject(this.#error ?? new ConnectionClosedError('the connection is closed'));
      return;
    }
    this.#writeChunks(socket, out.batch.chunks(), (error) => {
      const failure = this.#failure(socket, error);
      if (failure === undefined) out.done.resolve();
      else out.done.reject(failure);
    });
  }

  /** Why a write that called back with `error` failed, or undefined when its bytes are with the OS. */
  #failure(socket: Socket, error: Error | null | undefined): Error | undefined {
    if (error) {
      this.#error ??= new ConnectionClosedError(`the connection failed: ${error.message}`, { cause: error });
      return this.#error;
    }
    // Node calls back without an error for a write cut short by the socket's destruction
    // (a peer that died mid-write): the bytes cannot be known to have left.
    if (socket.destroyed)
      return this.#error ?? new ConnectionClosedError('the connection closed during the send');
    return undefined;
  }

  /** Writes `chunks` (one `writev` for several); `done` is Node's callback of the last write. */
  #writeChunks(
    socket: Socket,
    chunks: Uint8Array | Uint8Array[],
    done: (error?: Error | null) => void,
  ): void {
    if (!Array.isArray(chunks)) {
      socket.write(chunks, done);
      return;
    }
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
