/**
 * `share(primitive) → token` and `attach(token) → primitive`.
 *
 * A token is plain data that travels where the primitive cannot: `workerData`,
 * `postMessage`, `process.send`, argv or env. Process- and Redis-tier tokens are
 * JSON-safe; thread-tier tokens carry SharedArrayBuffers and travel by
 * structured clone. Each package registers its kinds when it loads, so the
 * package of a primitive must be imported where the token is attached.
 */
import { TokenError } from './errors.js';
import { describeValue } from './internal/options.js';

/** The method a shareable primitive implements; a global symbol so every package copy agrees. */
export const shareSymbol: unique symbol = Symbol.for('conc.share') as never;

/** The current token format version. A token of a newer version is refused. */
export const TOKEN_VERSION = 1;

/** A primitive that can be shared: it describes itself as a kind and plain data. */
export interface Shareable {
  [shareSymbol](): { kind: string; data: unknown };
}

/**
 * A shared primitive as plain data. `T` is a phantom type: it lets
 * `attach(token)` return the right primitive type and never exists at run time.
 */
export interface Token<T = unknown> {
  readonly $conc: 'token';
  readonly v: number;
  readonly kind: string;
  readonly data: unknown;
  /** @internal phantom: never present */
  readonly __type?: T;
}

/** How a package teaches `attach` to rebuild one kind of primitive. */
export interface KindDefinition<T = unknown> {
  /** Unique, namespaced: `lock.thread.Lock`, `queue.process.Queue`. */
  readonly kind: string;
  /** Rebuilds the primitive from `data`; throws `TokenError` (or a `TypeError`) on bad data. */
  attach(data: unknown): T;
  /**
   * The primitive's class, when instances may be sent inside messages through a
   * conc codec: the codec then writes them as tokens and revives them on decode.
   */
  readonly Class?: abstract new (
    ...args: never[]
  ) => T;
}

const REGISTRY_KEY = Symbol.for('conc.kinds');
const LISTENERS_KEY = Symbol.for('conc.kinds.listeners');

type Registry = Map<string, KindDefinition>;
type Listener = (def: KindDefinition) => void;

function globalSlot<V>(key: symbol, make: () => V): V {
  const g = globalThis as unknown as Record<symbol, V | undefined>;
  let v = g[key];
  if (v === undefined) {
    v = make();
    g[key] = v;
  }
  return v;
}

const registry = (): Registry => globalSlot(REGISTRY_KEY, () => new Map());
const listeners = (): Set<Listener> => globalSlot(LISTENERS_KEY, () => new Set());

/**
 * Registers a kind. Packages call this when they load; registering the same
 * kind again (a second copy of the package) keeps the first definition.
 */
export function registerKind<T>(def: KindDefinition<T>): void {
  if (typeof def.kind !== 'string' || def.kind.length === 0) {
    throw new TypeError('registerKind: kind must be a non-empty string');
  }
  const reg = registry();
  if (reg.has(def.kind)) return;
  reg.set(def.kind, def as KindDefinition);
  for (const fn of listeners()) fn(def as KindDefinition);
}

/** Every registered kind, now and later: codecs use it to learn which classes to revive. */
export function onKind(fn: Listener): void {
  listeners().add(fn);
  for (const def of registry().values()) fn(def);
}

/** True when `value` implements {@link Shareable}. */
export function isShareable(value: unknown): value is Shareable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Shareable>)[shareSymbol] === 'function'
  );
}

/**
 * Describes a primitive as a token to send to another thread or process.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * new Worker(url, { workerData: { lock: share(lock) } });
 * // in the worker:
 * const lock = attach(workerData.lock);
 * ```
 */
export function share<T extends Shareable>(primitive: T): Token<T> {
  if (!isShareable(primitive)) {
    throw new TypeError('share: expected a conc primitive (Lock, Queue, Connection...)');
  }
  const { kind, data } = primitive[shareSymbol]();
  return { $conc: 'token', v: TOKEN_VERSION, kind, data };
}

/** True when `value` looks like a token (it may still be refused by {@link attach}). */
export function isToken(value: unknown): value is Token {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Token).$conc === 'token' &&
    typeof (value as Token).kind === 'string'
  );
}

/**
 * The one check of a token's envelope, for `attach` and for each class's own
 * `attach(token)`: a token object, of this format version, and (when `kind`
 * is given) of that kind. Anything else is a `TokenError` that says what was
 * found.
 */
export function checkToken(what: string, token: unknown, kind?: string): asserts token is Token {
  if (!isToken(token)) {
    throw new TokenError(`${what}: not a conc token (expected the value share() returned)`);
  }
  const v: unknown = token.v;
  if (v !== TOKEN_VERSION) {
    if (typeof v === 'number' && Number.isInteger(v) && v > TOKEN_VERSION) {
      throw new TokenError(
        `${what}: the token is of format version ${v}, newer than this copy of @conc/serialize reads (version ${TOKEN_VERSION}); use the same conc release on both sides`,
      );
    }
    throw new TokenError(
      `${what}: malformed token: its format version must be the number ${TOKEN_VERSION}, got ${describeValue(v)}`,
    );
  }
  if (kind !== undefined && token.kind !== kind) {
    throw new TokenError(`${what}: expected a ${kind} token, got a ${token.kind} token`);
  }
}

/**
 * Rebuilds the primitive a token describes. The primitive's package must be
 * imported in this thread or process.
 *
 * @throws TokenError for a malformed token, one of a newer version, or an unknown kind.
 */
export function attach<T>(token: Token<T>): T;
export function attach(token: unknown): unknown;
export function attach(token: unknown): unknown {
  checkToken('attach', token);
  const def = registry().get(token.kind);
  if (!def) {
    const pkg = token.kind.split('.')[0] ?? token.kind;
    throw new TokenError(
      `attach: unknown kind "${token.kind}"; import @conc/${pkg} in this thread or process before attaching`,
    );
  }
  try {
    return def.attach(token.data);
  } catch (err) {
    if (err instanceof TokenError) throw err;
    throw new TokenError(`attach: malformed ${token.kind} token: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}
