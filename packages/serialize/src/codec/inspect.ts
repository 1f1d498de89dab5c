/**
 * The pre-walk every codec runs before encoding: it refuses what the codec
 * would drop or mangle silently, and tells the codec what the value holds
 * (a Map, a cycle, a primitive to send as a token).
 *
 * Two walks share one set of rules (a {@link Profile} per codec):
 * - {@link scan}: the fast one, no paths and no bookkeeping, for the common case;
 *   it gives up on anything unusual (a refused value, deep nesting, a huge
 *   graph) and hands over to
 * - the {@link Inspector}: slower, it tracks the path, cycles and shared
 *   references, catches throwing getters, and throws `SerializationError`
 *   naming the path (`items[3].callback`).
 */
import { SerializationError } from '../errors.js';
import { isShareable } from '../share.js';
import { isRevivable, JSON_SHARED_KEY, tokenOf } from './revive.js';

/** How the walk treats an object that is neither plain nor an array. */
export const Kind = {
  /** Encoded whole by the codec (Date, typed array...); not walked. */
  Leaf: 0,
  /** Walked through its own enumerable string keys (a class instance sent as a plain object). */
  Keys: 1,
  Map: 2,
  Set: 3,
  /** The codec sends `toJSON()`'s result. */
  ToJson: 4,
  /** A registered conc primitive, sent as a token. */
  Shared: 5,
  /** An Error: only its `cause` is walked. */
  Error: 6,
  Refuse: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** What the walk found (bit flags). */
export const Found = {
  Map: 1,
  Shared: 2,
  Cycle: 4,
  /**
   * The same object may be reached twice (a shared reference or a cycle), or
   * the walk could not tell: an encoder that keeps shared references must
   * track them. Clear: every object in the value is reached exactly once.
   */
  Repeat: 8,
} as const;

/** The rules of one codec. */
export interface Profile {
  /** Codec name, for messages. */
  readonly codec: string;
  readonly undefinedOk: boolean;
  /** Which bigints the codec carries. */
  readonly bigint: 'any' | 'int64' | 'none';
  readonly finiteOnly: boolean;
  /** Strings must be valid Unicode (the codec writes UTF-8). */
  readonly wellFormed: boolean;
  /** An own `__proto__` key survives a round trip. */
  readonly protoKeyOk: boolean;
  /** A key the codec reserves for itself. */
  readonly reservedKey?: string;
  /** A cycle is refused (true) or carried (false). */
  readonly refuseCycles: boolean;
  /** Why a cycle back to `o` is refused even though cycles are carried; undefined if it is fine. */
  cycleRefusal?(o: object): string | undefined;
  classify(o: object): Kind;
  /** Why `classify` refused `o` (only called on the failure path). */
  refusal(o: object): string;
}

interface WellFormed {
  isWellFormed(): boolean;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const FAST_DEPTH = 64;
const FAST_BUDGET = 100_000;
/** Deepest nesting any codec accepts. */
export const MAX_DEPTH = 1000;

function bigintOk(p: Profile, v: bigint): boolean {
  return p.bigint === 'any' || (p.bigint === 'int64' && v >= INT64_MIN && v <= UINT64_MAX);
}

let budget = 0;
let found = 0;
/** A fast walk is under way (see {@link scan}). */
let scanning = false;
/** Objects the fast walk reached: the first one alone, then all of them in {@link seen}. */
let objects = 0;
let firstObject: object | undefined;
const seen = new Set<object>();

/** Notes an object the fast walk reached, flagging {@link Found.Repeat} when it was reached before. */
function track(o: object): void {
  if (objects === 0) {
    firstObject = o;
    objects = 1;
    return;
  }
  if (objects === 1) {
    seen.add(firstObject as object);
    objects = 2;
  }
  if (seen.has(o)) found |= Found.Repeat;
  else seen.add(o);
}

/**
 * The fast walk: returns the {@link Found} flags, or -1 when the {@link Inspector}
 * must look (something refused, or a value too deep or too large to judge quickly).
 */
function fast(v: unknown, p: Profile, depth: number): boolean {
  switch (typeof v) {
    case 'object':
      break;
    case 'string':
      return !p.wellFormed || (v as unknown as WellFormed).isWellFormed();
    case 'number':
      return !p.finiteOnly || v - v === 0;
    case 'boolean':
      return true;
    case 'undefined':
      return p.undefinedOk;
    case 'bigint':
      return bigintOk(p, v);
    default:
      return false;
  }
  if (v === null) return true;
  if (depth > FAST_DEPTH || --budget < 0) return false;
  if ((found & Found.Repeat) === 0) track(v);
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return fastKeys(v as Record<string, unknown>, p, depth);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!fast(v[i], p, depth + 1)) return false;
    return true;
  }
  switch (p.classify(v)) {
    case Kind.Leaf:
      return true;
    case Kind.Keys:
      return fastKeys(v as Record<string, unknown>, p, depth);
    case Kind.Map:
      found |= Found.Map;
      for (const [k, x] of v as Map<unknown, unknown>)
        if (!fast(k, p, depth + 1) || !fast(x, p, depth + 1)) return false;
      return true;
    case Kind.Set:
      for (const x of v as Set<unknown>) if (!fast(x, p, depth + 1)) return false;
      return true;
    case Kind.Shared:
      found |= Found.Shared;
      return true;
    case Kind.Error:
      // Its other own fields travel too, unwalked: they might repeat an object.
      found |= Found.Repeat;
      return !Object.hasOwn(v, 'cause') || fast((v as Error).cause, p, depth + 1);
    default:
      // toJSON and refusals: the Inspector decides.
      return false;
  }
}

function fastKeys(o: Record<string, unknown>, p: Profile, depth: number): boolean {
  const finiteOnly = p.finiteOnly;
  for (const k in o) {
    if (k === '__proto__' && !p.protoKeyOk) return false;
    if (k === p.reservedKey) return false;
    if (p.wellFormed && !(k as unknown as WellFormed).isWellFormed()) return false;
    const x = o[k];
    // The commonest values, without a call.
    if (typeof x === 'number' ? !finiteOnly || x - x === 0 : typeof x === 'boolean' || x === null) continue;
    if (!fast(x, p, depth + 1)) return false;
  }
  return true;
}

/**
 * Checks `value` against the codec's rules. Returns the {@link Found} flags;
 * throws `SerializationError` naming the path of the first refused part.
 */
export function scan(value: unknown, p: Profile): number {
  // The fast walk keeps its state in this module: a getter that encodes something while it
  // runs (a scan inside the scan) gets a careful walk of its own instead.
  if (scanning) return new Inspector(p).run(value) | Found.Repeat;
  scanning = true;
  budget = FAST_BUDGET;
  found = 0;
  try {
    if (fast(value, p, 0)) return found;
  } catch {
    // A getter threw, or the stack ran out: the Inspector finds where and says so.
  } finally {
    if (objects > 1) seen.clear();
    objects = 0;
    firstObject = undefined;
    scanning = false;
  }
  // The careful walk does not vouch for single references (toJSON() may return shared objects).
  return new Inspector(p).run(value) | Found.Repeat;
}

/** Explains a failure the codec itself raised: throws SerializationError naming the path. */
export function explain(value: unknown, p: Profile, cause: unknown): never {
  // The inspector throws when it finds the culprit; if it finds nothing, the codec's own error stands.
  new Inspector(p).run(value);
  const msg = (cause as Error)?.message ?? String(cause);
  throw new SerializationError(`${p.codec} codec: cannot serialize the value: ${msg}`, { cause, path: '' });
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** `.name`, `["a b"]`, `[3]`: one step of a path, in JavaScript accessor syntax. */
export function keySegment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return IDENT.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * Joins path segments: `['.items', '[3]', '.callback']` → `items[3].callback`.
 * A leading method step keeps its dot: `.get("ann").callback`.
 */
export function joinPath(segments: readonly string[]): string {
  const s = segments.join('');
  return /^\.[A-Za-z_$][\w$]*(?![\w$(])/.test(s) ? s.slice(1) : s;
}

function mapKeyLabel(key: unknown): string | undefined {
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'number':
    case 'boolean':
      return String(key);
    case 'bigint':
      return `${key}n`;
    case 'undefined':
      return 'undefined';
    default:
      return key === null ? 'null' : undefined;
  }
}

/** A short, human name for a value's type: `a function`, `a WeakMap`, `an instance of Foo`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'object': {
      const tag = Object.prototype.toString.call(v).slice(8, -1);
      const ctor = (v as { constructor?: { name?: unknown } }).constructor;
      const name = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : tag;
      return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
    }
    default:
      return `a ${typeof v}`;
  }
}

/** Reasons shared by several codecs. */
export const reasons = {
  bigint: (codec: string) =>
    codec === 'json'
      ? 'a bigint is not valid JSON (send a string, or use the msgpack codec)'
      : 'a bigint outside the 64-bit range does not fit plain MessagePack (send a string, or use the msgpack codec)',
  undefined: (codec: string) =>
    `undefined is not part of the ${codec} format (omit the property or use null)`,
  nonFinite: 'NaN and Infinity are not valid JSON (they would arrive as null)',
  illFormed: 'a string holding a lone surrogate is not valid Unicode and cannot be written as UTF-8',
  protoKey: 'an own property named "__proto__" would not survive decoding',
  cycle: 'circular reference: the value contains itself',
  tooDeep: `nested more than ${MAX_DEPTH} levels deep`,
  unregistered:
    'this conc primitive cannot travel inside a message (its package registers no class for revival); send share(x) and attach() it on the other side',
};

const OPEN = 0;
const DONE = 1;

/** The careful walk: paths, cycles, shared references, throwing getters. */
class Inspector {
  private readonly seen = new Map<object, number>();
  private readonly path: string[] = [];
  private found = 0;

  constructor(private readonly p: Profile) {}

  run(value: unknown): number {
    this.visit(value);
    return this.found;
  }

  private fail(reason: string, cause?: unknown): never {
    const path = joinPath(this.path);
    const where = path === '' ? 'the value' : path;
    const err = new SerializationError(
      `${this.p.codec} codec: cannot serialize ${where}: ${reason}`,
      cause === undefined ? { path } : { path, cause },
    );
    bareReasons.set(err, reason);
    throw err;
  }

  private child(segment: string, v: unknown): void {
    this.path.push(segment);
    this.visit(v);
    this.path.pop();
  }

  /** Visits `o[key]`, reading it only once the path names it, so a throwing getter is reported there. */
  private property(o: object, key: string | number, segment: string): void {
    this.path.push(segment);
    let v: unknown;
    try {
      v = (o as Record<PropertyKey, unknown>)[key];
    } catch (err) {
      this.fail(`reading the property threw: ${(err as Error)?.message ?? String(err)}`, err);
    }
    this.visit(v);
    this.path.pop();
  }

  private visit(v: unknown): void {
    const p = this.p;
    switch (typeof v) {
      case 'object':
        break;
      case 'string':
        if (p.wellFormed && !(v as unknown as WellFormed).isWellFormed()) this.fail(reasons.illFormed);
        return;
      case 'number':
        if (p.finiteOnly && !Number.isFinite(v)) this.fail(reasons.nonFinite);
        return;
      case 'boolean':
        return;
      case 'undefined':
        if (!p.undefinedOk) this.fail(reasons.undefined(p.codec));
        return;
      case 'bigint':
        if (!bigintOk(p, v)) this.fail(reasons.bigint(p.codec));
        return;
      default:
        this.fail(`${describe(v)} cannot be serialized`);
    }
    if (v === null) return;
    const state = this.seen.get(v);
    if (state !== undefined) {
      if (state === OPEN) {
        if (p.refuseCycles) this.fail(reasons.cycle);
        const refusal = p.cycleRefusal?.(v);
        if (refusal !== undefined) this.fail(refusal);
        this.found |= Found.Cycle;
      }
      return;
    }
    if (this.path.length >= MAX_DEPTH) this.fail(reasons.tooDeep);
    this.seen.set(v, OPEN);
    try {
      this.container(v);
    } catch (err) {
      // Anything else that throws while the value is walked (a Proxy's ownKeys or getPrototypeOf
      // trap, a revoked Proxy, a throwing `constructor` getter) is reported here, where it threw.
      if (bareReasons.has(err as Error)) throw err;
      this.fail(`inspecting it threw: ${(err as Error)?.message ?? String(err)}`, err);
    }
    this.seen.set(v, DONE);
  }

  private container(v: object): void {
    const p = this.p;
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      this.keys(v);
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) this.property(v, i, `[${i}]`);
      return;
    }
    switch (p.classify(v)) {
      case Kind.Leaf:
        return;
      case Kind.Keys:
        this.keys(v);
        return;
      case Kind.Map: {
        this.found |= Found.Map;
        let i = 0;
        for (const [k, x] of v as Map<unknown, unknown>) {
          this.child(`.keys()[${i}]`, k);
          const label = mapKeyLabel(k);
          this.child(label === undefined ? `.values()[${i}]` : `.get(${label})`, x);
          i++;
        }
        return;
      }
      case Kind.Set: {
        let i = 0;
        for (const x of v as Set<unknown>) this.child(`.values()[${i++}]`, x);
        return;
      }
      case Kind.ToJson: {
        let json: unknown;
        try {
          json = (v as { toJSON(): unknown }).toJSON();
        } catch (err) {
          this.fail(`toJSON() threw: ${(err as Error)?.message ?? String(err)}`, err);
        }
        this.child('.toJSON()', json);
        return;
      }
      case Kind.Shared: {
        this.found |= Found.Shared;
        checkToken(v, (reason, cause) => this.fail(reason, cause));
        return;
      }
      case Kind.Error:
        if (Object.hasOwn(v, 'cause')) this.property(v, 'cause', '.cause');
        return;
      default:
        if (isShareable(v) && !isRevivable(v)) this.fail(reasons.unregistered);
        this.fail(p.refusal(v));
    }
  }

  private keys(o: object): void {
    const p = this.p;
    for (const k of Object.keys(o)) {
      if (k === '__proto__' && !p.protoKeyOk) {
        this.path.push(keySegment(k));
        this.fail(reasons.protoKey);
      }
      if (k === p.reservedKey) {
        this.path.push(keySegment(k));
        this.fail(`the key "${k}" is reserved by the ${p.codec} codec`);
      }
      if (p.wellFormed && !(k as unknown as WellFormed).isWellFormed()) {
        this.path.push(keySegment(k));
        this.fail(`the key ${reasons.illFormed.slice(2)}`);
      }
      this.property(o, k, keySegment(k));
    }
  }
}

/** The value rules of JSON, shared by the json codec and the token check. */
export const JSON_RULES = {
  undefinedOk: false,
  bigint: 'none',
  finiteOnly: true,
  wellFormed: false,
  protoKeyOk: true,
  reservedKey: JSON_SHARED_KEY,
  refuseCycles: true,
} as const;

/** The rules a token must meet to travel inside a message: plain JSON data. */
export const tokenProfile: Profile = {
  codec: 'token',
  ...JSON_RULES,
  classify: () => Kind.Refuse,
  refusal: (o) =>
    o instanceof SharedArrayBuffer || (ArrayBuffer.isView(o) && o.buffer instanceof SharedArrayBuffer)
      ? `${describe(o)} (shared memory cannot travel as bytes: pass share(x) through workerData or postMessage instead)`
      : `${describe(o)} is not plain JSON data`,
};

/** What the inspector found wrong, without the codec and path its message adds around it. */
const bareReasons = new WeakMap<Error, string>();

/**
 * The tokens of the primitives met by the encode in progress. Describing a
 * primitive (`share()`) may have side effects and work only once (a pipe end
 * hands itself over), while an encode can meet it twice: in the careful walk,
 * then in the packer. So each one is described once per encode.
 */
let tokens: Map<object, unknown> | undefined;

/** Starts an encode's token memo (unless one is open: a nested encode shares it); pass the result to {@link closeTokens}. */
export function openTokens(): boolean {
  if (tokens) return false;
  tokens = new Map();
  return true;
}

export function closeTokens(opened: boolean): void {
  if (opened) tokens = undefined;
}

/**
 * Describes a primitive as a token fit to travel inside a byte message (plain
 * JSON data), once per encode (see {@link openTokens}). Calls `fail` (which
 * throws) with the reason otherwise.
 */
export function checkToken(instance: object, fail: (reason: string, cause?: unknown) => never): unknown {
  if (tokens?.has(instance)) return tokens.get(instance);
  let token: unknown;
  try {
    token = tokenOf(instance);
  } catch (err) {
    fail((err as Error).message, (err as Error).cause ?? err);
  }
  try {
    scan(token, tokenProfile);
  } catch (err) {
    const kind = (token as { kind?: unknown }).kind;
    const inner = (err as SerializationError).path;
    const detail = bareReasons.get(err as Error) ?? (err as Error).message;
    fail(
      `its ${String(kind)} token cannot travel inside a message: ${inner ? `at ${inner}: ` : ''}${detail}`,
      err,
    );
  }
  tokens?.set(instance, token);
  return token;
}
