import { tracked } from './registry.js';

/** Handle types that stand for a socket, a server or a pipe to another process. */
export const SOCKET_TYPES = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'PipeWrap',
  'PipeServerWrap',
  'TLSWrap',
  'UDPWrap',
]);

/** Counts of this process's active handles by type (`process.getActiveResourcesInfo`). */
export function activeResourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Socket-like handles now, minus those in `baseline`: what a test opened and left open. */
export function socketDelta(baseline: Map<string, number>): Map<string, number> {
  const now = activeResourceCounts();
  const delta = new Map<string, number>();
  for (const type of SOCKET_TYPES) {
    const d = (now.get(type) ?? 0) - (baseline.get(type) ?? 0);
    if (d > 0) delta.set(type, d);
  }
  return delta;
}

/** A human-readable picture of everything alive: what a hung or leaking test left behind. */
export function liveResourceReport(): string {
  const lines: string[] = [];
  const resources = tracked().filter((r) => r.alive());
  lines.push(`live testkit resources: ${resources.length === 0 ? 'none' : ''}`);
  for (const r of resources) lines.push(`  - ${r.describe()}`);
  const counts = [...activeResourceCounts()].map(([t, n]) => `${t}×${n}`).join(', ');
  lines.push(`active handles: ${counts || 'none'}`);
  return lines.join('\n');
}
