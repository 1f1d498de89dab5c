/**
 * Processes known by pid plus start time: a pid alone is reused by the kernel, the pair
 * is not (a new process with an old pid has a later start time). Liveness is read from
 * /proc, never guessed from elapsed time, so a stalled process is never taken for dead.
 */
import { readFileSync } from 'node:fs';

/** A process, as shared memory records its users (and as the process tier records holders). */
export interface ProcessIdentity {
  readonly pid: number;
  /** When the process started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`). */
  readonly startTime: number;
}

let self: ProcessIdentity | undefined;

/**
 * The identity of a running process (this one by default), or `undefined` when no such
 * process runs (a zombie, killed but not yet reaped, counts as gone).
 */
export function processIdentity(pid: number = process.pid): ProcessIdentity | undefined {
  if (pid === process.pid && self !== undefined) return self;
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields after it
  // start at the last ')'. There, index 0 is field 3 (state) and index 19 is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = Number(fields[19]);
  if (state === 'Z' || state === 'X' || !Number.isSafeInteger(startTime)) return undefined;
  const identity = { pid, startTime };
  if (pid === process.pid) self = identity;
  return identity;
}

/** This process's identity. */
export function thisProcess(): ProcessIdentity {
  const identity = processIdentity();
  if (identity === undefined)
    throw new Error('@conc/shared-memory: cannot read /proc/self/stat (is /proc mounted?)');
  return identity;
}

/** True while the process `identity` names still runs (the same process, not a new one with its pid). */
export function isProcessAlive(identity: ProcessIdentity): boolean {
  if (identity.pid === process.pid) return identity.startTime === thisProcess().startTime;
  return processIdentity(identity.pid)?.startTime === identity.startTime;
}
