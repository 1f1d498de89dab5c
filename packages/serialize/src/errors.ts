/**
 * The error base every conc package shares.
 *
 * Errors carry a stable `name` and `code`, keep their `cause`, and can cross a
 * thread or process boundary with {@link errorToWire} / {@link errorFromWire}.
 * A worker or child loads its own copy of a package, so `instanceof` is not
 * enough: recognise errors with {@link isConcError} or a package's
 * `isXxxError` guard, which compare a global brand and the `code`.
 */

const BRAND: unique symbol = Symbol.for('conc.error') as never;
const CLASSES_KEY = Symbol.for('conc.errorClasses');

type ErrorClass = { prototype: ConcError; readonly code: string };

/** Process-wide (per thread) map of error name to class, shared by every copy of this package. */
function classes(): Map<string, ErrorClass> {
  const g = globalThis as unknown as Record<symbol, Map<string, ErrorClass> | undefined>;
  let map = g[CLASSES_KEY];
  if (!map) {
    map = new Map();
    g[CLASSES_KEY] = map;
  }
  return map;
}

/** Options every conc error constructor takes. */
export interface ConcErrorOptions {
  /** The underlying error, kept as the standard `Error.cause`. */
  cause?: unknown;
}

/**
 * Base class of every error a conc package throws.
 *
 * @example
 * ```ts
 * try { q.getNowait(); } catch (err) { if (isConcError(err, 'ERR_CONC_QUEUE_EMPTY')) ... }
 * ```
 */
export class ConcError extends Error {
  /** The stable code of this class, e.g. `ERR_CONC_QUEUE_EMPTY`. */
  static readonly code: string = 'ERR_CONC';
  /** Stable, machine-readable code; survives crossing threads and processes. */
  declare readonly code: string;
  /** Set on errors rebuilt by {@link errorFromWire}: the stack as it was where the error was thrown. */
  declare readonly remoteStack?: string;

  constructor(message: string, options?: ConcErrorOptions) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
  }

  static {
    defineConcError(this, 'ConcError', 'ERR_CONC');
  }
}

/**
 * Gives an error class its stable `name` and `code` (on the prototype, so the
 * stack header is right from construction) and registers it, so that
 * {@link errorFromWire} rebuilds it with its own class. Call it from a
 * `static {}` block of every subclass.
 */
export function defineConcError(
  cls: { prototype: ConcError; code: string },
  name: string,
  code: string,
): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  Object.defineProperty(cls.prototype, 'code', { value: code, writable: true, configurable: true });
  Object.defineProperty(cls.prototype, BRAND, { value: true });
  Object.defineProperty(cls, 'code', { value: code });
  const map = classes();
  // The first copy of a package to load wins; later copies describe the same class.
  if (!map.has(name)) map.set(name, cls as ErrorClass);
}

/**
 * True for any error thrown by any copy of a conc package, in this thread or
 * rebuilt from another one. With `code`, also checks the code.
 */
export function isConcError(value: unknown, code?: string): value is ConcError {
  if (typeof value !== 'object' || value === null) return false;
  const branded = (value as Record<symbol, unknown>)[BRAND] === true;
  if (!branded) return false;
  return code === undefined || (value as ConcError).code === code;
}

/**
 * Makes an `isXxxError` guard that recognises an error class by its code, across
 * threads and duplicate package copies.
 */
export function errorGuard<E extends ConcError>(cls: {
  code: string;
  prototype: E;
}): (value: unknown) => value is E {
  const code = cls.code;
  return (value: unknown): value is E => isConcError(value, code);
}

/** An error as plain data: what crosses a thread or process boundary. */
export interface WireError {
  readonly $concError: 1;
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
  readonly cause?: WireError;
  /** Own enumerable fields of the error (e.g. `path`, `size`), when they are plain data. */
  readonly props?: Record<string, unknown>;
}

const OWN_SKIP = new Set(['name', 'message', 'stack', 'cause', 'code']);

function plainEnough(v: unknown, depth = 0): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      if (depth > 3) return false;
      if (Array.isArray(v)) return v.every((x) => plainEnough(x, depth + 1));
      if (Object.getPrototypeOf(v) !== Object.prototype) return false;
      return Object.values(v as object).every((x) => plainEnough(x, depth + 1));
    default:
      return false;
  }
}

/**
 * Turns any thrown value into plain data that JSON, MessagePack or structured
 * clone carry intact: class name, code, message, stack, cause chain and plain
 * own fields.
 */
export function errorToWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error) && !isConcError(error)) {
    return { $concError: 1, name: 'Error', message: String(error) };
  }
  const err = error as Error & { code?: unknown };
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (OWN_SKIP.has(key)) continue;
    const v = (err as unknown as Record<string, unknown>)[key];
    if (plainEnough(v)) props[key] = v;
  }
  const wire: {
    -readonly [K in keyof WireError]: WireError[K];
  } = { $concError: 1, name: err.name, message: err.message };
  if (typeof err.code === 'string') wire.code = err.code;
  if (typeof err.stack === 'string') wire.stack = err.stack;
  if (err.cause !== undefined && depth < 8) wire.cause = errorToWire(err.cause, depth + 1);
  if (Object.keys(props).length > 0) wire.props = props;
  return wire;
}

/**
 * True when `value` has the shape {@link errorToWire} produces, every field of
 * the right type (it comes from a peer: {@link errorFromWire} relies on it).
 */
export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Record<string, unknown>;
  return (
    w.$concError === 1 &&
    typeof w.name === 'string' &&
    typeof w.message === 'string' &&
    (w.code === undefined || typeof w.code === 'string') &&
    (w.stack === undefined || typeof w.stack === 'string') &&
    (w.props === undefined || (typeof w.props === 'object' && w.props !== null && !Array.isArray(w.props)))
  );
}

/** Built-in error classes by name (a Map: a peer's `name` may be `constructor` or `toString`). */
const BUILTIN = new Map<string, ErrorConstructor>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
]);

/**
 * Rebuilds an error sent with {@link errorToWire}: a conc error comes back as
 * its own class (when its package is loaded here; otherwise as `ConcError`
 * with the original `name` and `code`), a built-in error as its built-in
 * class. The sender's stack is kept in `remoteStack` and appended to `stack`.
 */
export function errorFromWire(wire: WireError): Error {
  const cls = classes().get(wire.name);
  // Reflect.construct with Error as the target makes a real error object (what
  // util.types.isNativeError and test matchers look for) with the right
  // prototype, without running a subclass constructor that expects other arguments.
  let err: Error;
  if (cls) {
    err = Reflect.construct(Error, [], cls as unknown as Function) as Error;
  } else if (wire.code?.startsWith('ERR_CONC')) {
    err = Reflect.construct(Error, [], ConcError) as Error;
    Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true });
  } else {
    const Builtin = BUILTIN.get(wire.name);
    err = Reflect.construct(Builtin ?? Error, []) as Error;
    if (!Builtin)
      Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true });
  }
  Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
  // A rebuilt conc error already has its class's code on the prototype, as the original did.
  if (wire.code !== undefined && wire.code !== (err as { code?: unknown }).code) {
    Object.defineProperty(err, 'code', {
      value: wire.code,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  if (wire.props) {
    for (const [k, v] of Object.entries(wire.props)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      Object.defineProperty(err, k, { value: v, writable: true, configurable: true, enumerable: true });
    }
  }
  if (wire.cause !== undefined && isWireError(wire.cause)) {
    Object.defineProperty(err, 'cause', {
      value: errorFromWire(wire.cause),
      writable: true,
      configurable: true,
    });
  }
  const local = new Error().stack?.split('\n').slice(1).join('\n') ?? '';
  const remote = wire.stack ?? `${wire.name}: ${wire.message}`;
  Object.defineProperty(err, 'remoteStack', { value: remote, writable: true, configurable: true });
  Object.defineProperty(err, 'stack', {
    value: `${remote}\n    --- rethrown across a boundary ---\n${local}`,
    writable: true,
    configurable: true,
  });
  return err;
}

/**
 * A value could not be serialized (a function, a symbol, a throwing getter...).
 * Thrown by the sending call (`put`, `send`, `set`), so nothing is enqueued or
 * written and the channel stays usable.
 */
export class SerializationError extends ConcError {
  /** Where in the value the offending part sits, e.g. `items[3].callback`; `''` for the root. */
  readonly path: string;
  constructor(message: string, options?: ConcErrorOptions & { path?: string }) {
    super(message, options);
    this.path = options?.path ?? '';
  }
  static {
    defineConcError(this, 'SerializationError', 'ERR_CONC_SERIALIZATION');
  }
}

/** Bytes could not be decoded: truncated, corrupted or not produced by this codec. */
export class DeserializationError extends ConcError {
  static {
    defineConcError(this, 'DeserializationError', 'ERR_CONC_DESERIALIZATION');
  }
}

/** A frame declared a length over the limit; refused before allocating. */
export class FrameTooLargeError extends ConcError {
  /** The declared (or attempted) size in bytes. */
  readonly size: number;
  /** The limit in force, in bytes. */
  readonly limit: number;
  constructor(size: number, limit: number, options?: ConcErrorOptions) {
    super(`frame of ${size} bytes exceeds the limit of ${limit} bytes`, options);
    this.size = size;
    this.limit = limit;
  }
  static {
    defineConcError(this, 'FrameTooLargeError', 'ERR_CONC_FRAME_TOO_LARGE');
  }
}

/** The peer broke the wire protocol: malformed length prefix, unknown version or codec tag. */
export class ProtocolError extends ConcError {
  static {
    defineConcError(this, 'ProtocolError', 'ERR_CONC_PROTOCOL');
  }
}

/** A token given to `attach()` is malformed, of a newer version, or of a kind whose package is not loaded. */
export class TokenError extends ConcError {
  static {
    defineConcError(this, 'TokenError', 'ERR_CONC_TOKEN');
  }
}

/** True for a {@link SerializationError} from any copy of this package, in any thread. */
export const isSerializationError = errorGuard(SerializationError);
/** True for a {@link DeserializationError} from any copy of this package, in any thread. */
export const isDeserializationError = errorGuard(DeserializationError);
/** True for a {@link FrameTooLargeError} from any copy of this package, in any thread. */
export const isFrameTooLargeError = errorGuard(FrameTooLargeError);
/** True for a {@link ProtocolError} from any copy of this package, in any thread. */
export const isProtocolError = errorGuard(ProtocolError);
/** True for a {@link TokenError} from any copy of this package, in any thread. */
export const isTokenError = errorGuard(TokenError);
