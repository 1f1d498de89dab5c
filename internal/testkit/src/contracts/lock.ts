/**
 * The conformance suite every lock tier passes (Python's `threading`
 * primitives): the thread tier (shared memory), and later the process, manager
 * and Redis tiers, which speak the same interface. Structural types only (no
 * `@conc/*` import); errors are recognised by their stable `code`.
 *
 * A tier supplies a factory: how to make each primitive, a shared counter that
 * peers update *without* atomicity (so only mutual exclusion keeps it exact),
 * and how to start a *peer* (a worker thread, a child process...) that attaches
 * the primitives it is given and runs one {@link LockPeerTask}. The peer
 * program is the tier's own and follows this protocol:
 *
 * - it posts `{ ready: true }` once attached (`startPeer` consumes it);
 * - `increment` (shared `lock`, `counter`): `times` × { acquire; v = read;
 *   let other threads run; write v + 1; release }, then posts `{ done: times }`;
 *   `lock` may be a Lock, an RLock, a Semaphore(1) or a Condition;
 * - `hold` (shared `target`): acquires `depth` times (default 1), posts
 *   `{ held: true }`, then does nothing until stopped or killed;
 * - `acquire` (shared `target`): posts `{ waiting: true }`, acquires with
 *   `blocking`/`timeout`, posts `{ acquired, ownerDied }` (`ownerDied`: its
 *   `onOwnerDied` handler ran), releases if acquired, posts `{ released: true }`;
 * - `release` (shared `target`): one release; posts `{ ok: true }` or `{ error: code }`;
 * - `consume` (shared `cond`, `counter`): `items` × { acquire; waitFor(counter > 0);
 *   counter -= 1; release }, then posts `{ consumed: items }`;
 * - `condWait` (shared `cond`, `counter`): acquires, posts `{ waiting: true }`
 *   while holding the lock, waits (with `timeout`), adds 1 to the counter if
 *   notified, releases, posts `{ woke: boolean }`;
 * - `notify` (shared `cond`): acquires, notifies one waiter (all with `all`),
 *   releases, posts `{ notified: true }`;
 * - `eventWait` (shared `event`): posts `{ waiting: true }`, waits (with
 *   `timeout`), posts `{ result: boolean }`;
 * - `barrierWait` (shared `barrier`): posts `{ waiting: true }`, then for each
 *   of `cycles` (default 1) waits and posts `{ index }` or `{ error: code }`.
 * `mode: 'sync'` asks for the blocking calls (`acquireSync`, `waitSync`...)
 * where the tier has them.
 *
 * @example
 * ```ts
 * lockContract('thread', {
 *   syncPeers: true,
 *   createLock: () => new Lock(),
 *   ...,
 *   startPeer: async (task, shared) => { ...start a worker with share(...) of each... },
 * });
 * ```
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure as failureOf, sleep, within } from '../time.js';

type Maybe<T> = T | Promise<T>;

/** What `onOwnerDied` receives. */
export interface ContractOwnerDiedInfo {
  readonly threadId?: number;
  readonly primitive?: string;
}

/** Options of acquire. */
export interface ContractAcquireOptions {
  blocking?: boolean;
  timeout?: number;
  signal?: AbortSignal;
  onOwnerDied?: (info: ContractOwnerDiedInfo) => void;
}

/** Options of the waits. */
export interface ContractWaitOptions {
  timeout?: number;
  signal?: AbortSignal;
}

/** A hold released by `release()` or a `using` scope. */
export interface ContractGuard {
  readonly ownerDied: boolean;
  release(): Maybe<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Lock, RLock, Semaphore: what can be acquired and released. */
export interface ContractAcquirable {
  acquire(options?: ContractAcquireOptions): Promise<boolean>;
  release(): Maybe<void>;
  lock(options?: ContractAcquireOptions): Promise<ContractGuard>;
  withLock<T>(fn: (guard: ContractGuard) => T | PromiseLike<T>, options?: ContractAcquireOptions): Promise<T>;
}

/** Lock and RLock. */
export interface ContractLock extends ContractAcquirable {
  locked(): Maybe<boolean>;
}

/** Semaphore and BoundedSemaphore. */
export interface ContractSemaphore extends Omit<ContractAcquirable, 'release'> {
  release(n?: number): Maybe<void>;
}

/** Condition. */
export interface ContractCondition {
  acquire(options?: ContractAcquireOptions): Promise<boolean>;
  release(): Maybe<void>;
  wait(options?: ContractWaitOptions): Promise<boolean>;
  waitFor<T>(predicate: () => T, options?: ContractWaitOptions): Promise<T>;
  notify(n?: number): Maybe<unknown>;
  notifyAll(): Maybe<unknown>;
}

/** Event. */
export interface ContractEvent {
  set(): Maybe<void>;
  clear(): Maybe<void>;
  isSet(): Maybe<boolean>;
  wait(options?: ContractWaitOptions): Promise<boolean>;
}

/** Barrier (`nWaiting` and `broken` may be promises on remote tiers). */
export interface ContractBarrier {
  wait(options?: ContractWaitOptions): Promise<number>;
  reset(): Maybe<void>;
  abort(): Maybe<void>;
  readonly parties: Maybe<number>;
  readonly nWaiting: Maybe<number>;
  readonly broken: Maybe<boolean>;
}

/** A number every peer can read and write, with no atomicity of its own. */
export interface ContractCounter {
  read(): Maybe<number>;
  write(value: number): Maybe<void>;
}

/** One job for a peer (see the module comment for the protocol). */
export type LockPeerTask =
  | { role: 'increment'; mode: 'async' | 'sync'; times: number }
  | { role: 'hold'; mode: 'async' | 'sync'; depth?: number }
  | { role: 'acquire'; mode: 'async' | 'sync'; blocking?: boolean; timeout?: number }
  | { role: 'release' }
  | { role: 'consume'; mode: 'async' | 'sync'; items: number }
  | { role: 'condWait'; mode: 'async' | 'sync'; timeout?: number }
  | { role: 'notify'; all?: boolean }
  | { role: 'eventWait'; mode: 'async' | 'sync'; timeout?: number }
  | { role: 'barrierWait'; mode: 'async' | 'sync'; timeout?: number; cycles?: number };

/** What a peer is given: primitives and counters, by the names the protocol uses. */
export type LockPeerShared = Record<string, unknown>;

/** A running peer. */
export interface LockPeer {
  /** The next message the peer posted (after `{ ready: true }`, which startPeer consumed). */
  next<T = unknown>(timeoutMs?: number): Promise<T>;
  /** Kills the peer abruptly, as a crash would (terminate, SIGKILL); resolves once it is gone. */
  kill(): Promise<void>;
  /** Ends the peer and frees everything (after a kill too). */
  stop(): Promise<void>;
}

/** How a tier plugs into {@link lockContract}. */
export interface LockContractFactory {
  createLock(): Maybe<ContractLock>;
  createRLock(): Maybe<ContractLock>;
  createSemaphore(value: number): Maybe<ContractSemaphore>;
  createBoundedSemaphore(value: number): Maybe<ContractSemaphore>;
  /** A condition on `lock` (a Lock or RLock of this tier), or on a new RLock. */
  createCondition(lock?: ContractLock): Maybe<ContractCondition>;
  createEvent(): Maybe<ContractEvent>;
  createBarrier(parties: number, options?: { timeout?: number; action?: () => void }): Maybe<ContractBarrier>;
  createCounter(): Maybe<ContractCounter>;
  /** Frees a primitive the contract is done with. */
  destroy?(primitive: unknown): Maybe<void>;
  /** Starts a peer and resolves once it posted `{ ready: true }`. */
  startPeer(task: LockPeerTask, shared: LockPeerShared): Promise<LockPeer>;
  /** Whether peers offer the blocking calls (`mode: 'sync'`). @default false */
  readonly syncPeers?: boolean;
  /** Peers in the mutual-exclusion test. @default 4 */
  readonly peers?: number;
  /** Increments per peer in the mutual-exclusion test. @default 1000 */
  readonly increments?: number;
  /** fast-check runs of the model and scheduler tests. @default 50 */
  readonly modelRuns?: number;
}

const NOT_OWNED = 'ERR_CONC_LOCK_NOT_OWNED';
const OVER_RELEASE = 'ERR_CONC_SEMAPHORE_OVER_RELEASE';
const BROKEN = 'ERR_CONC_BROKEN_BARRIER';
const ACQUIRE_TIMEOUT = 'ERR_CONC_ACQUIRE_TIMEOUT';
/** Bound of every blocking step: far above T_detect (1 s), far below the test timeout. */
const LIMIT = 10_000;

/** The error (thrown or rejected) of an operation; fails if it succeeds or hangs. */
const failure = (op: () => unknown) => failureOf<Error & { code?: string }>(op, LIMIT);

/** Lets pending callbacks (and other threads' wake-ups) run for a moment. */
const settle = (ms = 30): Promise<void> => sleep(ms);

/** Runs the lock contract for a tier; every blocking step is bounded. */
export function lockContract(tier: string, factory: LockContractFactory): void {
  const modes: Array<'async' | 'sync'> = factory.syncPeers ? ['async', 'sync'] : ['async'];
  const runs = factory.modelRuns ?? 50;
  const peers: LockPeer[] = [];

  async function peer(task: LockPeerTask, shared: LockPeerShared): Promise<LockPeer> {
    const p = await within(factory.startPeer(task, shared), LIMIT, `start peer ${task.role}`);
    peers.push(p);
    return p;
  }

  async function next<T>(p: LockPeer, label: string): Promise<T> {
    return within(p.next<T>(LIMIT), LIMIT + 1000, label);
  }

  /** Stops every peer a test started, then frees the primitives. */
  async function cleanup(primitives: unknown[]): Promise<void> {
    for (const p of peers.splice(0)) await p.stop();
    for (const x of primitives) await factory.destroy?.(x);
  }

  function test(name: string, fn: (made: unknown[]) => Promise<void>): void {
    it(name, async () => {
      const made: unknown[] = [];
      try {
        await fn(made);
      } finally {
        await cleanup(made);
      }
    });
  }

  async function make<T>(made: unknown[], p: Maybe<T>): Promise<T> {
    const x = await p;
    made.push(x);
    return x;
  }

  describe(`lock contract: ${tier}`, () => {
    describe('Lock', () => {
      test('acquire, locked, release; releasing an unlocked lock throws LockNotOwnedError', async (made) => {
        const lock = await make(made, factory.createLock());
        expect(await lock.locked()).toBe(false);
        expect(await lock.acquire()).toBe(true);
        expect(await lock.locked()).toBe(true);
        await lock.release();
        expect(await lock.locked()).toBe(false);
        expect((await failure(() => lock.release())).code).toBe(NOT_OWNED);
        expect(await lock.locked()).toBe(false);
        expect(await lock.acquire()).toBe(true);
        await lock.release();
      });

      test('blocking:false and timeout resolve false while held; bad options fail at once', async (made) => {
        const lock = await make(made, factory.createLock());
        await lock.acquire();
        expect(await lock.acquire({ blocking: false })).toBe(false);
        expect(await within(lock.acquire({ timeout: 20 }), LIMIT, 'timed acquire')).toBe(false);
        expect(await lock.acquire({ timeout: 0 })).toBe(false);
        const both = await failure(() => lock.acquire({ blocking: false, timeout: 5 }));
        expect(both).toBeInstanceOf(TypeError);
        expect(both.message).toMatch(/timeout/);
        const negative = await failure(() => lock.acquire({ timeout: -1 }));
        expect(negative).toBeInstanceOf(RangeError);
        expect(negative.message).toMatch(/timeout/);
        await lock.release();
        expect(await lock.acquire({ blocking: false })).toBe(true);
        await lock.release();
      });

      test('two tasks of one thread exclude each other; the waiter gets it on release', async (made) => {
        const lock = await make(made, factory.createLock());
        const order: string[] = [];
        await lock.acquire();
        const second = lock.acquire().then((ok) => {
          order.push(`second acquired ${ok}`);
        });
        await settle();
        order.push('first releases');
        await lock.release();
        await within(second, LIMIT, 'second acquire');
        expect(order).toEqual(['first releases', 'second acquired true']);
        await lock.release();
      });

      test('an aborted waiter rejects with the reason, leaves the queue and is never granted', async (made) => {
        const lock = await make(made, factory.createLock());
        await lock.acquire();
        const reason = new Error('stop');
        await expect(lock.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        const ac = new AbortController();
        const aborted = lock.acquire({ signal: ac.signal });
        const next = lock.acquire({ timeout: LIMIT });
        await settle();
        ac.abort(reason);
        await expect(aborted).rejects.toBe(reason);
        await lock.release();
        // The wake-up of the release goes to the live waiter, not the aborted one.
        expect(await within(next, LIMIT, 'waiter after an aborted one')).toBe(true);
        await lock.release();
        expect(await lock.locked()).toBe(false);
      });

      test('a release from another thread throws LockNotOwnedError and changes nothing', async (made) => {
        const lock = await make(made, factory.createLock());
        await lock.acquire();
        const p = await peer({ role: 'release' }, { target: lock });
        expect(await next(p, 'peer release')).toEqual({ error: NOT_OWNED });
        expect(await lock.locked()).toBe(true);
        await lock.release();
      });

      test('lock() guards and withLock release on every exit', async (made) => {
        const lock = await make(made, factory.createLock());
        {
          await using g = await lock.lock();
          expect(g.ownerDied).toBe(false);
          expect(await lock.locked()).toBe(true);
        }
        expect(await lock.locked()).toBe(false);
        expect(await lock.withLock(async () => 42)).toBe(42);
        await expect(
          lock.withLock(() => {
            throw new Error('inside');
          }),
        ).rejects.toThrow('inside');
        expect(await lock.locked()).toBe(false);
        await lock.acquire();
        expect((await failure(() => lock.lock({ timeout: 10 }))).code).toBe(ACQUIRE_TIMEOUT);
        expect((await failure(() => lock.withLock(() => 1, { blocking: false }))).code).toBe(ACQUIRE_TIMEOUT);
        await lock.release();
      });
    });

    describe('mutual exclusion under contention', () => {
      const kinds = ['Lock', 'RLock', 'Semaphore(1)', 'Condition'] as const;
      for (const kind of kinds) {
        for (const mode of modes) {
          test(`${kind}: ${factory.peers ?? 4} ${mode} peers and this thread keep a non-atomic counter exact`, async (made) => {
            const n = factory.peers ?? 4;
            const times = factory.increments ?? 1000;
            const lock =
              kind === 'Lock'
                ? await make(made, factory.createLock())
                : kind === 'RLock'
                  ? await make(made, factory.createRLock())
                  : kind === 'Semaphore(1)'
                    ? await make(made, factory.createSemaphore(1))
                    : await make(made, factory.createCondition(await make(made, factory.createLock())));
            const counter = await make(made, factory.createCounter());
            const started = await Promise.all(
              Array.from({ length: n }, () => peer({ role: 'increment', mode, times }, { lock, counter })),
            );
            const mine = Math.min(200, times);
            for (let i = 0; i < mine; i++) {
              await lock.acquire();
              const v = await counter.read();
              await settle(0);
              await counter.write(v + 1);
              await lock.release();
            }
            for (const p of started) expect(await next(p, 'increments')).toEqual({ done: times });
            expect(await counter.read()).toBe(n * times + mine);
          });
        }
      }
    });

    describe('RLock', () => {
      test('the holder re-enters and must release as many times; others wait meanwhile', async (made) => {
        const r = await make(made, factory.createRLock());
        expect(await r.acquire()).toBe(true);
        expect(await r.acquire()).toBe(true);
        expect(await r.acquire({ blocking: false })).toBe(true);
        const other = await peer({ role: 'acquire', mode: 'async', blocking: false }, { target: r });
        expect(await next(other, 'waiting')).toEqual({ waiting: true });
        expect(await next(other, 'peer try')).toEqual({ acquired: false, ownerDied: false });
        await r.release();
        await r.release();
        expect(await r.locked()).toBe(true);
        await r.release();
        expect(await r.locked()).toBe(false);
        expect((await failure(() => r.release())).code).toBe(NOT_OWNED);
      });

      test('a release from a thread that does not hold it throws LockNotOwnedError', async (made) => {
        const r = await make(made, factory.createRLock());
        await r.acquire();
        const p = await peer({ role: 'release' }, { target: r });
        expect(await next(p, 'peer release')).toEqual({ error: NOT_OWNED });
        expect(await r.locked()).toBe(true);
        await r.release();
      });
    });

    describe('model', () => {
      it(`random acquire/release sequences on a Lock and an RLock agree with a model (${runs} runs)`, async () => {
        type Model = { reentrant: boolean; holds: number };
        type Real = { lock: ContractLock };
        class TryAcquire implements fc.AsyncCommand<Model, Real> {
          check = () => true;
          async run(m: Model, r: Real) {
            const expected = m.holds === 0 || m.reentrant;
            expect(await r.lock.acquire({ blocking: false })).toBe(expected);
            if (expected) m.holds++;
            expect(await r.lock.locked()).toBe(m.holds > 0);
          }
          toString = () => 'acquire({ blocking: false })';
        }
        class Release implements fc.AsyncCommand<Model, Real> {
          check = () => true;
          async run(m: Model, r: Real) {
            if (m.holds === 0) {
              expect((await failure(() => r.lock.release())).code).toBe(NOT_OWNED);
            } else {
              await r.lock.release();
              m.holds--;
            }
            expect(await r.lock.locked()).toBe(m.holds > 0);
          }
          toString = () => 'release()';
        }
        await fc.assert(
          fc.asyncProperty(
            fc.boolean(),
            fc.commands([fc.constant(new TryAcquire()), fc.constant(new Release())], { maxCommands: 30 }),
            async (reentrant, cmds) => {
              const lock = await (reentrant ? factory.createRLock() : factory.createLock());
              try {
                await fc.asyncModelRun(() => ({ model: { reentrant, holds: 0 }, real: { lock } }), cmds);
              } finally {
                await factory.destroy?.(lock);
              }
            },
          ),
          { numRuns: runs },
        );
      });
    });

    describe('Semaphore', () => {
      test('counts permits; release(n) wakes up to n waiters', async (made) => {
        const s = await make(made, factory.createSemaphore(2));
        expect(await s.acquire()).toBe(true);
        expect(await s.acquire()).toBe(true);
        expect(await s.acquire({ blocking: false })).toBe(false);
        const woken: number[] = [];
        const waiters = [1, 2, 3].map((i) => s.acquire({ timeout: LIMIT }).then(() => woken.push(i)));
        await settle();
        expect(woken).toEqual([]);
        await s.release(2);
        await within(
          (async () => {
            while (woken.length < 2) await settle(5);
          })(),
          LIMIT,
          'two waiters woken',
        );
        await settle();
        expect(woken.length).toBe(2);
        await s.release();
        await within(Promise.all(waiters), LIMIT, 'third waiter');
        expect(woken.sort()).toEqual([1, 2, 3]);
        expect(await failure(() => s.release(0))).toBeInstanceOf(RangeError);
      });

      test('an unbounded semaphore can be released above its initial value', async (made) => {
        const s = await make(made, factory.createSemaphore(0));
        await s.release(3);
        for (let i = 0; i < 3; i++) expect(await s.acquire({ blocking: false })).toBe(true);
        expect(await s.acquire({ blocking: false })).toBe(false);
      });

      test('BoundedSemaphore: over-release throws SemaphoreOverReleaseError and changes nothing', async (made) => {
        const s = await make(made, factory.createBoundedSemaphore(2));
        expect((await failure(() => s.release())).code).toBe(OVER_RELEASE);
        await s.acquire();
        expect((await failure(() => s.release(2))).code).toBe(OVER_RELEASE);
        await s.release();
        expect(await s.acquire({ blocking: false })).toBe(true);
        expect(await s.acquire({ blocking: false })).toBe(true);
        expect(await s.acquire({ blocking: false })).toBe(false);
        await s.release(2);
        expect((await failure(() => s.release())).code).toBe(OVER_RELEASE);
      });

      test('a permit released by another thread wakes a waiter here (semaphore as a signal)', async (made) => {
        const s = await make(made, factory.createSemaphore(0));
        const waiting = s.acquire({ timeout: LIMIT });
        const p = await peer({ role: 'release' }, { target: s });
        expect(await next(p, 'peer release')).toEqual({ ok: true });
        expect(await within(waiting, LIMIT, 'signalled acquire')).toBe(true);
      });

      it(`model: random acquire/release sequences agree with a counter (${runs} runs)`, async () => {
        type Model = { value: number; bound: number | undefined };
        type Real = { s: ContractSemaphore };
        class Acquire implements fc.AsyncCommand<Model, Real> {
          check = () => true;
          async run(m: Model, r: Real) {
            const got = await r.s.acquire({ blocking: false });
            expect(got).toBe(m.value > 0);
            if (got) m.value--;
          }
          toString = () => 'acquire';
        }
        class Release implements fc.AsyncCommand<Model, Real> {
          constructor(readonly n: number) {}
          check = () => true;
          async run(m: Model, r: Real) {
            if (m.bound !== undefined && m.value + this.n > m.bound) {
              expect((await failure(() => r.s.release(this.n))).code).toBe(OVER_RELEASE);
            } else {
              await r.s.release(this.n);
              m.value += this.n;
            }
          }
          toString = () => `release(${this.n})`;
        }
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: 3 }),
            fc.boolean(),
            fc.commands(
              [fc.constant(new Acquire()), fc.integer({ min: 1, max: 3 }).map((n) => new Release(n))],
              {
                maxCommands: 30,
              },
            ),
            async (initial, bounded, cmds) => {
              const s = await (bounded
                ? factory.createBoundedSemaphore(initial)
                : factory.createSemaphore(initial));
              try {
                await fc.asyncModelRun(
                  () => ({ model: { value: initial, bound: bounded ? initial : undefined }, real: { s } }),
                  cmds,
                );
              } finally {
                await factory.destroy?.(s);
              }
            },
          ),
          { numRuns: runs },
        );
      });
    });

    describe('Condition', () => {
      test('wait and notify without holding the lock throw LockNotOwnedError', async (made) => {
        const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
        expect((await failure(() => cond.wait({ timeout: 10 }))).code).toBe(NOT_OWNED);
        expect((await failure(() => cond.notify())).code).toBe(NOT_OWNED);
        expect((await failure(() => cond.notifyAll())).code).toBe(NOT_OWNED);
      });

      test('wait({ timeout }) returns false holding the lock again and consumes no later notification', async (made) => {
        const lock = await make(made, factory.createLock());
        const cond = await make(made, factory.createCondition(lock));
        await cond.acquire();
        expect(await within(cond.wait({ timeout: 20 }), LIMIT, 'timed wait')).toBe(false);
        expect(await lock.locked()).toBe(true);
        await cond.release();
        // A waiter that timed out must not swallow the notify meant for the next one.
        const counter = await make(made, factory.createCounter());
        const late = await peer({ role: 'condWait', mode: 'async', timeout: 30 }, { cond, counter });
        expect(await next(late, 'late waiting')).toEqual({ waiting: true });
        expect(await next(late, 'late timed out')).toEqual({ woke: false });
        const waiter = await peer({ role: 'condWait', mode: 'async' }, { cond, counter });
        expect(await next(waiter, 'waiter waiting')).toEqual({ waiting: true });
        await cond.acquire(); // the waiter released it inside wait(): it is queued
        await cond.notify(1);
        await cond.release();
        expect(await next(waiter, 'waiter woke')).toEqual({ woke: true });
        expect(await counter.read()).toBe(1);
      });

      test('an aborted wait rejects holding the lock again, and passes on a notification it had got', async (made) => {
        const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
        const ac = new AbortController();
        const reason = new Error('stop');
        const waiter = async (options: ContractWaitOptions) => {
          await cond.acquire();
          try {
            return await cond.wait(options);
          } finally {
            await cond.release();
          }
        };
        await expect(waiter({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        const aborted = waiter({ signal: ac.signal });
        const other = waiter({ timeout: LIMIT });
        await settle();
        await cond.acquire();
        await cond.notify(1); // the longest waiting: the one about to be aborted
        ac.abort(reason);
        await cond.release();
        await expect(within(aborted, LIMIT, 'aborted wait')).rejects.toBe(reason);
        expect(await within(other, LIMIT, 'the other waiter')).toBe(true);
      });

      for (const mode of modes) {
        test(`notify(1) wakes exactly one of three ${mode} waiters; notifyAll the rest`, async (made) => {
          const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
          const counter = await make(made, factory.createCounter());
          const waiters = [];
          for (let i = 0; i < 3; i++) {
            const w = await peer({ role: 'condWait', mode }, { cond, counter });
            expect(await next(w, 'waiting')).toEqual({ waiting: true });
            waiters.push(w);
          }
          await cond.acquire(); // every waiter is inside wait() once the lock is free again
          await cond.notify(1);
          await cond.release();
          await within(
            (async () => {
              while ((await counter.read()) < 1) await settle(5);
            })(),
            LIMIT,
            'one waiter woken',
          );
          await settle(50);
          expect(await counter.read()).toBe(1);
          await cond.acquire();
          await cond.notifyAll();
          await cond.release();
          for (const w of waiters) expect(await next(w, 'woke')).toEqual({ woke: true });
          expect(await counter.read()).toBe(3);
        });

        test(`no lost wake-ups: ${mode} consumers and a producer notifying one per item`, async (made) => {
          const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
          const counter = await make(made, factory.createCounter());
          const items = 200;
          const consumers = await Promise.all(
            [0, 1, 2].map(() => peer({ role: 'consume', mode, items }, { cond, counter })),
          );
          for (let i = 0; i < items * 3; i++) {
            await cond.acquire();
            await counter.write((await counter.read()) + 1);
            await cond.notify(1);
            await cond.release();
            if (i % 50 === 0) await settle(0);
          }
          for (const c of consumers) expect(await next(c, 'consumed')).toEqual({ consumed: items });
          expect(await counter.read()).toBe(0);
        });
      }

      it(`scheduler: any interleaving of in-thread waiters and notifiers loses no wake-up (${runs} runs)`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.scheduler(),
            fc.integer({ min: 1, max: 4 }),
            fc.integer({ min: 1, max: 3 }),
            async (s, consumers, perConsumer) => {
              const lock = await factory.createLock();
              const cond = await factory.createCondition(lock);
              let available = 0;
              let consumed = 0;
              const step = (label: string) => s.schedule(Promise.resolve(label));
              const consume = async () => {
                for (let i = 0; i < perConsumer; i++) {
                  await step('consumer acquires');
                  await cond.acquire();
                  try {
                    await step('consumer waits');
                    expect(await cond.waitFor(() => available > 0, { timeout: LIMIT })).toBe(true);
                    available--;
                    consumed++;
                  } finally {
                    await cond.release();
                  }
                }
              };
              const produce = async () => {
                for (let i = 0; i < consumers * perConsumer; i++) {
                  await step('producer acquires');
                  await cond.acquire();
                  available++;
                  await step('producer notifies');
                  await cond.notify(1);
                  await cond.release();
                }
              };
              try {
                await s.waitFor(
                  within(
                    Promise.all([...Array.from({ length: consumers }, consume), produce()]),
                    LIMIT,
                    'scheduled consumers and producer',
                  ),
                );
                expect(consumed).toBe(consumers * perConsumer);
                expect(available).toBe(0);
              } finally {
                await factory.destroy?.(cond);
                await factory.destroy?.(lock);
              }
            },
          ),
          { numRuns: runs },
        );
      });

      test('works on an RLock held several times: wait releases every hold and restores them', async (made) => {
        const r = await make(made, factory.createRLock());
        const cond = await make(made, factory.createCondition(r));
        await r.acquire();
        await r.acquire();
        const waiting = cond.wait({ timeout: LIMIT });
        // Another thread can take the lock while this one waits: every hold was released.
        const other = await peer({ role: 'acquire', mode: 'async', timeout: LIMIT }, { target: r });
        expect(await next(other, 'waiting')).toEqual({ waiting: true });
        expect(await next(other, 'other acquired')).toEqual({ acquired: true, ownerDied: false });
        expect(await next(other, 'other released')).toEqual({ released: true });
        const notifier = await peer({ role: 'notify' }, { cond });
        expect(await next(notifier, 'notified')).toEqual({ notified: true });
        expect(await within(waiting, LIMIT, 'rlock wait')).toBe(true);
        await r.release();
        expect(await r.locked()).toBe(true);
        await r.release();
        expect(await r.locked()).toBe(false);
      });
    });

    describe('Event', () => {
      test('set, isSet, clear; wait returns at once when set and false on timeout', async (made) => {
        const e = await make(made, factory.createEvent());
        expect(await e.isSet()).toBe(false);
        expect(await within(e.wait({ timeout: 20 }), LIMIT, 'timed wait')).toBe(false);
        await e.set();
        expect(await e.isSet()).toBe(true);
        expect(await e.wait()).toBe(true);
        await e.clear();
        expect(await e.isSet()).toBe(false);
      });

      test('a waiter returns true even if the flag is cleared again right after set()', async (made) => {
        const e = await make(made, factory.createEvent());
        const waiting = e.wait({ timeout: LIMIT });
        await settle();
        await e.set();
        await e.clear();
        expect(await within(waiting, LIMIT, 'wait across set+clear')).toBe(true);
      });

      for (const mode of modes) {
        test(`set() releases every ${mode} waiter in other threads`, async (made) => {
          const e = await make(made, factory.createEvent());
          const ws = await Promise.all([0, 1, 2].map(() => peer({ role: 'eventWait', mode }, { event: e })));
          for (const w of ws) expect(await next(w, 'waiting')).toEqual({ waiting: true });
          await settle();
          await e.set();
          for (const w of ws) expect(await next(w, 'result')).toEqual({ result: true });
        });
      }
    });

    describe('Barrier', () => {
      for (const mode of modes) {
        test(`three ${mode} parties get distinct indices, two cycles in a row`, async (made) => {
          const b = await make(made, factory.createBarrier(3));
          expect(await b.parties).toBe(3);
          const ps = await Promise.all(
            [0, 1, 2].map(() => peer({ role: 'barrierWait', mode, cycles: 2 }, { barrier: b })),
          );
          for (const p of ps) expect(await next(p, 'waiting')).toEqual({ waiting: true });
          for (let cycle = 0; cycle < 2; cycle++) {
            const got = [];
            for (const p of ps) got.push(((await next(p, `cycle ${cycle}`)) as { index: number }).index);
            expect(got.sort()).toEqual([0, 1, 2]);
          }
          expect(await b.broken).toBe(false);
        });
      }

      test('the last party runs the action once per cycle, before anyone is released', async (made) => {
        let actions = 0;
        const seen: number[] = [];
        const b = await make(made, factory.createBarrier(3, { action: () => void actions++ }));
        const party = async () => {
          const index = await b.wait({ timeout: LIMIT });
          seen.push(actions);
          return index;
        };
        for (let cycle = 1; cycle <= 2; cycle++) {
          const indices = await within(Promise.all([party(), party(), party()]), LIMIT, `cycle ${cycle}`);
          expect(indices.sort()).toEqual([0, 1, 2]);
          expect(actions).toBe(cycle);
        }
        expect(seen).toEqual([1, 1, 1, 2, 2, 2]);
      });

      test('a party that times out breaks it for all; reset() restores it', async (made) => {
        const b = await make(made, factory.createBarrier(3));
        const other = await peer({ role: 'barrierWait', mode: 'async' }, { barrier: b });
        expect(await next(other, 'waiting')).toEqual({ waiting: true });
        expect((await failure(() => b.wait({ timeout: 50 }))).code).toBe(BROKEN);
        expect(await next(other, 'other broken')).toEqual({ error: BROKEN });
        expect(await b.broken).toBe(true);
        expect((await failure(() => b.wait({ timeout: LIMIT }))).code).toBe(BROKEN);
        await b.reset();
        expect(await b.broken).toBe(false);
        const all = [0, 1, 2].map(() => b.wait({ timeout: LIMIT }));
        expect((await within(Promise.all(all), LIMIT, 'after reset')).sort()).toEqual([0, 1, 2]);
      });

      test('abort() and an aborted party break it; nWaiting counts the waiting parties', async (made) => {
        const b = await make(made, factory.createBarrier(3));
        const ac = new AbortController();
        const first = b.wait({ signal: ac.signal });
        const second = b.wait({ timeout: LIMIT });
        await settle();
        expect(await b.nWaiting).toBe(2);
        const reason = new Error('stop');
        ac.abort(reason);
        await expect(first).rejects.toBe(reason);
        expect((await failure(() => second)).code).toBe(BROKEN);
        await b.reset();
        const third = b.wait({ timeout: LIMIT });
        await settle();
        await b.abort();
        expect((await failure(() => third)).code).toBe(BROKEN);
        expect(await b.broken).toBe(true);
        expect(await b.nWaiting).toBe(0);
      });

      test('reset() while parties wait gives them BrokenBarrierError and leaves it usable', async (made) => {
        const b = await make(made, factory.createBarrier(2));
        const waiting = b.wait({ timeout: LIMIT });
        await settle();
        await b.reset();
        expect((await failure(() => waiting)).code).toBe(BROKEN);
        const pair = [b.wait({ timeout: LIMIT }), b.wait({ timeout: LIMIT })];
        expect((await within(Promise.all(pair), LIMIT, 'after reset')).sort()).toEqual([0, 1]);
      });
    });

    describe('owner death (RELIABILITY 21-27)', () => {
      const holders = [
        ['Lock', () => factory.createLock()],
        ['RLock', () => factory.createRLock()],
        ['Semaphore', () => factory.createSemaphore(1)],
        ['BoundedSemaphore', () => factory.createBoundedSemaphore(1)],
      ] as const;
      for (const [name, create] of holders) {
        for (const mode of modes) {
          test(`${name}: a ${mode} holder killed while holding: the next acquirer gets it and is told, once`, async (made) => {
            const target = await make<ContractAcquirable>(made, create());
            const holder = await peer({ role: 'hold', mode, depth: name === 'RLock' ? 2 : 1 }, { target });
            expect(await next(holder, 'held')).toEqual({ held: true });
            expect(await target.acquire({ blocking: false })).toBe(false);
            const told: ContractOwnerDiedInfo[] = [];
            const waiting = target.acquire({ timeout: LIMIT, onOwnerDied: (info) => told.push(info) });
            await holder.kill();
            expect(await within(waiting, LIMIT, 'acquire after the holder died')).toBe(true);
            expect(told).toHaveLength(1);
            expect(told[0]?.primitive).toBe(name);
            await target.release();
            // Told once: the next acquisition is an ordinary one.
            const again: ContractOwnerDiedInfo[] = [];
            {
              await using g = await target.lock({ onOwnerDied: (info) => again.push(info) });
              expect(g.ownerDied).toBe(false);
            }
            expect(again).toEqual([]);
          });
        }
      }

      test('a waiter in another thread takes over from a dead holder and is told', async (made) => {
        const lock = await make(made, factory.createLock());
        const holder = await peer({ role: 'hold', mode: 'async' }, { target: lock });
        expect(await next(holder, 'held')).toEqual({ held: true });
        const waiter = await peer(
          { role: 'acquire', mode: factory.syncPeers ? 'sync' : 'async', timeout: LIMIT },
          { target: lock },
        );
        expect(await next(waiter, 'waiting')).toEqual({ waiting: true });
        await settle();
        await holder.kill();
        expect(await next(waiter, 'waiter acquired')).toEqual({ acquired: true, ownerDied: true });
        expect(await next(waiter, 'waiter released')).toEqual({ released: true });
        await using g = await lock.lock({ timeout: LIMIT, onOwnerDied: () => undefined });
        expect(g.ownerDied).toBe(false);
      });

      test('an onOwnerDied handler that throws hands the lock back still abandoned: the next acquirer is told', async (made) => {
        const lock = await make(made, factory.createLock());
        const holder = await peer({ role: 'hold', mode: 'async' }, { target: lock });
        expect(await next(holder, 'held')).toEqual({ held: true });
        await holder.kill();
        const boom = new Error('cannot repair');
        await expect(
          lock.acquire({
            timeout: LIMIT,
            onOwnerDied: () => {
              throw boom;
            },
          }),
        ).rejects.toBe(boom);
        await using g = await lock.lock({ timeout: LIMIT, onOwnerDied: () => undefined });
        expect(g.ownerDied).toBe(true);
      });

      test('without a handler the takeover is announced as an OwnerDiedWarning', async (made) => {
        const lock = await make(made, factory.createLock());
        const holder = await peer({ role: 'hold', mode: 'async' }, { target: lock });
        expect(await next(holder, 'held')).toEqual({ held: true });
        await holder.kill();
        const warnings: Error[] = [];
        const onWarning = (w: Error) => warnings.push(w);
        process.on('warning', onWarning);
        try {
          expect(await within(lock.acquire({ timeout: LIMIT }), LIMIT, 'acquire')).toBe(true);
          await within(
            (async () => {
              while (warnings.length === 0) await settle(5);
            })(),
            LIMIT,
            'warning',
          );
        } finally {
          process.off('warning', onWarning);
        }
        expect(warnings[0]?.name).toBe('OwnerDiedWarning');
        expect((warnings[0] as Error & { code?: string }).code).toBe('ERR_CONC_OWNER_DIED');
        await lock.release();
      });

      test('a semaphore gets back every permit of a holder that died', async (made) => {
        const s = await make(made, factory.createSemaphore(3));
        const holder = await peer({ role: 'hold', mode: 'async', depth: 2 }, { target: s });
        expect(await next(holder, 'held')).toEqual({ held: true });
        expect(await s.acquire({ blocking: false })).toBe(true);
        expect(await s.acquire({ blocking: false })).toBe(false);
        await holder.kill();
        let told = 0;
        const onOwnerDied = () => void told++;
        expect(await within(s.acquire({ timeout: LIMIT, onOwnerDied }), LIMIT, 'first recovered')).toBe(true);
        expect(await s.acquire({ timeout: LIMIT, onOwnerDied })).toBe(true);
        expect(await s.acquire({ blocking: false })).toBe(false);
        expect(told).toBe(2);
      });

      for (const mode of modes) {
        test(`a ${mode} waiter killed inside its wait does not swallow the next wake-up`, async (made) => {
          const lock = await make(made, factory.createLock());
          await lock.acquire();
          const doomed = await peer({ role: 'acquire', mode, timeout: LIMIT }, { target: lock });
          expect(await next(doomed, 'doomed waiting')).toEqual({ waiting: true });
          const survivor = await peer({ role: 'acquire', mode, timeout: LIMIT }, { target: lock });
          expect(await next(survivor, 'survivor waiting')).toEqual({ waiting: true });
          await settle(50);
          await doomed.kill();
          await lock.release();
          expect(await next(survivor, 'survivor acquired')).toEqual({ acquired: true, ownerDied: false });
          expect(await next(survivor, 'survivor released')).toEqual({ released: true });
          expect(await lock.acquire({ timeout: LIMIT })).toBe(true);
          await lock.release();
        });
      }

      test('a condition waiter killed while waiting never takes a notification', async (made) => {
        const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
        const counter = await make(made, factory.createCounter());
        const doomed = await peer({ role: 'condWait', mode: 'async' }, { cond, counter });
        expect(await next(doomed, 'doomed waiting')).toEqual({ waiting: true });
        const survivor = await peer({ role: 'condWait', mode: 'async' }, { cond, counter });
        expect(await next(survivor, 'survivor waiting')).toEqual({ waiting: true });
        await cond.acquire();
        await cond.release();
        await doomed.kill();
        await cond.acquire();
        await cond.notify(1);
        await cond.release();
        expect(await next(survivor, 'survivor woke')).toEqual({ woke: true });
        expect(await counter.read()).toBe(1);
      });

      test('a barrier party killed while waiting breaks it for the others', async (made) => {
        const b = await make(made, factory.createBarrier(3));
        const doomed = await peer({ role: 'barrierWait', mode: 'async' }, { barrier: b });
        expect(await next(doomed, 'doomed waiting')).toEqual({ waiting: true });
        const other = await peer(
          { role: 'barrierWait', mode: factory.syncPeers ? 'sync' : 'async' },
          { barrier: b },
        );
        expect(await next(other, 'other waiting')).toEqual({ waiting: true });
        await within(
          (async () => {
            while ((await b.nWaiting) < 2) await settle(5);
          })(),
          LIMIT,
          'both parties waiting',
        );
        await doomed.kill();
        expect(await next(other, 'other broken')).toEqual({ error: BROKEN });
        expect(await b.broken).toBe(true);
        await b.reset();
        const all = [0, 1, 2].map(() => b.wait({ timeout: LIMIT }));
        expect((await within(Promise.all(all), LIMIT, 'after reset')).sort()).toEqual([0, 1, 2]);
      });
    });
  });
}
