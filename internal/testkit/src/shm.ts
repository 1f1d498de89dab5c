/**
 * Shared memory segments (`/dev/shm/conc-*`, made by @conc/shared-memory) that a test
 * left behind. Several test processes (and other people's) share /dev/shm, so only a
 * segment created by this process or by a process the testkit started counts: the
 * creator's pid is read from the segment header (magic "conc-shm" at 0, creator pid as
 * little-endian i32 at 32: packages/shared-memory/src/layout.ts, whose tests check that
 * this reader agrees with it).
 */
import { closeSync, openSync, readdirSync, readSync, unlinkSync } from 'node:fs';
import { spawnedPids } from './registry.js';

const DIRECTORY = '/dev/shm';
const PREFIX = 'conc-';
const MAGIC = 'conc-shm';
const CREATOR_PID_AT = 32;

/** The `conc-` names in /dev/shm now. */
export function concSegments(): Set<string> {
  try {
    return new Set(readdirSync(DIRECTORY).filter((n) => n.startsWith(PREFIX)));
  } catch {
    return new Set();
  }
}

/** The pid that created segment `name`, or undefined if it is not a segment (or is gone). */
export function segmentCreator(name: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(`${DIRECTORY}/${name}`, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(CREATOR_PID_AT + 4);
    if (readSync(fd, head, 0, head.length, 0) < head.length) return undefined;
    if (head.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
    return head.readInt32LE(CREATOR_PID_AT);
  } finally {
    closeSync(fd);
  }
}

/**
 * Segments made since `baseline` by this process or one the testkit started, each
 * removed; returns their names.
 */
export function removeLeakedSegments(baseline: ReadonlySet<string>): string[] {
  const ours = new Set([process.pid, ...spawnedPids()]);
  const leaked: string[] = [];
  for (const name of concSegments()) {
    if (baseline.has(name)) continue;
    const creator = segmentCreator(name);
    if (creator === undefined || !ours.has(creator)) continue;
    leaked.push(name);
    try {
      unlinkSync(`${DIRECTORY}/${name}`);
    } catch {}
  }
  return leaked;
}
