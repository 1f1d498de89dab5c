/**
 * Waiting on Redis by notification, never by polling: the one wait engine of
 * every Redis primitive (queue gets and puts, joins, locks, events).
 *
 * A primitive that cannot go on pushes nothing and waits; whoever changes its
 * state pushes a *token* on a wake list (`RPUSH`), and a waiter blocked in
 * `BLPOP` on that list wakes, runs its *attempt* (a Lua script) again, and
 * either finishes or waits again. Tokens stay in the list until popped, so a
 * token pushed between a failed attempt and the `BLPOP` is never lost.
 *
 * Each primitive has one blocking connection, duplicated from the user's
 * client (never the user's own), shared by all of its waiters in this
 * process: the waiters queue here in order, and a token is handed to the
 * first waiter listening on its list. Deadlines and aborts are local timers;
 * when the last waiter leaves, `CLIENT UNBLOCK` frees the connection, which
 * then stops keeping the process alive.
 *
 * Some state changes push no token: a lease that runs out (a dead holder).
 * An attempt reports when that could next happen (`retryIn`), and the
 * `BLPOP` is bounded by it, so a dead holder's lock or item is taken over
 * right after its lease ends, not on the next unrelated token.
 */
import { onAbort } from '@conc/serialize/internal';
import type { RedisConnection } from './connection.js';
import { num } from './script.js';

/** What an attempt found: done with a value, or not yet (and when a lease could end). */
export type AttemptResult<R> =
  | { readonly done: true; readonly value: R }
  | { readonly done: false; readonly retryIn?: number };

/** How one waiter waits. */
export interface WaitSpec<R> {
  /** The wake lists whose tokens may let this waiter go on. */
  readonly keys: readonly string[];
  /** Tries again (one script); called after every token for `keys`, and when `retryIn` passes. */
  attempt(): Promise<AttemptResult<R>>;
  /** When the previous (failed) attempt said a lease could end, in ms. */
  readonly retryIn?: number;
  /** Gives back what a successful attempt took when the waiter had left meanwhile (timeout, abort). */
  undo?(value: R): Promise<void>;
  /** The deadline (`performance.now()` clock; Infinity for none). */
  readonly deadline: number;
  /** Cancels the wait: rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** What the wait resolves with (or throws) when the deadline passes. */
  timedOut(): R;
}

interface Waiter {
  readonly spec: WaitSpec<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  retryAt: number;
  busy: boolean;
  /** Why it left while an attempt was in flight: the outcome to settle with after an undo. */
  left: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  cleanup(): void;
}

/** Longest single block: a token lost with a killed waiter delays the others at most this long. */
const SAFETY_MS = 30_000;
/** Backoff after the blocking connection failed (server restarting, connection cut). */
const RETRY_MS = [50, 100, 250, 500, 1000];

/** The wait engine of one primitive instance (see the module comment). */
export class BlockingWaits {
  readonly #main: RedisConnection;
  #conn: Promise<RedisConnection> | undefined;
  #clientId: number | undefined;
  #waiters: Waiter[] = [];
  #running = false;
  #blockedOn: { keys: Set<string>; until: number } | undefined;
  #closed: Error | undefined;
  #failures = 0;

  constructor(main: RedisConnection) {
    this.#main = main;
  }

  /** Waiters in this process right now. */
  get size(): number {
    return this.#waiters.length;
  }

  /** Waiters in this process listening on the wake list `key`. */
  waitingOn(key: string): number {
    let n = 0;
    for (const w of this.#waiters) if (w.spec.keys.includes(key)) n++;
    return n;
  }

  /** Waits as `spec` says; the caller's own first attempt failed already. */
  wait<R>(spec: WaitSpec<R>): Promise<R> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<R>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        spec: spec as WaitSpec<unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
        retryAt: performance.now() + (spec.retryIn ?? Number.POSITIVE_INFINITY),
        busy: false,
        left: undefined,
        cleanup: () => {
          clearTimeout(timer);
          removeAbort();
        },
      };
      const leave = (outcome: Waiter['left']) => {
        if (waiter.busy) {
          waiter.left ??= outcome;
          return;
        }
        this.#remove(waiter);
        waiter.cleanup();
        if (outcome?.ok) resolve(outcome.value as R);
        else reject(outcome?.error);
      };
      const removeAbort = onAbort(spec.signal, (reason) => leave({ ok: false, error: reason }));
      if (spec.deadline !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(
          () => {
            try {
              leave({ ok: true, value: spec.timedOut() });
            } catch (err) {
              leave({ ok: false, error: err });
            }
          },
          Math.max(0, spec.deadline - performance.now()),
        );
      }
      this.#waiters.push(waiter);
      const blocked = this.#blockedOn;
      if (blocked && (spec.keys.some((k) => !blocked.keys.has(k)) || waiter.retryAt < blocked.until)) {
        this.#unblock();
      }
      void this.#run();
    });
  }

  /** Rejects every waiter with `error` and closes the blocking connection. */
  async close(error: Error): Promise<void> {
    if (this.#closed) return;
    this.#closed = error;
    for (const w of this.#waiters.splice(0)) {
      w.cleanup();
      w.reject(error);
    }
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) await (await conn.catch(() => undefined))?.close();
  }

  #remove(waiter: Waiter): void {
    const at = this.#waiters.indexOf(waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
    if (this.#waiters.length === 0 && this.#blockedOn) this.#unblock();
  }

  /** Ends the pending BLPOP early (it returns as on a timeout), so the loop looks again. */
  #unblock(): void {
    const id = this.#clientId;
    if (id === undefined) return;
    this.#main.send('CLIENT', ['UNBLOCK', id]).catch(() => {});
  }

  #connection(): Promise<RedisConnection> {
    if (!this.#conn) {
      const conn = this.#main.duplicate();
      this.#conn = conn;
      conn.catch(() => {
        if (this.#conn === conn) this.#conn = undefined;
      });
    }
    return this.#conn;
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    let conn: RedisConnection | undefined;
    try {
      while (this.#waiters.length > 0 && !this.#closed) {
        let popped: string | undefined;
        try {
          conn = await this.#connection();
          // What to wait for is read after every await: a waiter may have come meanwhile.
          const now = performance.now();
          const due = this.#waiters.filter((w) => w.retryAt <= now);
          if (due.length > 0) {
            await this.#attempt(due);
            continue;
          }
          if (this.#waiters.length === 0 || this.#closed) break;
          const keys = new Set<string>();
          let until = now + SAFETY_MS;
          for (const w of this.#waiters) {
            for (const k of w.spec.keys) keys.add(k);
            until = Math.min(until, w.retryAt);
          }
          conn.setRef?.(true);
          popped = await this.#pop(conn, keys, until);
          this.#failures = 0;
        } catch (err) {
          if (this.#closed) break;
          // The connection failed (cut, server restarting): back off, then every waiter
          // tries again; an attempt that fails for the same reason fails its waiter clearly.
          const conn = this.#conn;
          this.#conn = undefined;
          this.#clientId = undefined;
          void conn?.then((c) => c.close()).catch(() => {});
          await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(this.#failures++, RETRY_MS.length - 1)]));
          await this.#attempt([...this.#waiters], err);
          continue;
        }
        const listening =
          popped === undefined
            ? [...this.#waiters]
            : this.#waiters.filter((w) => w.spec.keys.includes(popped));
        if (popped !== undefined && listening.length === 0) {
          // Everyone it was for left meanwhile: the token goes back for another process's waiter.
          await this.#main.send('LPUSH', [popped, '1']).catch(() => {});
          continue;
        }
        await this.#attempt(listening, undefined, popped !== undefined);
      }
    } finally {
      this.#running = false;
      this.#blockedOn = undefined;
      if (!this.#closed) (await this.#conn?.catch(() => undefined))?.setRef?.(false);
    }
  }

  /** One BLPOP on `keys` until `until` at the latest; resolves the key a token came from, or undefined. */
  async #pop(conn: RedisConnection, keys: Set<string>, until: number): Promise<string | undefined> {
    const seconds = Math.max(0.01, (until - performance.now()) / 1000);
    this.#blockedOn = { keys, until };
    // CLIENT ID goes first on the same connection: then CLIENT UNBLOCK can end this BLPOP.
    const id = conn.send('CLIENT', ['ID']).then((x) => {
      this.#clientId = num(x);
    });
    try {
      const [, reply] = await Promise.all([id, conn.send('BLPOP', [...keys, seconds.toFixed(3)])]);
      if (!Array.isArray(reply)) return undefined;
      const key = reply[0];
      return key instanceof Uint8Array ? Buffer.from(key).toString() : String(key);
    } finally {
      this.#blockedOn = undefined;
    }
  }

  /**
   * Runs the attempts of `waiters` in order. After a token (`oneToken`), the
   * first failed attempt ends the round: the token meant one change, and it
   * was not enough for that waiter, so it is not for those behind it either.
   */
  async #attempt(waiters: Waiter[], failure?: unknown, oneToken = false): Promise<void> {
    for (const w of waiters) {
      if (!this.#waiters.includes(w)) continue;
      w.busy = true;
      let result: AttemptResult<unknown> | undefined;
      let error: unknown;
      try {
        result = await w.spec.attempt();
      } catch (err) {
        error = err;
      }
      w.busy = false;
      if (w.left) {
        if (result?.done) await w.spec.undo?.(result.value).catch(() => {});
        this.#remove(w);
        w.cleanup();
        if (w.left.ok) w.resolve(w.left.value);
        else w.reject(w.left.error);
        continue;
      }
      if (result === undefined) {
        // The attempt itself failed: with the blocking connection down too, the waiter is told.
        if (failure !== undefined || error !== undefined) {
          this.#remove(w);
          w.cleanup();
          w.reject(error ?? failure);
        }
        continue;
      }
      if (result.done) {
        this.#remove(w);
        w.cleanup();
        w.resolve(result.value);
        continue;
      }
      w.retryAt = performance.now() + (result.retryIn ?? Number.POSITIVE_INFINITY);
      if (oneToken) break;
    }
  }
}
