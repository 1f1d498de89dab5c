/**
 * Holders of process-tier primitives are known by pid plus process start time,
 * never by elapsed time (RELIABILITY 25, 46): a stopped holder keeps its lock,
 * and a row naming a live pid with another start time (a recycled pid) is dead.
 */
import { share } from '@conc/serialize';
import { processIdentity } from '@conc/shared-memory';
import { fixture, spawnChild } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { ALIVE_REUSE_MS, ProcessRegistry } from '../src/process/registry.js';
import { Lock } from '../src/process.js';

const peer = fixture(import.meta.url, 'process-peer.mjs');

describe('process holders by identity', () => {
  it('a SIGSTOPped holder is not taken for dead: its lock stays held, and works once it resumes', async () => {
    using lock = new Lock();
    const holder = spawnChild(peer, [
      JSON.stringify({ task: { role: 'hold', mode: 'async' }, shared: { target: share(lock) } }),
    ]);
    try {
      expect(await holder.nextMessage(20_000)).toEqual({ ready: true });
      expect(await holder.nextMessage(20_000)).toEqual({ held: true });
      holder.child.kill('SIGSTOP');
      // Several wait slices and liveness re-checks pass while it is stopped.
      let told = false;
      expect(await lock.acquire({ timeout: 1500, onOwnerDied: () => (told = true) })).toBe(false);
      expect(told).toBe(false);
      expect(lock.locked()).toBe(true);
      holder.child.kill('SIGCONT');
      await holder.kill('SIGKILL');
      expect(await lock.acquire({ timeout: 20_000, onOwnerDied: () => (told = true) })).toBe(true);
      expect(told).toBe(true);
      lock.release();
    } finally {
      holder.child.kill('SIGCONT');
      await holder.kill('SIGKILL');
    }
  });

  it("a row with a live process's pid but another start time (a recycled pid) reads dead", async () => {
    using lock = new Lock(); // keeps this process's registry open
    const registry = ProcessRegistry.home();
    const child = spawnChild(peer, [
      JSON.stringify({ task: { role: 'hold', mode: 'async' }, shared: { target: share(lock) } }),
    ]);
    try {
      expect(await child.nextMessage(20_000)).toEqual({ ready: true });
      expect(await child.nextMessage(20_000)).toEqual({ held: true });
      const holderTag = Atomics.load(new Int32Array(lock.buffer, lock.byteOffset, 4), 2) & ((1 << 30) - 1);
      expect(registry.holderId(holderTag)).toBe(child.pid);
      expect(registry.isAlive(holderTag)).toBe(true);
      // Rewrite the holder's row as a recycled pid would look: same pid, an earlier start.
      const identity = processIdentity(child.pid);
      expect(identity).toBeDefined();
      const rows = new Int32Array(registry.buffer);
      const at = 8 + (holderTag >>> 20) * 4; // header words + slot * row words
      Atomics.store(rows, at + 2, (identity!.startTime - 1) % 0x80000000);
      // Past the time an "alive" answer is reused, the row is read again, against /proc.
      await new Promise((resolve) => setTimeout(resolve, ALIVE_REUSE_MS + 10));
      expect(registry.isAlive(holderTag)).toBe(false);
      expect(child.child.exitCode).toBeNull(); // the process itself still runs
    } finally {
      await child.kill('SIGKILL');
    }
  });
});
