/**
 * UTF-8 JSON. Strict: what JSON.stringify would drop or change (undefined,
 * NaN, Dates turned into strings, Maps into `{}`) is refused with a path
 * instead. A conc primitive travels as `{ "$concShared": token }`; the decoder
 * looks for that key only when the text contains it, so messages without one
 * cost nothing extra.
 */
import { isUtf8 } from 'node:buffer';
import { SerializationError } from '../errors.js';
import { attach } from '../share.js';
import { type DecodeOptions, maxValuesOf, overBudget } from './budget.js';
import { countJson } from './count.js';
import { asBuffer, decodeFailure } from './input.js';
import {
  checkToken,
  closeTokens,
  describe,
  explain,
  Found,
  JSON_RULES,
  Kind,
  openTokens,
  type Profile,
  scan,
} from './inspect.js';
import { isRevivable, JSON_SHARED_KEY } from './revive.js';
import type { Codec } from './types.js';

const profile: Profile = {
  codec: 'json',
  ...JSON_RULES,
  classify: (o) => (isRevivable(o) ? Kind.Shared : Kind.Refuse),
  refusal(o) {
    if (o instanceof Date) return 'a Date is not JSON (send date.toISOString(), or use the msgpack codec)';
    return `${describe(o)} is not JSON data (plain objects and arrays only; or use the msgpack codec)`;
  },
};

const MARKER = `"${JSON_SHARED_KEY}"`;

function refuse(reason: string, cause?: unknown): never {
  throw new SerializationError(reason, { cause });
}

/** Replaces conc primitives by their wrapped tokens (only used when the walk found one). */
function withTokens(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return isRevivable(raw) ? { [JSON_SHARED_KEY]: checkToken(raw as object, refuse) } : value;
}

/** Rebuilds wrapped tokens in place. Writes with defineProperty so a `__proto__` key stays a plain key. */
function revive(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (Object.hasOwn(o, JSON_SHARED_KEY)) {
    if (Object.keys(o).length !== 1)
      throw new TypeError(`a "${JSON_SHARED_KEY}" object must have no other key`);
    return attach(o[JSON_SHARED_KEY]);
  }
  for (const k of Object.keys(o)) {
    const before = o[k];
    const after = revive(before);
    if (after !== before) {
      Object.defineProperty(o, k, { value: after, writable: true, enumerable: true, configurable: true });
    }
  }
  return o;
}

/**
 * UTF-8 JSON: readable by anything, and the format of process-tier tokens.
 *
 * Carries `null`, booleans, finite numbers, strings, plain objects and arrays,
 * and conc primitives (as wrapped tokens, rebuilt on decode). Everything else
 * (`undefined`, `NaN`, bigints, Dates, Maps, class instances, cycles) is
 * refused with a `SerializationError` naming the path. The key `$concShared`
 * is reserved. `-0` arrives as `0`.
 *
 * @example
 * ```ts
 * jsonCodec.decode(jsonCodec.encode({ id: 1, tags: ['a'] })); // { id: 1, tags: ['a'] }
 * ```
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value: unknown): Uint8Array {
    const opened = openTokens();
    try {
      const found = scan(value, profile);
      let text: string;
      try {
        text = (found & Found.Shared) === 0 ? JSON.stringify(value) : JSON.stringify(value, withTokens);
      } catch (err) {
        return explain(value, profile, err);
      }
      return Buffer.from(text, 'utf8');
    } finally {
      closeTokens(opened);
    }
  },
  decode(bytes: Uint8Array, options?: DecodeOptions): unknown {
    const input = asBuffer('json', bytes);
    const max = maxValuesOf(options);
    try {
      const n = input.length;
      if (n > max && countJson(input, 0, n, max) > max) throw overBudget('json', n, max);
      if (!isUtf8(input)) throw new Error('the bytes are not valid UTF-8');
      const text = input.toString('utf8');
      const value: unknown = JSON.parse(text);
      return text.includes(MARKER) ? revive(value) : value;
    } catch (err) {
      throw decodeFailure('json', bytes, err);
    }
  },
};
