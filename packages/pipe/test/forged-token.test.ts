/**
 * A process-pipe token received from a peer names a directory: it must never
 * make the receiver create, change or delete anything there unless the
 * directory proves it was made for that very pipe (RELIABILITY 42). The
 * receiver is a real child process that decodes the forged token inside a
 * message, uses it, and exits (its exit hooks run too).
 */
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shareSymbol } from '@conc/serialize';
import { fixture, spawnChild, tempDir, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { attach, Pipe, PROCESS_CONNECTION_KIND, SocketConnection, share } from './helpers.js';

const pipeEnd = fixture(import.meta.url, 'pipe-end.mjs');

/** Everything about a directory tree that a create, change or delete would alter (not atime). */
async function snapshot(dir: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    const entry: Record<string, unknown> = {
      path,
      mode: st.mode,
      uid: st.uid,
      size: st.size,
      mtime: st.mtimeMs,
      ctime: st.ctimeMs,
      ino: st.ino,
    };
    out.push(entry);
    if (st.isDirectory()) {
      for (const name of (await readdir(path)).sort()) await visit(join(path, name));
    } else if (st.isFile()) {
      entry.bytes = (await readFile(path)).toString('hex');
    }
  };
  await visit(dir);
  return out;
}

/** A directory of this user that looks like a pipe's meeting place, holding someone's data. */
async function victimDir(withClosedMarker: boolean): Promise<string> {
  const dir = join(await tempDir(), 'conc-pipe-victim1');
  await mkdir(dir, { mode: 0o700 });
  await writeFile(join(dir, 'precious.txt'), 'data nobody may touch\n');
  await mkdir(join(dir, 'nested'), { mode: 0o700 });
  await writeFile(join(dir, 'nested', 'more.bin'), new Uint8Array([1, 2, 3, 255]));
  if (withClosedMarker) await writeFile(join(dir, 'closed'), '');
  return dir;
}

/**
 * A value the codec writes as a process-pipe token naming `dir`: what a hostile peer
 * can put on the wire. The secret is a real one, of a pipe the attacker was given.
 */
function forgedEnd(dir: string, secret: string): SocketConnection {
  const data = { dir, secret, end: 0, readable: true, writable: true, codec: 'msgpack', max: 1 << 20 };
  return Object.create(SocketConnection.prototype, {
    [shareSymbol]: { value: () => ({ kind: PROCESS_CONNECTION_KIND, data }) },
  }) as SocketConnection;
}

describe('a forged process-pipe token (RELIABILITY 42)', () => {
  for (const withClosedMarker of [false, true]) {
    for (const action of ['send', 'close'] as const) {
      const what = `${withClosedMarker ? 'holding' : 'without'} a closed marker`;
      it(`naming a directory ${what}: the receiver decodes it, ${action === 'send' ? 'sends on it' : 'closes it'} and exits, and the directory is untouched`, async () => {
        const victim = await victimDir(withClosedMarker);
        const before = await snapshot(victim);
        // The attacker holds a genuine token of another pipe: it knows a real secret, just not this directory's.
        const [kept, given] = Pipe({ scope: 'process' });
        const givenToken = share(given);
        const { secret } = givenToken.data as { secret: string };

        const [mine, theirs] = Pipe<unknown>({ scope: 'process' });
        await using child = spawnChild(pipeEnd, ['use-received', JSON.stringify(share(theirs)), action]);
        await mine.send({ reply: forgedEnd(victim, secret) });
        const report = (await child.nextMessage(20_000)) as { outcome: string; closed: string };
        if (action === 'send') {
          // Refused at once, with a reason, instead of waiting for a peer that cannot come.
          expect(report.outcome).toMatch(/^ConnectionClosedError: .*refus/);
        }
        expect(report.closed).toBe('resolved');
        // The pipe the forged end arrived on still works.
        expect(await within(mine.recv(), 10_000, 'the real pipe')).toBe('still here');
        await mine.close();
        await kept.close();
        await attach(givenToken).close();
        expect((await within(child.exited, 15_000, 'child exit')).code).toBe(0);
        expect(await snapshot(victim)).toEqual(before);
      });
    }
  }
});
