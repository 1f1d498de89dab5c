/**
 * Reading exactly one MessagePack value out of `bytes[start, end)` with
 * msgpackr, without msgpackr's message for bytes left over.
 *
 * Why: when a value ends before its input does, msgpackr's `unpack` puts
 * `JSON.stringify(value)` into its error message. A peer controls that value:
 * a 1 MiB bigint plus one trailing byte took a second to format (bigints are
 * printed in decimal), and a 500-byte message of shared references (a DAG
 * `[a, a]`, `a = [b, b]`...) expands to 2^40 elements and never finished,
 * blocking the event loop for good. msgpackr's sequential mode
 * (`unpackMultiple`) reads the first value and reports where it ended,
 * formatting nothing; the caller refuses leftovers with a message of its own.
 * It costs ~20 ns more per call than `unpack`, so the codecs use it where a
 * leftover could be expensive to format (see msgpack.ts).
 */
import { Unpackr } from './msgpackr.js';

/** The window the next `unpack` call of a {@link ValueReader} reads: `unpackMultiple` cannot be given one. */
const span = { start: 0, end: 0 };

let value: unknown;
let valueEnd = 0;
/** `unpackMultiple`'s callback: keeps the first value and where it ended, and stops there. */
const first = (v: unknown, _start?: number, end?: number): boolean => {
  value = v;
  valueEnd = end ?? -1;
  return false;
};

/** An Unpackr that reads one value from a window of its input, refusing bytes after it. */
export class ValueReader extends Unpackr {
  /**
   * Called by `unpackMultiple` (with the whole input's length, and again if
   * re-entered from inside an extension): reads the window set by {@link read}.
   */
  override unpack(source: Buffer | Uint8Array): unknown {
    return super.unpack(source, span);
  }

  /**
   * The value encoded in `input[start, end)`.
   *
   * @throws Error (msgpackr's, or ours for bytes after the value) when the bytes are not exactly one value.
   */
  read(input: Buffer, start: number, end: number): unknown {
    // msgpackr reads an end of 0 as "to the end of the input".
    if (end <= start) throw new Error('Unexpected end of MessagePack data: the message is empty');
    span.start = start;
    span.end = end;
    this.unpackMultiple(input, first);
    const v = value;
    value = undefined;
    if (valueEnd !== end) throw new Error(`${end - valueEnd} unexpected bytes after the value`);
    return v;
  }
}
