import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tracked, untrack } from './registry.js';
import { activeResourceCounts, socketDelta } from './report.js';
import { concSegments, removeLeakedSegments } from './shm.js';
import { sleep } from './time.js';

/** What the process looked like before a test: compared with what it looks like after. */
export interface LeakBaseline {
  readonly handles: Map<string, number>;
  readonly concTempEntries: Set<string>;
  /** `/dev/shm/conc-*` before the test (every process's: the check only counts this test's own). */
  readonly concSegments: Set<string>;
}

/**
 * Entries in the temp dir. Under the setup file that is this process's private
 * one (see `privateTmpdir`), so whatever appears there was made by this test.
 */
function concTempEntries(): Set<string> {
  try {
    return new Set(readdirSync(tmpdir()));
  } catch {
    return new Set();
  }
}

export function takeBaseline(): LeakBaseline {
  return {
    handles: activeResourceCounts(),
    concTempEntries: concTempEntries(),
    concSegments: concSegments(),
  };
}

/**
 * Ends whatever the test left behind and returns a description of each leak:
 * live workers and children, temp dirs and socket files that were not
 * removed, sockets and servers still open, shared memory segments that this
 * process or its children made and nobody removed. Temp dirs from `tempDir()` are
 * removed silently (that is their contract). Sockets get a short grace period,
 * since a close completes on the next turns of the event loop.
 */
export async function collectLeaks(baseline: LeakBaseline, graceMs = 1000): Promise<string[]> {
  const leaks: string[] = [];
  for (const resource of tracked()) {
    if (resource.alive()) {
      if (resource.leakIfAlive) leaks.push(`${resource.describe()} still running after the test`);
      try {
        await resource.destroy();
      } catch (err) {
        leaks.push(`${resource.describe()} could not be ended: ${(err as Error).message}`);
      }
    }
    untrack(resource);
  }
  for (const name of concTempEntries()) {
    if (baseline.concTempEntries.has(name)) continue;
    leaks.push(`temp entry ${join(tmpdir(), name)} left behind`);
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  // After the children are ended: a segment they leave on their way out is counted too.
  for (const name of removeLeakedSegments(baseline.concSegments)) {
    leaks.push(`shared memory segment /dev/shm/${name} left behind`);
  }
  const deadline = Date.now() + graceMs;
  let delta = socketDelta(baseline.handles);
  while (delta.size > 0 && Date.now() < deadline) {
    await sleep(20);
    delta = socketDelta(baseline.handles);
  }
  for (const [type, n] of delta) leaks.push(`${n} ${type} handle(s) opened during the test are still open`);
  return leaks;
}
