/** Input checks and error wrapping every codec's `decode` shares. */
import { DeserializationError, isDeserializationError } from '../errors.js';

/** Refuses anything but a Uint8Array with the one error type `decode` may throw. */
export function checkInput(codec: string, bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new DeserializationError(
      `${codec} codec: decode expects a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
}

/** Refuses a `decodePrefix` length that is not a whole number within the bytes. */
export function checkLength(codec: string, bytes: unknown, length: unknown): asserts bytes is Uint8Array {
  checkInput(codec, bytes);
  if (!Number.isInteger(length) || (length as number) < 0 || (length as number) > bytes.length) {
    throw new DeserializationError(
      `${codec} codec: decodePrefix length ${String(length)} is not within the ${bytes.length} bytes given`,
    );
  }
}

/**
 * The input as a Buffer: msgpackr then decodes `bin` fields as Buffers
 * whatever the caller passed. No copy, except for bytes in shared memory:
 * those are copied first, since another thread may change them mid-decode and
 * msgpackr's native string extractor refuses them (and, throwing half-way
 * through a key, would leave a poisoned entry in msgpackr's key cache).
 */
export function asBuffer(codec: string, bytes: unknown): Buffer {
  checkInput(codec, bytes);
  if (bytes.buffer instanceof SharedArrayBuffer) return Buffer.from(bytes);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Wraps whatever a decoder threw as a DeserializationError (keeping the original as `cause`). */
export function decodeFailure(codec: string, bytes: Uint8Array, err: unknown): DeserializationError {
  if (isDeserializationError(err)) return err;
  const msg = (err as Error)?.message ?? String(err);
  return new DeserializationError(
    `${codec} codec: cannot decode ${bytes.byteLength} bytes: ${msg.length > 300 ? `${msg.slice(0, 300)}…` : msg}`,
    { cause: err },
  );
}
