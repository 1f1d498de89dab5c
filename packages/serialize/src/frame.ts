/**
 * Length-prefixed frames exactly as CPython's `multiprocessing.connection`
 * writes them, so a Python `Connection` and ours exchange bytes:
 *
 * - a frame of n ≤ 0x7fffffff bytes: a 4-byte big-endian signed length, then the bytes;
 * - a longer frame: the 4-byte header -1 (`ff ff ff ff`), an 8-byte big-endian
 *   unsigned length, then the bytes (Python 3.8+).
 *
 * Encoding returns the header and the payload as separate chunks, so a caller
 * can `writev` them without copying. Decoding accepts any chunking, refuses a
 * declared length over the limit before allocating anything, and hands out
 * views of the pushed chunks when a frame lies within one.
 */
import { constants } from 'node:buffer';
import { MESSAGE_HEADER_SIZE, MESSAGE_VERSION } from './envelope.js';
import { FrameTooLargeError, ProtocolError } from './errors.js';

/** The default frame size limit: 64 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;

/** Longest frame written with the short (4-byte) header. */
const SHORT_MAX = 0x7fffffff;
const LONG_HEADER = 12;
const TWO_32 = 2 ** 32;
/** Frames up to this size are copied together by {@link FrameEncoder.encodeBatch}; longer ones stay separate chunks. */
const COALESCE_MAX = 16 * 1024;

/** Options of {@link FrameDecoder} and {@link FrameEncoder}. */
export interface FrameOptions {
  /**
   * Largest frame payload accepted, in bytes. A decoder refuses a longer
   * declared length with `FrameTooLargeError` before allocating; an encoder
   * refuses to write one (so it fails at the sender).
   *
   * @default DEFAULT_MAX_FRAME_SIZE (64 MiB)
   * @example
   * ```ts
   * new FrameDecoder({ maxFrameSize: 1024 * 1024 });
   * ```
   */
  readonly maxFrameSize?: number;
}

function checkLimit(max: number, who: string): number {
  if (!Number.isSafeInteger(max) || max < 0 || max > constants.MAX_LENGTH) {
    throw new RangeError(
      `${who}: maxFrameSize must be an integer from 0 to ${constants.MAX_LENGTH}, got ${String(max)}`,
    );
  }
  return max;
}

/**
 * The header of a frame of `length` bytes: 4 bytes, or 12 past 0x7fffffff.
 *
 * @example
 * ```ts
 * encodeFrameHeader(5); // Uint8Array [0, 0, 0, 5]
 * ```
 */
export function encodeFrameHeader(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`frame length must be a non-negative integer, got ${String(length)}`);
  }
  if (length <= SHORT_MAX) {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setInt32(0, length);
    return h;
  }
  const h = new Uint8Array(LONG_HEADER);
  const view = new DataView(h.buffer);
  view.setInt32(0, -1);
  view.setUint32(4, Math.floor(length / TWO_32));
  view.setUint32(8, length % TWO_32);
  return h;
}

/**
 * One frame as two chunks, `[header, payload]`, ready for `writev` (the
 * payload is not copied).
 *
 * @throws FrameTooLargeError when `payload` is over `maxFrameSize`.
 * @example
 * ```ts
 * socket.cork(); for (const c of encodeFrame(bytes)) socket.write(c); socket.uncork();
 * ```
 */
export function encodeFrame(payload: Uint8Array, options: FrameOptions = {}): Uint8Array[] {
  const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (payload.byteLength > max) throw new FrameTooLargeError(payload.byteLength, max);
  return [encodeFrameHeader(payload.byteLength), payload];
}

/**
 * The frame header of a message whose body (envelope included) is `size`
 * bytes, followed by the envelope for codec tag `tag`: all that goes before
 * the encoded value.
 */
export function encodeMessageHead(size: number, tag: number): Uint8Array {
  const header = encodeFrameHeader(size);
  const head = new Uint8Array(header.byteLength + MESSAGE_HEADER_SIZE);
  head.set(header);
  head[header.byteLength] = MESSAGE_VERSION;
  head[header.byteLength + 1] = tag;
  return head;
}

/**
 * Writes frames with a size limit, and batches many small frames into few
 * chunks (CPython joins header and payload up to 16 KiB for the same reason:
 * fewer, larger writes).
 */
export class FrameEncoder {
  /** The limit in force, in bytes. */
  readonly maxFrameSize: number;

  constructor(options: FrameOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    // An encoder may have no limit at all (its caller checks one of its own); a decoder never.
    this.maxFrameSize = max === Number.POSITIVE_INFINITY ? max : checkLimit(max, 'FrameEncoder');
  }

  /** `[header, payload]` for one frame (see {@link encodeFrame}). */
  encode(payload: Uint8Array): Uint8Array[] {
    return encodeFrame(payload, this);
  }

  /**
   * The chunks of several frames in order: runs of small frames are copied
   * into one buffer, large payloads are passed through uncopied behind their
   * own header. Checks every payload before producing anything.
   *
   * @param tags one per payload when the payloads are encoded message values
   *   (see `encodeMessage`): a tag ≥ 0 is that value's codec tag, and its
   *   frame starts with the 2-byte envelope; -1 frames the payload as it is.
   * @throws FrameTooLargeError when any frame is over the limit (nothing is encoded).
   */
  encodeBatch(payloads: readonly Uint8Array[], tags?: readonly number[]): Uint8Array[] {
    const bodySize = (i: number) =>
      payloads[i]!.byteLength + (tags !== undefined && tags[i]! >= 0 ? MESSAGE_HEADER_SIZE : 0);
    for (let i = 0; i < payloads.length; i++) {
      const size = bodySize(i);
      if (size > this.maxFrameSize) throw new FrameTooLargeError(size, this.maxFrameSize);
    }
    const out: Uint8Array[] = [];
    let start = 0;
    let runBytes = 0;
    const endRun = (end: number) => {
      if (runBytes === 0) return;
      const buf = Buffer.allocUnsafe(runBytes);
      let at = 0;
      for (let i = start; i < end; i++) {
        const payload = payloads[i]!;
        buf.writeInt32BE(bodySize(i), at);
        at += 4;
        if (tags !== undefined && tags[i]! >= 0) {
          buf[at] = MESSAGE_VERSION;
          buf[at + 1] = tags[i]!;
          at += MESSAGE_HEADER_SIZE;
        }
        buf.set(payload, at);
        at += payload.byteLength;
      }
      out.push(buf);
      runBytes = 0;
    };
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]!;
      const size = bodySize(i);
      if (payload.byteLength <= COALESCE_MAX) {
        if (runBytes === 0) start = i;
        runBytes += 4 + size;
        continue;
      }
      endRun(i);
      out.push(size === payload.byteLength ? encodeFrameHeader(size) : encodeMessageHead(size, tags![i]!));
      out.push(payload);
    }
    endRun(payloads.length);
    return out;
  }
}

/**
 * Splits a byte stream into frames, whatever the chunking: one byte at a
 * time, a header split across reads, many frames in one read.
 *
 * After an error the decoder stays failed: every later `push` throws the same
 * error, since the stream has lost its framing.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder({ maxFrameSize: 16 * 1024 * 1024 });
 * socket.on('data', (chunk) => {
 *   for (const frame of decoder.push(chunk)) handle(frame);
 * });
 * socket.on('end', () => decoder.end());
 * ```
 */
export class FrameDecoder {
  /** The limit in force, in bytes. */
  readonly maxFrameSize: number;
  readonly #header = new Uint8Array(LONG_HEADER);
  readonly #headerView = new DataView(this.#header.buffer);
  #headerFill = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #error: Error | undefined;

  constructor(options: FrameOptions = {}) {
    this.maxFrameSize = checkLimit(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, 'FrameDecoder');
  }

  /** Bytes held for the frame in progress (a partial header or payload). */
  get buffered(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /** The error that stopped this decoder, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Feeds bytes; returns the frames they complete, in order. A frame that lies
   * within `chunk` is returned as a view of it (do not reuse the chunk's
   * memory); a frame spread over several chunks is assembled into an
   * ArrayBuffer of exactly its size, its own (never shared or reused),
   * allocated once its header has passed the limit check.
   *
   * @throws FrameTooLargeError for a declared length over the limit.
   * @throws ProtocolError for a malformed header (a negative length other than -1).
   * Either way the error's non-enumerable `frames` property holds the complete
   * frames that preceded the bad header in this chunk, and the decoder stays failed.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#error) throw this.#error;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('FrameDecoder.push expects a Uint8Array');
    const frames: Uint8Array[] = [];
    try {
      this.#consume(chunk, frames);
    } catch (err) {
      this.#fail(err as Error, frames);
    }
    return frames;
  }

  /**
   * Declares the end of the stream.
   *
   * @throws ProtocolError when it ends inside a frame (a truncated frame).
   */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.buffered === 0) return;
    const err = this.#body
      ? new ProtocolError(
          `stream ended inside a frame: ${this.#bodyFill} of ${this.#body.byteLength} payload bytes received`,
        )
      : new ProtocolError(`stream ended inside a frame header: ${this.#headerFill} header bytes received`);
    this.#fail(err, []);
  }

  #fail(err: Error, frames: Uint8Array[]): never {
    Object.defineProperty(err, 'frames', { value: frames, configurable: true });
    this.#error = err;
    this.#body = undefined;
    this.#bodyFill = 0;
    this.#headerFill = 0;
    throw err;
  }

  #consume(chunk: Uint8Array, frames: Uint8Array[]): void {
    const n = chunk.byteLength;
    let pos = 0;
    while (pos < n) {
      const body = this.#body;
      if (body) {
        const take = Math.min(body.byteLength - this.#bodyFill, n - pos);
        body.set(chunk.subarray(pos, pos + take), this.#bodyFill);
        this.#bodyFill += take;
        pos += take;
        if (this.#bodyFill < body.byteLength) return;
        frames.push(body);
        this.#body = undefined;
        this.#bodyFill = 0;
        continue;
      }
      let length: number;
      if (this.#headerFill === 0 && n - pos >= 4) {
        const short =
          (chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]! | 0;
        if (short !== -1) {
          length = this.#check(short);
          pos += 4;
        } else if (n - pos >= LONG_HEADER) {
          length = this.#check(-1, readLong(chunk, pos + 4));
          pos += LONG_HEADER;
        } else {
          pos = this.#collectHeader(chunk, pos);
          continue;
        }
      } else {
        pos = this.#collectHeader(chunk, pos);
        const need = this.#headerNeed();
        if (this.#headerFill < need) continue;
        const short = this.#headerView.getInt32(0);
        length = short === -1 ? this.#check(-1, readLong(this.#header, 4)) : this.#check(short);
        this.#headerFill = 0;
      }
      if (n - pos >= length) {
        frames.push(chunk.subarray(pos, pos + length));
        pos += length;
      } else {
        this.#body = bodyBuffer(length);
        this.#bodyFill = 0;
      }
    }
  }

  /** Header bytes needed so far: 4, or 12 once the first four say -1. */
  #headerNeed(): number {
    return this.#headerFill >= 4 && this.#headerView.getInt32(0) === -1 ? LONG_HEADER : 4;
  }

  /** Copies header bytes from `chunk` until the header is complete or the chunk ends; returns the new position. */
  #collectHeader(chunk: Uint8Array, pos: number): number {
    const n = chunk.byteLength;
    while (pos < n) {
      const need = this.#headerNeed();
      if (this.#headerFill >= need) break;
      const take = Math.min(need - this.#headerFill, n - pos);
      this.#header.set(chunk.subarray(pos, pos + take), this.#headerFill);
      this.#headerFill += take;
      pos += take;
      if (this.#headerFill === 4 && this.#headerView.getInt32(0) !== -1) break;
    }
    return pos;
  }

  #check(short: number, long?: number): number {
    if (short === -1) {
      const length = long as number;
      if (length > this.maxFrameSize) throw new FrameTooLargeError(length, this.maxFrameSize);
      return length;
    }
    if (short < 0) {
      throw new ProtocolError(
        `malformed frame header: length ${short} (0x${(short >>> 0).toString(16).padStart(8, '0')}) is negative`,
      );
    }
    if (short > this.maxFrameSize) throw new FrameTooLargeError(short, this.maxFrameSize);
    return short;
  }
}

/**
 * The buffer a frame spread over several chunks is assembled in: an
 * ArrayBuffer of its own holding exactly the frame, uninitialised.
 *
 * Why not `new Uint8Array(length)`: its zero-filling, then the copy over it,
 * made a 64 KiB message (which always spans two socket reads) cost the
 * receiver twice the memory traffic. Every byte is overwritten before the
 * frame is handed out (a body is only returned once full, and dropped on an
 * error). Not `Buffer.allocUnsafe`: below 4 KiB it slices Node's shared pool,
 * and the frame's `.buffer` would expose other data to whoever receives it.
 */
function bodyBuffer(length: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
}

/** The 8-byte big-endian unsigned length of a long header (exact up to 2^53). */
function readLong(bytes: Uint8Array, at: number): number {
  const hi = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  const lo = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}
