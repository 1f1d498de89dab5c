/**
 * `Manager`: Python's `multiprocessing.Manager()` and `BaseManager`.
 *
 * `Manager.start()` forks a server process and connects to it;
 * `Manager.serve()` runs a server in this process (for other machines, over
 * TCP with an authkey and optionally TLS); `Manager.connect()` reaches a
 * server someone else started. The factories (`m.dict()`, `m.lock()`...)
 * create an object on the server and return its proxy.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Address } from '@conc/pipe';
import { keyBytes, setDefaultAuthkey } from './client/authkey.js';
import type {
  ArrayProxy,
  DictKey,
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
} from './client/collections.js';
import { ManagerConnection } from './client/connection.js';
import { registerProxies } from './client/kinds.js';
import type { BarrierProxy, ConditionProxy, EventProxy, LockProxy, SemaphoreProxy } from './client/locks.js';
import { type BaseProxy, makeProxy } from './client/proxy.js';
import type { QueueProxy } from './client/queue.js';
import type { Remote } from './client/registered.js';
import { ManagerUnavailableError } from './errors.js';
import { BUILTIN_TYPES, type ProxyTokenData, type RegisteredType } from './protocol.js';
import { ManagerServer, type ServeOptions, type ServerInfo } from './server/server.js';
import type { Typecode } from './server/types/value.js';

/** Options of {@link Manager.start}. */
export interface StartOptions {
  /**
   * The server's authkey. Python's `Manager()` uses the starting process's
   * own key; here a fresh random one is made when none is given. Children
   * that attach proxies need it (see the README: "Passing proxies").
   * @default randomBytes(32)
   */
  authkey?: Uint8Array | string;
  /**
   * Where the server listens.
   * @default a unix socket in a fresh private directory (0700)
   */
  address?: Address;
  /** The server must be up within this many milliseconds. @default 10000 */
  timeout?: number;
}

/** Options of {@link Manager.connect}. */
export interface ManagerConnectOptions {
  /** The server's authkey. */
  authkey: Uint8Array | string;
  /** Connect over TLS (TCP only): `true` or `node:tls` connect options. @default false */
  tls?: ConnectionOptions | boolean;
  /** Connecting and authenticating must finish within this many milliseconds. @default 10000 */
  timeout?: number;
}

/** Options of {@link Manager.barrier}. */
export interface ManagerBarrierOptions {
  /** Run once per cycle, in this process, when the last party arrives and before any is released. */
  action?: () => unknown;
  /** Default timeout of `wait()`, in milliseconds. @default Infinity */
  timeout?: number;
}

// Proxies revive wherever this package is imported (attach, Pipe messages).
registerProxies();

const registered = new Map<string, RegisteredType>();

/** Socket directories of servers this process started: removed on shutdown, or at the latest when this process exits. */
const socketDirs = new Set<string>();
let exitHook = false;

/**
 * A fresh private directory (mkdtemp makes it 0700) for a started server's
 * socket. The starting process owns it, so it is removed even when the
 * server was killed and could not clean up.
 */
function privateSocketDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conc-manager-'));
  socketDirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of socketDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

function removeSocketDir(dir: string | undefined): void {
  if (dir === undefined || !socketDirs.delete(dir)) return;
  rmSync(dir, { recursive: true, force: true });
}

/** Where `Manager.start()` finds the server program (the `./server` export of this package). */
function serverEntry(): string {
  return createRequire(import.meta.url).resolve('@conc/manager/server');
}

/**
 * A connection to a manager server, and the factories of its shared objects.
 *
 * @example
 * ```ts
 * await using m = await Manager.start();
 * const counts = await m.dict();
 * await counts.add('hits', 1);
 * ```
 */
export class Manager implements AsyncDisposable {
  readonly #conn: ManagerConnection;
  readonly #child: ChildProcess | undefined;
  readonly #socketDir: string | undefined;
  #closing: Promise<void> | undefined;

  private constructor(conn: ManagerConnection, child: ChildProcess | undefined, socketDir?: string) {
    this.#conn = conn;
    this.#child = child;
    this.#socketDir = socketDir;
  }

  /**
   * Registers a type the server can make (Python's `BaseManager.register`):
   * `m.create(typeId, ...args)` constructs `exportName` of `module` in the
   * server process and returns a proxy exposing its public methods (or
   * `exposed`). Register before `start()` / `serve()`.
   *
   * @example
   * ```ts
   * Manager.register('Counter', { module: new URL('./counter.js', import.meta.url).href, exportName: 'Counter' });
   * ```
   */
  static register(typeId: string, definition: RegisteredType): void {
    if (typeof typeId !== 'string' || typeId.length === 0)
      throw new TypeError('Manager.register: typeId must be a non-empty string');
    if ((BUILTIN_TYPES as readonly string[]).includes(typeId) || typeId === '*') {
      throw new TypeError(`Manager.register: "${typeId}" is a built-in type`);
    }
    if (typeof definition?.module !== 'string')
      throw new TypeError('Manager.register: module must be a module specifier or URL');
    registered.set(typeId, { ...definition });
  }

  /**
   * The authkey this process uses to attach proxies of managers it did not
   * start or connect to itself (Python's `current_process().authkey`).
   */
  static setDefaultAuthkey(key: Uint8Array | string): void {
    setDefaultAuthkey(key);
  }

  /**
   * Forks a server process and connects to it. The authkey reaches the
   * server over the fork's IPC channel, never through argv or the
   * environment; the server exits when this process exits or dies.
   */
  static async start(options: StartOptions = {}): Promise<Manager> {
    const authkey =
      options.authkey === undefined ? randomBytes(32) : keyBytes(options.authkey, 'Manager.start');
    const timeout = options.timeout ?? 10_000;
    const socketDir = options.address === undefined ? privateSocketDir() : undefined;
    const address = socketDir === undefined ? options.address : join(socketDir, 'manager.sock');
    const child = fork(serverEntry(), [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    try {
      const reply = await new Promise<{ address: Address; serverId: string }>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new ManagerUnavailableError(`Manager.start: the server did not start within ${timeout} ms`),
            ),
          timeout,
        );
        const onExit = (code: number | null, signal: string | null) =>
          reject(
            new ManagerUnavailableError(
              `Manager.start: the server process exited (code ${code}, signal ${signal})`,
            ),
          );
        child.once('exit', onExit);
        child.once('error', reject);
        child.once('message', (m: { address?: Address; serverId?: string; error?: string }) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          if (m.error !== undefined || m.address === undefined || m.serverId === undefined) {
            reject(
              new ManagerUnavailableError(
                `Manager.start: the server failed to start: ${m.error ?? 'no address'}`,
              ),
            );
          } else resolve({ address: m.address, serverId: m.serverId });
        });
        child.send({
          authkey: Buffer.from(authkey).toString('base64'),
          address,
          types: [...registered],
          socketDir,
        });
      });
      const conn = await ManagerConnection.open(reply.address, { authkey, timeout });
      // Its death reaches the proxies as a closed connection (ManagerUnavailableError), not as an 'error' event here.
      child.on('error', () => {});
      // An idle manager must not keep this process alive; its exit ends the server.
      child.unref();
      (child.channel as { unref?: () => void } | undefined)?.unref?.();
      return new Manager(conn, child, socketDir);
    } catch (err) {
      child.kill('SIGKILL');
      removeSocketDir(socketDir);
      throw err;
    }
  }

  /**
   * Runs a manager server in this process until `close()`: the long-lived
   * server of Python's `BaseManager.get_server().serve_forever()`.
   */
  static serve(options: ServeOptions): Promise<ManagerServer> {
    return ManagerServer.listen({ types: registered, ...options });
  }

  /** Connects to a running manager server. */
  static async connect(address: Address, options: ManagerConnectOptions): Promise<Manager> {
    const authkey = keyBytes(options?.authkey, 'Manager.connect');
    const conn = await ManagerConnection.open(address, {
      authkey,
      tls: options.tls,
      timeout: options.timeout,
    });
    return new Manager(conn, undefined);
  }

  /** The server's address (a unix socket path, or `{ host, port }`). */
  get address(): Address {
    return this.#conn.address;
  }

  /** The server's process id, when this manager started it. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Live objects and connected clients on the server (a snapshot). */
  info(): Promise<ServerInfo> {
    return this.#conn.call('info', []);
  }

  async #create<P extends BaseProxy>(typeId: string, args: unknown[]): Promise<P> {
    const data = await this.#conn.call<Omit<ProxyTokenData, 'n'>>('create', [typeId, args]);
    return makeProxy(this.#conn, { ...data, n: '' }) as P;
  }

  /** A shared dict (Python's `manager.dict()`), optionally filled from pairs, a Map or an object. */
  dict<K extends DictKey = DictKey, V = unknown>(
    init?: Iterable<readonly [K, V]> | Record<string, V>,
  ): Promise<DictProxy<K, V>> {
    const plain =
      init === undefined || init instanceof Map || Array.isArray(init)
        ? init
        : Symbol.iterator in init
          ? [...(init as Iterable<readonly [K, V]>)]
          : init;
    return this.#create('dict', [plain]);
  }
  /** A shared list. */
  list<T = unknown>(init?: Iterable<T>): Promise<ListProxy<T>> {
    return this.#create('list', [init === undefined ? undefined : [...init]]);
  }
  /** A shared value with atomic `add` and `compareAndSet`. */
  value<T = unknown>(init: T): Promise<ValueProxy<T>> {
    return this.#create('value', [init]);
  }
  /** A shared typed array (Python's typecodes: `'i'`, `'d'`, `'q'`...), of a length or from values. */
  array<T extends number | bigint = number>(
    typecode: Typecode,
    init: number | ArrayLike<number | bigint>,
  ): Promise<ArrayProxy<T>> {
    return this.#create('array', [typecode, typeof init === 'number' ? init : Array.from(init)]);
  }
  /** A shared namespace of named fields. */
  namespace<T extends Record<string, unknown> = Record<string, unknown>>(
    init?: Partial<T>,
  ): Promise<NamespaceProxy<T>> {
    return this.#create('namespace', [init]);
  }
  /** A shared FIFO queue (`maxsize` 0: unbounded). */
  queue<T = unknown>(options: { maxsize?: number } = {}): Promise<QueueProxy<T>> {
    return this.#create('queue', [options.maxsize ?? 0]);
  }
  /** A shared queue with `taskDone()` and `join()` (every manager queue has them, as Python's). */
  joinableQueue<T = unknown>(options: { maxsize?: number } = {}): Promise<QueueProxy<T>> {
    return this.#create('joinableQueue', [options.maxsize ?? 0]);
  }
  lock(): Promise<LockProxy> {
    return this.#create('lock', []);
  }
  rlock(): Promise<LockProxy> {
    return this.#create('rlock', []);
  }
  semaphore(value = 1): Promise<SemaphoreProxy> {
    return this.#create('semaphore', [value]);
  }
  boundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return this.#create('boundedSemaphore', [value]);
  }
  /** A condition over `lock` (a Lock or RLock proxy of this manager), or over a new RLock. */
  condition(lock?: LockProxy): Promise<ConditionProxy> {
    return this.#create('condition', [lock]);
  }
  event(): Promise<EventProxy> {
    return this.#create('event', []);
  }
  async barrier(parties: number, options: ManagerBarrierOptions = {}): Promise<BarrierProxy> {
    const { action, timeout } = options;
    if (action !== undefined && typeof action !== 'function')
      throw new TypeError('barrier: action must be a function');
    const proxy = await this.#create<BarrierProxy>('barrier', [parties, timeout, action !== undefined]);
    if (action) this.#conn.barrierActions.set(proxy._data.i, action);
    return proxy;
  }
  /** An object of a type registered with {@link Manager.register}. */
  create<T = unknown>(typeId: string, ...args: unknown[]): Promise<Remote<T>> {
    return this.#create(typeId, args);
  }

  /**
   * Disconnects; for a manager this process started, also stops the server
   * process (every other client's calls then fail with
   * `ManagerUnavailableError`). Idempotent.
   */
  shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#conn.close();
      const child = this.#child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // Closing the IPC channel is the server's signal to exit.
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      removeSocketDir(this.#socketDir);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
