/**
 * The types of the lock conformance suite: what a tier's primitives must offer
 * (structural, no `@conc/*` import), the peer protocol's tasks, and the
 * factory a tier supplies. The protocol itself is described in `../lock.ts`.
 */
/** A value, or a promise of it (remote tiers answer asynchronously). */
export type Maybe<T> = T | Promise<T>;

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

/** How a semaphore is made. */
export interface ContractSemaphoreOptions {
  /**
   * Give back the permits of a holder that died (a resource pool). Without it
   * (Python's semantics, the default) permits stay taken whatever happens to
   * the thread or process that took them.
   */
  returnPermitsOfDeadHolders?: boolean;
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
  /** A semaphore; `options.returnPermitsOfDeadHolders` asks for the resource-pool flavour (see the owner-death tests). */
  createSemaphore(value: number, options?: ContractSemaphoreOptions): Maybe<ContractSemaphore>;
  createBoundedSemaphore(value: number, options?: ContractSemaphoreOptions): Maybe<ContractSemaphore>;
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
