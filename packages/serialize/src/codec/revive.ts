/**
 * Which values the codecs write as tokens and rebuild on decode: instances of
 * the classes packages registered with `registerKind({ kind, attach, Class })`.
 * Learned through `onKind`, so kinds registered after this module loaded count too.
 */
import { SerializationError } from '../errors.js';
import { isShareable, onKind, share, type Token } from '../share.js';

type AnyClass = abstract new (...args: never[]) => unknown;

const classes = new Set<AnyClass>();

onKind((def) => {
  if (def.Class) classes.add(def.Class);
});

/** True for an instance of a registered primitive class: the codecs send it as a token. */
export function isRevivable(value: unknown): boolean {
  if (classes.size === 0 || !isShareable(value)) return false;
  if (classes.has((value as { constructor?: unknown }).constructor as AnyClass)) return true;
  for (const cls of classes) if (value instanceof cls) return true;
  return false;
}

/**
 * One class that every revivable instance is an `instanceof`, so a single
 * msgpackr extension covers all kinds, present and future.
 */
export const RevivableInstance: { [Symbol.hasInstance](value: unknown): boolean } = {
  [Symbol.hasInstance]: isRevivable,
};

/** The key the json codec wraps a token in: `{ "$concShared": token }`. */
export const JSON_SHARED_KEY = '$concShared';

/** Describes a primitive as a token for a message; wraps a failing `[shareSymbol]()` in SerializationError. */
export function tokenOf(instance: unknown): Token {
  try {
    return share(instance as Parameters<typeof share>[0]);
  } catch (err) {
    throw new SerializationError(
      `cannot describe the primitive as a token: ${(err as Error)?.message ?? err}`,
      {
        cause: err,
      },
    );
  }
}
