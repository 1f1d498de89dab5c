/**
 * The server's objects and their reference counts (Python's `id_to_obj` and
 * `id_to_refcount`). An object lives while something refers to it: a proxy
 * in some client (counted per session, so a dead client's references drop at
 * once), a reference lent to a token in transit, or a proxy stored inside
 * another shared object (held by the server, released with its container or
 * when the server's garbage collector drops it). At zero the object is freed.
 */
import { randomBytes } from 'node:crypto';
import { ObjectFreedError } from '../errors.js';
import type { ProxyTokenData } from '../protocol.js';
import type { Session } from './session.js';

/** How long a lent reference waits to be adopted before it is dropped. */
const LEND_MS = 60_000;

/** One shared object. */
export interface Entry {
  readonly id: number;
  readonly typeId: string;
  readonly obj: object;
  /** Methods a proxy may call. */
  readonly exposed: ReadonlySet<string>;
  /** Built-in objects take the call context as their first argument. */
  readonly builtin: boolean;
  /** Exposed list sent in tokens (registered types only). */
  readonly exposedList: readonly string[] | undefined;
  refs: number;
}

interface Lend {
  readonly id: number;
  readonly timer: NodeJS.Timeout | undefined;
}

export class ObjectTable {
  readonly #entries = new Map<number, Entry>();
  readonly #lends = new Map<string, Lend>();
  #nextId = 0;
  readonly #serverRefs = new FinalizationRegistry<number>((id) => this.decref(id));
  readonly address: ProxyTokenData['a'];
  readonly serverId: string;

  constructor(address: ProxyTokenData['a'], serverId: string) {
    this.address = address;
    this.serverId = serverId;
  }

  /** Live objects. */
  get size(): number {
    return this.#entries.size;
  }

  add(typeId: string, obj: object, exposed: ReadonlySet<string>, builtin: boolean): Entry {
    const entry: Entry = {
      id: ++this.#nextId,
      typeId,
      obj,
      exposed,
      builtin,
      exposedList: builtin ? undefined : [...exposed],
      refs: 0,
    };
    this.#entries.set(entry.id, entry);
    return entry;
  }

  /** The entry of `id`, or ObjectFreedError. */
  get(id: unknown): Entry {
    const entry = typeof id === 'number' ? this.#entries.get(id) : undefined;
    if (!entry)
      throw new ObjectFreedError(
        `object ${String(id)} does not exist on the manager (freed, or never created)`,
      );
    return entry;
  }

  /** Adds a reference held by a session. */
  increfFor(session: Session, entry: Entry): void {
    entry.refs++;
    session.refs.set(entry.id, (session.refs.get(entry.id) ?? 0) + 1);
  }

  /** Drops one of a session's references. */
  decrefFor(session: Session, id: number): void {
    const n = session.refs.get(id);
    if (n === undefined) return;
    if (n <= 1) session.refs.delete(id);
    else session.refs.set(id, n - 1);
    this.decref(id);
  }

  /** Drops every reference of a session that ended. */
  dropSession(session: Session): void {
    for (const [id, n] of session.refs) for (let k = 0; k < n; k++) this.decref(id);
    session.refs.clear();
  }

  decref(id: number): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    if (--entry.refs > 0) return;
    this.#entries.delete(id);
    // What the freed object held (a list proxy stored in a dict) is released with it.
    const contents = (entry.obj as { contents?: () => Iterable<unknown> }).contents?.();
    if (contents) for (const value of contents) this.#releaseWithin(value, 0);
  }

  #releaseWithin(value: unknown, depth: number): void {
    if (typeof value !== 'object' || value === null || depth > 4) return;
    if ((value as { _local?: unknown })._local === this) {
      this.releaseRef(value);
      return;
    }
    const children =
      value instanceof Map
        ? value.values()
        : Array.isArray(value)
          ? value
          : Object.getPrototypeOf(value) === Object.prototype
            ? Object.values(value)
            : [];
    for (const child of children) this.#releaseWithin(child, depth + 1);
  }

  /**
   * Keeps `id` alive for a token in transit under `nonce`, until a process
   * adopts it (or for a minute). A nonce adopted before its lend arrived (the
   * token outran the lending client's message) is remembered instead.
   */
  lend(id: number, nonce: string): void {
    const early = this.#lends.get(nonce);
    if (early) {
      // Adopted already: that adoption took its own reference.
      clearTimeout(early.timer);
      this.#lends.delete(nonce);
      return;
    }
    const entry = this.#entries.get(id);
    if (!entry) return;
    entry.refs++;
    const timer = setTimeout(() => {
      if (this.#lends.delete(nonce)) this.decref(id);
    }, LEND_MS);
    timer.unref();
    this.#lends.set(nonce, { id, timer });
  }

  /** Turns the reference lent under `nonce` into one held by `session` (or by the server). */
  adopt(nonce: string, id: number, session: Session | undefined): Entry {
    const lent = this.#lends.get(nonce);
    const entry = this.get(id);
    if (lent && lent.id === id) {
      clearTimeout(lent.timer);
      this.#lends.delete(nonce);
    } else {
      // The token outran its lend: take a reference now, and let the lend, when it comes, cancel itself.
      entry.refs++;
      const timer = setTimeout(() => this.#lends.delete(nonce), LEND_MS);
      timer.unref();
      this.#lends.set(nonce, { id: -1, timer });
    }
    if (session) session.refs.set(id, (session.refs.get(id) ?? 0) + 1);
    return entry;
  }

  /**
   * Makes `holder` (a proxy decoded inside this server: one stored in a
   * shared object) hold a reference to `entry` until it is garbage-collected
   * or released with its container.
   */
  holdFor(holder: object, entry: Entry): void {
    this.#serverRefs.register(holder, entry.id, holder);
  }

  /** Drops a server-held reference now (its container was freed), instead of at garbage collection. */
  releaseRef(holder: object): void {
    const id = (holder as { _data?: { i?: unknown } })._data?.i;
    if (this.#serverRefs.unregister(holder) && typeof id === 'number') this.decref(id);
  }

  /** Token data for `entry`, lending it a fresh reference. */
  tokenData(entry: Entry): ProxyTokenData {
    const nonce = randomBytes(12).toString('base64url');
    this.lend(entry.id, nonce);
    return {
      a: this.address,
      s: this.serverId,
      i: entry.id,
      t: entry.typeId,
      n: nonce,
      ...(entry.exposedList ? { x: entry.exposedList } : {}),
    };
  }
}
