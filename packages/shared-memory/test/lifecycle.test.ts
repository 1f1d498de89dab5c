/**
 * No segment outlives its last user: closed, exited, crashed or SIGKILLed (real child
 * processes, real SIGKILL).
 */
import { existsSync } from 'node:fs';
import { share } from '@conc/serialize';
import { concSegments, fixture, segmentCreator, spawnChild, type TrackedChild, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, processIdentity, SharedMemory, sweep } from '../src/index.js';

const LIMIT = 10_000;
const path = (name: string) => `/dev/shm/${name}`;

function holder(how: 'create' | 'attach', arg: unknown): TrackedChild {
  return spawnChild(fixture(import.meta.url, 'holder.mjs'), [how, JSON.stringify(arg)]);
}

async function started(child: TrackedChild): Promise<{ name: string; pid: number }> {
  return child.nextMessage<{ name: string; pid: number }>(LIMIT);
}

describe('lifecycle', () => {
  it('SIGKILL of every user: the segment stays while one lives, and the sweep removes it after', async () => {
    const creator = holder('create', { size: 128 });
    const { name } = await started(creator);
    // This process only passes the token on: it holds no handle, so only the children use it.
    const mine = SharedMemory.attach(name);
    const token = share(mine);
    mine.close();
    const attacher = holder('attach', token);
    await started(attacher);
    await creator.kill('SIGKILL');
    expect(sweep()).not.toContain(name);
    expect(existsSync(path(name))).toBe(true);
    await attacher.kill('SIGKILL');
    expect(sweep()).toEqual(expect.arrayContaining([name]));
    expect(existsSync(path(name))).toBe(false);
  });

  it('a create or attach sweeps too: a killed creator leaves nothing for long', async () => {
    const creator = holder('create', { size: 64 });
    const { name } = await started(creator);
    await creator.kill('SIGKILL');
    expect(existsSync(path(name))).toBe(true);
    SharedMemory.create({ size: 8 }).close();
    expect(existsSync(path(name))).toBe(false);
  });

  it('a user that exits without close(), or crashes, removes its segment on the way out', async () => {
    for (const how of ['exit', 'throw']) {
      const child = holder('create', { size: 64 });
      const { name } = await started(child);
      await child.send(how);
      await within(child.exited, LIMIT, `holder ${how}`);
      expect(existsSync(path(name)), how).toBe(false);
    }
  });

  it('a segment created with track: false survives its users, killed or not, until unlink()', async () => {
    const creator = holder('create', { size: 64, track: false });
    const { name } = await started(creator);
    await creator.kill('SIGKILL');
    expect(sweep()).not.toContain(name);
    SharedMemory.attach(name).close();
    expect(existsSync(path(name))).toBe(true);
    using last = SharedMemory.attach(name);
    last.unlink();
    expect(existsSync(path(name))).toBe(false);
  });

  it('the creator may go first: attached processes keep the segment, the last one removes it', async () => {
    const shm = SharedMemory.create({ size: 64 });
    const child = holder('attach', share(shm));
    const { name, pid } = await started(child);
    expect(name).toBe(shm.name);
    expect(
      shm
        .users()
        .map((u) => u.pid)
        .sort(),
    ).toEqual([process.pid, pid].sort());
    shm.close();
    expect(existsSync(path(name))).toBe(true);
    await child.send('exit');
    await within(child.exited, LIMIT, 'attached child exits');
    expect(existsSync(path(name))).toBe(false);
  });

  it('many processes attaching, closing and sweeping at once: no error, no user left, nothing removed', async () => {
    using shm = SharedMemory.create({ size: 64 });
    const n = 150;
    const children = [0, 1, 2].map(() =>
      spawnChild(fixture(import.meta.url, 'churn.mjs'), [shm.name, String(n)]),
    );
    for (let i = 0; i < 20; i++) {
      expect(sweep()).not.toContain(shm.name);
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const c of children) expect(await c.nextMessage(LIMIT * 3)).toEqual({ errors: 0 });
    await within(Promise.all(children.map((c) => c.exited)), LIMIT, 'churners exit');
    expect(Atomics.load(new Int32Array(shm.buffer), 0)).toBe(3 * n);
    expect(shm.users()).toEqual([processIdentity()]);
    expect(existsSync(path(shm.name))).toBe(true);
  });

  it('a creator killed while creating leaves no half segment: what it left is whole, and is swept', async () => {
    for (let round = 0; round < 5; round++) {
      const child = spawnChild(fixture(import.meta.url, 'create-loop.mjs'));
      expect(await child.nextMessage(LIMIT)).toEqual({ looping: true });
      await new Promise((r) => setTimeout(r, 20 + round * 15));
      await child.kill('SIGKILL');
      const mine = () => [...concSegments()].filter((name) => name.startsWith(`conc-loop-${child.pid}-`));
      // Whatever it left under a name is whole: the header names it as creator (a file given
      // its name before its header was written would not).
      for (const name of mine()) expect(segmentCreator(name), name).toBe(child.pid);
      sweep();
      expect(mine()).toEqual([]);
    }
  });

  it('users are known by pid and start time: a live pid with another start time is dead', () => {
    const me = processIdentity()!;
    expect(isProcessAlive(me)).toBe(true);
    expect(isProcessAlive({ pid: me.pid, startTime: me.startTime - 1 })).toBe(false);
    expect(isProcessAlive({ pid: 0x7ffffffe, startTime: 1 })).toBe(false);
    expect(processIdentity(-1)).toBeUndefined();
  });
});
