/**
 * Lays out a batch of messages as CPython frames for one `writev`: runs of
 * small messages are written into a single buffer (4-byte big-endian length,
 * the 2-byte conc envelope for values, the payload), big payloads are passed
 * through uncopied behind their own header. No per-message allocation beyond
 * the codec's own output: at hundreds of thousands of messages a second, a
 * separate header buffer per message was the sender's largest cost.
 */
import { encodeFrameHeader, MESSAGE_HEADER_SIZE, MESSAGE_VERSION } from '@conc/serialize';

/** Payloads up to this size are copied into the shared buffer; bigger ones are written in place. */
const COPY_LIMIT = 16 * 1024;

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
    const { payloads, tags } = this;
    const chunks: Uint8Array[] = [];
    let start = 0;
    let runBytes = 0;
    const endRun = (end: number) => {
      if (runBytes === 0) return;
      const buf = Buffer.allocUnsafe(runBytes);
      let at = 0;
      for (let i = start; i < end; i++) {
        const payload = payloads[i] as Uint8Array;
        const tag = tags[i] as number;
        buf.writeInt32BE(Batch.frameSize(payload, tag), at);
        at += 4;
        if (tag >= 0) {
          buf[at] = MESSAGE_VERSION;
          buf[at + 1] = tag;
          at += MESSAGE_HEADER_SIZE;
        }
        buf.set(payload, at);
        at += payload.byteLength;
      }
      chunks.push(buf);
      runBytes = 0;
    };
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i] as Uint8Array;
      const tag = tags[i] as number;
      const size = Batch.frameSize(payload, tag);
      if (payload.byteLength > COPY_LIMIT) {
        endRun(i);
        const header = encodeFrameHeader(size);
        if (tag >= 0) {
          const head = Buffer.allocUnsafe(header.byteLength + MESSAGE_HEADER_SIZE);
          head.set(header, 0);
          head[header.byteLength] = MESSAGE_VERSION;
          head[header.byteLength + 1] = tag;
          chunks.push(head);
        } else {
          chunks.push(header);
        }
        chunks.push(payload);
      } else {
        if (runBytes === 0) start = i;
        runBytes += 4 + size;
      }
    }
    endRun(payloads.length);
    return chunks;
  }
}
