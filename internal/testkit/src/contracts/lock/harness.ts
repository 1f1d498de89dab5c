/**
 * What every part of the lock conformance suite shares: bounded waits, peers
 * started for one test and stopped after it, primitives freed after it.
 */
import { it } from 'vitest';
import { failure as failureOf, sleep, within } from '../../time.js';
import type { LockContractFactory, LockPeer, LockPeerShared, LockPeerTask, Maybe } from './types.js';

export const NOT_OWNED = 'ERR_CONC_LOCK_NOT_OWNED';
export const OVER_RELEASE = 'ERR_CONC_SEMAPHORE_OVER_RELEASE';
export const BROKEN = 'ERR_CONC_BROKEN_BARRIER';
export const ACQUIRE_TIMEOUT = 'ERR_CONC_ACQUIRE_TIMEOUT';
/** Bound of every blocking step: far above T_detect (1 s), far below the test timeout. */
export const LIMIT = 10_000;

/** The error (thrown or rejected) of an operation; fails if it succeeds or hangs. */
export const failure = (op: () => unknown) => failureOf<Error & { code?: string }>(op, LIMIT);

/** Lets pending callbacks (and other threads' wake-ups) run for a moment. */
export const settle = (ms = 30): Promise<void> => sleep(ms);

export { within };

/** One run of the suite against one tier. */
export interface LockHarness {
  readonly factory: LockContractFactory;
  /** The peer modes the tier offers: always `'async'`, `'sync'` too with `syncPeers`. */
  readonly modes: ReadonlyArray<'async' | 'sync'>;
  /** fast-check runs of the model tests. */
  readonly runs: number;
  /** Starts a peer, stopped when the test ends. */
  peer(task: LockPeerTask, shared: LockPeerShared): Promise<LockPeer>;
  /** The peer's next message, bounded. */
  next<T>(p: LockPeer, label: string): Promise<T>;
  /** A test whose peers and primitives (`made`) are cleaned up however it ends. */
  test(name: string, fn: (made: unknown[]) => Promise<void>): void;
  /** Awaits a primitive and records it for cleanup. */
  make<T>(made: unknown[], p: Maybe<T>): Promise<T>;
}

/** The harness of one tier's run. */
export function lockHarness(factory: LockContractFactory): LockHarness {
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

  return {
    factory,
    modes: factory.syncPeers ? ['async', 'sync'] : ['async'],
    runs: factory.modelRuns ?? 50,
    peer,
    next,
    test,
    make,
  };
}
