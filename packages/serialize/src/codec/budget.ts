/**
 * The decode budget: a cap on how many values one message may decode into.
 *
 * Why: the frame limit bounds a message's bytes, not what they become. One
 * byte of MessagePack is an empty map (64 bytes of heap), or under records an
 * empty Map (~190); a valid 16 MiB frame of empty maps needs ~1 GB and killed
 * the receiving process with "JavaScript heap out of memory". Every codec
 * therefore counts a message's values before it builds any of them, when the
 * message is large enough to hold more than the budget (each value takes at
 * least one byte in every format, so smaller messages are never counted).
 */
import { DeserializationError } from '../errors.js';
import { DEFAULT_MAX_FRAME_SIZE } from '../frame.js';

/** Options every codec's `decode` and `decodePrefix` take (and `decodeMessage`). */
export interface DecodeOptions {
  /**
   * The most values one message may decode into: every object, array, map,
   * set, string, number, key... counts one (map and object keys included, so
   * `{ a: 1 }` is three). A message holding more is refused with
   * `DeserializationError` before any of it is built. Raise it for peers
   * that send huge collections; `Infinity` turns the check off.
   *
   * @default DEFAULT_MAX_VALUES (4,194,304: one value per 16 bytes of the default frame limit)
   * @example
   * ```ts
   * msgpackCodec.decode(bytes, { maxValues: 100_000_000 });
   * decodeMessage(frame, { maxValues: maxValuesFor(connectionFrameLimit) });
   * ```
   */
  readonly maxValues?: number;
}

/** Bytes of frame limit per value of budget: {@link maxValuesFor}'s ratio. */
const BYTES_PER_VALUE = 16;

/**
 * The decode budget that goes with a frame size limit: one value per 16
 * bytes of it. A connection that raises or lowers its frame limit passes
 * `maxValuesFor(limit)` along, so its receivers' heap follows its limit.
 *
 * @example
 * ```ts
 * decodeMessage(frame, { maxValues: maxValuesFor(16 * 1024 * 1024) }); // 1,048,576
 * ```
 */
export function maxValuesFor(maxFrameSize: number): number {
  if (maxFrameSize === Number.POSITIVE_INFINITY) return maxFrameSize;
  if (typeof maxFrameSize !== 'number' || !Number.isInteger(maxFrameSize) || maxFrameSize < 0) {
    throw new TypeError(
      `maxValuesFor: maxFrameSize must be a whole number of bytes, got ${String(maxFrameSize)}`,
    );
  }
  return Math.max(1, Math.ceil(maxFrameSize / BYTES_PER_VALUE));
}

/** The budget of a decode given no `maxValues`: {@link maxValuesFor} the default frame limit (4,194,304). */
export const DEFAULT_MAX_VALUES: number = maxValuesFor(DEFAULT_MAX_FRAME_SIZE);

/** The budget `options` set: validated, or the default. */
export function maxValuesOf(options: DecodeOptions | undefined): number {
  if (options === undefined) return DEFAULT_MAX_VALUES;
  const max = options.maxValues;
  if (max === undefined) return DEFAULT_MAX_VALUES;
  if (typeof max !== 'number' || !(Number.isInteger(max) || max === Number.POSITIVE_INFINITY) || max < 0) {
    throw new TypeError(
      `maxValues must be a whole number of values (or Infinity), got ${typeof max === 'string' ? JSON.stringify(max) : String(max)}`,
    );
  }
  return max;
}

/** The error for a message over its budget. */
export function overBudget(codec: string, bytes: number, max: number): DeserializationError {
  return new DeserializationError(
    `${codec} codec: refused a message of ${bytes} bytes that holds more than ${max} values ` +
      '(the decode budget, maxValues); if the peer is trusted to send that much, pass a larger ' +
      'maxValues to decode() or decodeMessage() (or to the connection that reads it)',
  );
}
