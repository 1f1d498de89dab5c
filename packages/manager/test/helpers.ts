import { randomBytes } from 'node:crypto';
import { fixture, spawnChild, type TrackedChild } from '@conc/testkit';

/** One authkey for the test file: the manager gets it, and so do the peers (in their environment). */
export const AUTHKEY = randomBytes(32);

/** Starts a peer child process with the authkey in its environment (how a child learns it). */
export function startPeer(name: string, payload: unknown): TrackedChild {
  return spawnChild(fixture(import.meta.url, name), [JSON.stringify(payload)], {
    env: { CONC_MANAGER_AUTHKEY: AUTHKEY.toString('hex') },
  });
}
