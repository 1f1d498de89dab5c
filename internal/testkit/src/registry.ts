/**
 * What the testkit started during the current test, so the leak check can tell
 * what is still alive afterwards and the watchdog can report it.
 */

export interface TrackedResource {
  /** What it is, for reports: `worker fixtures/holder.mjs`, `child pid 1234 (fixtures/server.mjs)`. */
  describe(): string;
  /** True while it still runs or exists. */
  alive(): boolean;
  /** Ends it by force (terminate, SIGKILL, rm -rf); resolves when it is gone. */
  destroy(): Promise<void>;
  /** Whether leaving it alive after a test is a leak (a temp dir is cleaned silently). */
  readonly leakIfAlive: boolean;
}

const live = new Set<TrackedResource>();

export function track(resource: TrackedResource): void {
  live.add(resource);
}

export function untrack(resource: TrackedResource): void {
  live.delete(resource);
}

export function tracked(): TrackedResource[] {
  return [...live];
}

const spawned = new Set<number>();

/** Records the pid of a process a test started: the leak check owns what such processes leave. */
export function noteSpawned(pid: number | undefined): void {
  if (pid !== undefined) spawned.add(pid);
}

/** Every pid the testkit has started in this process, dead or alive. */
export function spawnedPids(): ReadonlySet<number> {
  return spawned;
}
