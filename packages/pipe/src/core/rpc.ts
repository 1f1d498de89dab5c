/**
 * A small request/response layer over any {@link Connection}: what the
 * process tiers of queue and lock and the manager ride on.
 *
 * Either side may call the other. Calls carry ids, so many can be in flight
 * and answers may come back in any order. A handler's error travels back as
 * data (`errorToWire`) and is rebuilt as the same class on the caller's side.
 * When the connection ends (the peer closed or died), every call still
 * waiting rejects with `ConnectionClosedError` and every running handler's
 * signal is aborted: nothing waits forever.
 *
 * Wire format (arrays, so every codec carries it):
 * `[0, id, method, args]` call · `[1, id, value]` result · `[2, id, error]` failure ·
 * `[3, method, args]` notification · `[4, id]` cancel.
 */
import { errorFromWire, errorToWire, isWireError, ProtocolError } from '@conc/serialize';
import {
  ConnectionClosedError,
  isConnectionClosedError,
  PipeTimeoutError,
  UnknownMethodError,
} from '../errors.js';
import { type Connection, type InternalRecvOptions, kHold } from './connection.js';
import { checkTimeout, deferred, type WaitOptions, waitWith } from './deadline.js';

const CALL = 0;
const RESULT = 1;
const FAILURE = 2;
const NOTIFY = 3;
const CANCEL = 4;

/** What a handler learns about the call it serves. */
export interface RpcContext {
  /** The method name called. */
  readonly method: string;
  /** Aborted when the caller cancels (timeout or abort) or the connection ends. */
  readonly signal: AbortSignal;
  /** The peer the call came from (to call back). */
  readonly peer: RpcPeer;
}

/** Serves one method: receives the call's arguments, returns (or resolves with) the result. */
export type RpcHandler = (args: unknown[], context: RpcContext) => unknown;

/** The methods a peer exposes: own properties of an object, or a Map. */
export type RpcHandlers = Readonly<Record<string, RpcHandler>> | ReadonlyMap<string, RpcHandler>;

/** Options of {@link RpcPeer}. */
export interface RpcPeerOptions {
  /**
   * Methods the other side may call. Only own properties that are functions
   * count; `__proto__`, `constructor` and the like are always refused.
   * @default {} (this peer only makes calls)
   * @example { get: ([key]) => store.get(key as string) }
   */
  handlers?: RpcHandlers;
  /**
   * Keep the process alive for as long as the connection is open. When false,
   * only calls in flight and running handlers do, so an idle client lets the
   * process exit (a server stays up through its listener).
   * @default false
   */
  keepAlive?: boolean;
  /**
   * Told of what cannot be reported to a caller: a failed notification
   * handler, a protocol error.
   * @default undefined (ignored)
   * @example (err) => console.error(err)
   */
  onError?: (error: Error) => void;
}

/** Options of {@link RpcPeer.call}. */
export interface CallOptions extends WaitOptions {}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const REFUSED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function lookup(handlers: RpcHandlers, method: string): RpcHandler | undefined {
  if (REFUSED_NAMES.has(method)) return undefined;
  if (handlers instanceof Map) {
    const fn = handlers.get(method);
    return typeof fn === 'function' ? fn : undefined;
  }
  if (!Object.hasOwn(handlers, method)) return undefined;
  const fn = (handlers as Record<string, unknown>)[method];
  return typeof fn === 'function' ? (fn as RpcHandler) : undefined;
}

/**
 * One side of a request/response conversation over a connection.
 *
 * @example
 * ```ts
 * // server side
 * new RpcPeer(conn, { handlers: { add: ([a, b]) => (a as number) + (b as number) } });
 * // client side
 * const peer = new RpcPeer(conn);
 * await peer.call('add', [1, 2]); // 3
 * ```
 */
export class RpcPeer {
  readonly #conn: Connection<unknown>;
  readonly #handlers: RpcHandlers;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #calls = new Map<number, PendingCall>();
  readonly #running = new Map<number, AbortController>();
  readonly #done = deferred<Error>();
  #nextId = 0;
  #reason: Error | undefined;
  #releaseKeepAlive: (() => void) | undefined;

  constructor(connection: Connection<unknown>, options: RpcPeerOptions = {}) {
    this.#conn = connection;
    this.#handlers = options.handlers ?? {};
    this.#onError = options.onError;
    if (options.keepAlive) this.#releaseKeepAlive = connection[kHold]();
    void this.#readLoop();
  }

  /** The connection this peer talks over. */
  get connection(): Connection<unknown> {
    return this.#conn;
  }

  /** Calls made by this side still waiting for their answer. */
  get pending(): number {
    return this.#calls.size;
  }

  /** True once the connection has ended. */
  get closed(): boolean {
    return this.#reason !== undefined;
  }

  /** Resolves with the reason once the connection has ended (closed here, by the peer, or lost). */
  get done(): Promise<Error> {
    return this.#done.promise;
  }

  /**
   * Calls `method` on the other side and resolves with what its handler
   * returned (or rejects with what it threw, rebuilt as the same error class).
   *
   * A `timeout` or an abort rejects here at once and tells the other side to
   * abort the handler's signal; the handler may still have finished (its
   * answer is then dropped), so make cancellable work idempotent or pass a
   * server-side timeout as an argument.
   *
   * @throws `ConnectionClosedError` when the connection ends before the answer;
   *   `UnknownMethodError` for a method the peer does not expose;
   *   `SerializationError` when an argument cannot be encoded.
   */
  call<R = unknown>(method: string, args: readonly unknown[] = [], options?: CallOptions): Promise<R> {
    if (this.#reason) return Promise.reject(this.#reason);
    if (typeof method !== 'string') return Promise.reject(new TypeError('call: method must be a string'));
    try {
      checkTimeout('call', options?.timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = ++this.#nextId;
    const release = this.#conn[kHold]();
    const result = waitWith<unknown>(
      `call ${method}`,
      options,
      (ms) => new PipeTimeoutError(`call ${method}: no answer within ${ms} ms`, ms),
      (resolve, reject) => {
        this.#calls.set(id, { resolve, reject });
        this.#conn.send([CALL, id, method, args]).catch((err: unknown) => {
          if (this.#calls.delete(id)) reject(err);
        });
        return () => {
          if (this.#calls.delete(id)) this.#conn.send([CANCEL, id]).catch(() => {});
        };
      },
    );
    return result.finally(release) as Promise<R>;
  }

  /** Calls `method` on the other side without waiting for (or receiving) an answer. */
  notify(method: string, args: readonly unknown[] = []): Promise<void> {
    if (this.#reason) return Promise.reject(this.#reason);
    return this.#conn.send([NOTIFY, method, args]);
  }

  /** Closes the connection; pending calls reject with `ConnectionClosedError`. */
  async close(): Promise<void> {
    await this.#conn.close();
    this.#end(new ConnectionClosedError('the RPC connection was closed'));
  }

  async #readLoop(): Promise<void> {
    const options: InternalRecvOptions = { keepAlive: false };
    for (;;) {
      let message: unknown;
      try {
        message = await this.#conn.recv(options);
      } catch (err) {
        if (isConnectionClosedError(err)) {
          this.#end(err);
        } else {
          // An unreadable message: whichever call it answered would wait forever. End it all.
          const error = new ProtocolError('RPC: received a message that cannot be decoded', { cause: err });
          this.#report(error);
          this.#end(
            new ConnectionClosedError('the RPC connection was closed after a protocol error', { cause: err }),
          );
          void this.#conn.close();
        }
        return;
      }
      let handled: boolean;
      let cause: unknown;
      try {
        handled = this.#dispatch(message);
      } catch (err) {
        // A message that looked right but broke its handler (a peer's bad error record, say).
        handled = false;
        cause = err;
      }
      if (!handled) {
        const error = new ProtocolError(
          'RPC: received a malformed message',
          cause === undefined ? undefined : { cause },
        );
        this.#report(error);
        this.#end(
          new ConnectionClosedError('the RPC connection was closed after a protocol error', { cause: error }),
        );
        void this.#conn.close();
        return;
      }
    }
  }

  /** Handles one message; false when it is not a message of this protocol. */
  #dispatch(message: unknown): boolean {
    if (!Array.isArray(message)) return false;
    const [tag, a, b, c] = message as unknown[];
    switch (tag) {
      case CALL:
        if (typeof a !== 'number' || typeof b !== 'string' || !Array.isArray(c)) return false;
        this.#serve(a, b, c);
        return true;
      case RESULT: {
        if (typeof a !== 'number') return false;
        const call = this.#calls.get(a);
        this.#calls.delete(a);
        call?.resolve(b);
        return true;
      }
      case FAILURE: {
        if (typeof a !== 'number') return false;
        const call = this.#calls.get(a);
        this.#calls.delete(a);
        call?.reject(isWireError(b) ? errorFromWire(b) : new Error(`remote call failed: ${describe(b)}`));
        return true;
      }
      case NOTIFY:
        if (typeof a !== 'string' || !Array.isArray(b)) return false;
        this.#serve(undefined, a, b);
        return true;
      case CANCEL:
        if (typeof a !== 'number') return false;
        this.#running.get(a)?.abort(new PipeTimeoutError('the caller cancelled this call', 0));
        return true;
      default:
        return false;
    }
  }

  #serve(id: number | undefined, method: string, args: unknown[]): void {
    const handler = lookup(this.#handlers, method);
    if (!handler) {
      const error = new UnknownMethodError(method);
      if (id === undefined) this.#report(error);
      else this.#answer([FAILURE, id, errorToWire(error)]);
      return;
    }
    const controller = new AbortController();
    if (this.#reason) controller.abort(this.#reason);
    if (id !== undefined) this.#running.set(id, controller);
    const release = this.#conn[kHold]();
    const context: RpcContext = { method, signal: controller.signal, peer: this };
    new Promise<unknown>((resolve) => resolve(handler(args, context)))
      .then(
        (value) => {
          if (id === undefined) return;
          return this.#conn.send([RESULT, id, value]).catch((err: unknown) => {
            // The result could not be encoded: tell the caller why instead of leaving it waiting.
            if (!isConnectionClosedError(err)) this.#answer([FAILURE, id, errorToWire(err)]);
          });
        },
        (err: unknown) => {
          if (id === undefined) this.#report(err instanceof Error ? err : new Error(String(err)));
          else this.#answer([FAILURE, id, errorToWire(err)]);
        },
      )
      .finally(() => {
        if (id !== undefined) this.#running.delete(id);
        release();
      });
  }

  #answer(message: unknown[]): void {
    this.#conn.send(message).catch(() => {});
  }

  #report(error: Error): void {
    try {
      this.#onError?.(error);
    } catch {
      // A throwing error callback must not break the read loop.
    }
  }

  #end(reason: Error): void {
    if (this.#reason) return;
    this.#reason = reason;
    for (const call of this.#calls.values()) call.reject(reason);
    this.#calls.clear();
    for (const controller of this.#running.values()) controller.abort(reason);
    this.#releaseKeepAlive?.();
    this.#done.resolve(reason);
  }
}

/** A peer's failure value that is not an error record, for a message (its own `toString` may throw). */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
