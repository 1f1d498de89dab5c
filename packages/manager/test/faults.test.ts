/**
 * RELIABILITY 28-35 for the manager, with real processes: dead clients, a
 * dead server, a dead starter, and hostile or broken connections.
 */
import { connect, type Socket } from 'node:net';
import { isAuthenticationError } from '@conc/pipe';
import { attach, share } from '@conc/serialize';
import { eventually, fixture, spawnChild, spawnProcess, within } from '@conc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isManagerUnavailableError, Manager } from '../src/index.js';
import { AUTHKEY } from './helpers.js';

let m: Manager;

beforeAll(async () => {
  m = await Manager.start({ authkey: AUTHKEY });
});

afterAll(async () => {
  await m?.shutdown();
});

const LIMIT = 5000;

function startHolder(lock: unknown) {
  return spawnChild(
    fixture(import.meta.url, 'holder.mjs'),
    [JSON.stringify({ lock: share(lock as never) })],
    {
      env: { CONC_MANAGER_AUTHKEY: AUTHKEY.toString('hex'), HOLDER_KEY: AUTHKEY.toString('hex') },
    },
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a client killed while holding a lock and references (RELIABILITY 24, 33)', () => {
  it('the next acquirer gets the lock and is told; the dead client’s objects are freed, death after death', async () => {
    const lock = await m.lock();
    const baseline = (await m.info()).objects;
    for (let round = 0; round < 5; round++) {
      const holder = startHolder(lock);
      expect(await holder.nextMessage(LIMIT)).toEqual({ held: true });
      expect(await lock.acquire({ blocking: false })).toBe(false);
      // dict, list inside it, queue: three objects of the holder's own.
      expect((await m.info()).objects).toBe(baseline + 3);
      const told: number[] = [];
      const waiting = lock.acquire({ timeout: LIMIT * 2, onOwnerDied: (info) => told.push(info.recovered) });
      await holder.kill('SIGKILL');
      expect(await within(waiting, LIMIT, 'acquire after the holder died')).toBe(true);
      expect(told).toEqual([1]);
      await lock.release();
      // The dict, the list it holds and the queue are freed with their only client.
      await eventually(async () => expect((await m.info()).objects).toBe(baseline), { timeout: LIMIT });
    }
  });
});

describe('the server killed (RELIABILITY 34)', () => {
  it('every pending and later call rejects with ManagerUnavailableError; nothing hangs', async () => {
    const doomed = await Manager.start();
    const q = await doomed.queue();
    const lock = await doomed.lock();
    await lock.acquire();
    const d = await doomed.dict();
    const pendingGet = q.get();
    const pendingAcquire = lock.acquire();
    const rejections: unknown[] = [];
    const onUnhandled = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      process.kill(doomed.pid!, 'SIGKILL');
      for (const p of [pendingGet, pendingAcquire]) {
        const err = await within(
          p.then(
            () => 'resolved',
            (e: unknown) => e,
          ),
          LIMIT,
          'pending call',
        );
        expect(isManagerUnavailableError(err)).toBe(true);
      }
      const later = await within(
        d.get('x').then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        LIMIT,
        'later call',
      );
      expect(isManagerUnavailableError(later)).toBe(true);
      expect((later as Error).message).toMatch(/unavailable/);
      await expect(doomed.dict()).rejects.toMatchObject({ code: 'ERR_CONC_MANAGER_UNAVAILABLE' });
    } finally {
      await doomed.shutdown();
      process.off('unhandledRejection', onUnhandled);
    }
    expect(rejections).toEqual([]);
  });
});

describe('the starting process killed', () => {
  it('the forked server exits with it (no orphan)', async () => {
    const starter = spawnChild(fixture(import.meta.url, 'starter.mjs'));
    const { serverPid } = await starter.nextMessage<{ serverPid: number }>(LIMIT * 2);
    expect(alive(serverPid)).toBe(true);
    await starter.kill('SIGKILL');
    await eventually(() => expect(alive(serverPid)).toBe(false), { timeout: LIMIT });
  });
});

describe('hostile and broken connections (RELIABILITY 28-32, 35, 45)', () => {
  it('a wrong authkey is refused with AuthenticationError; the key is in no message', async () => {
    const err = await Manager.connect(m.address, { authkey: 'wrong key', timeout: LIMIT }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isAuthenticationError(err)).toBe(true);
    expect(String(err?.message)).not.toContain(AUTHKEY.toString('hex'));
    expect(String(err?.message)).not.toContain(AUTHKEY.toString('base64'));
  });

  it('garbage bytes and a flood of silent connections leave real clients served', async () => {
    const path = m.address as string;
    const sockets: Socket[] = [];
    try {
      // Fewer than the listener's pending-handshake cap (64): beyond it, newcomers wait for the flood's deadline.
      for (let i = 0; i < 48; i++) {
        const s = connect({ path });
        s.on('error', () => {});
        sockets.push(s);
      }
      const garbage = connect({ path });
      garbage.on('error', () => {});
      sockets.push(garbage);
      garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5]));
      const client = await Manager.connect(m.address, { authkey: AUTHKEY, timeout: LIMIT });
      try {
        const d = await client.dict();
        expect(await d.add('n', 2)).toBe(2);
      } finally {
        await client.shutdown();
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('an oversized frame closes that connection only; the server keeps serving', async () => {
    await using server = await Manager.serve({ authkey: AUTHKEY, maxMessageSize: 4096 });
    const good = await Manager.connect(server.address, { authkey: AUTHKEY });
    const bad = await Manager.connect(server.address, { authkey: AUTHKEY });
    try {
      const d = await good.dict();
      const mine = await bad.dict();
      const err = await mine.set('big', 'x'.repeat(100_000)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isManagerUnavailableError(err)).toBe(true);
      expect(await d.add('n', 1)).toBe(1);
      expect(server.info().clients).toBe(1);
    } finally {
      await good.shutdown();
      await bad.shutdown();
    }
  });

  it('a 4 GiB length header after a good handshake is refused before allocation (from Python)', async () => {
    const before = (await m.info()).clients;
    // Python's own Client authenticates, then writes a bare header announcing a 4 GiB frame.
    const script = [
      'import os, struct',
      'from multiprocessing.connection import Client',
      'c = Client(os.environ["ADDR"], authkey=bytes.fromhex(os.environ["KEY"]))',
      'c._send(struct.pack("!i", -1) + struct.pack("!Q", 4 << 30))',
      'try:',
      '    c.recv_bytes()',
      '    print("answered")',
      'except (EOFError, ConnectionResetError, BrokenPipeError):',
      '    print("closed")',
    ].join('\n');
    const py = spawnProcess('python3', ['-c', script], {
      env: { ADDR: m.address as string, KEY: AUTHKEY.toString('hex') },
    });
    const exit = await within(py.exited, LIMIT * 2, 'python client');
    expect(py.stdout().trim(), py.stderr()).toBe('closed');
    expect(exit.code).toBe(0);
    await eventually(async () => expect((await m.info()).clients).toBe(before), { timeout: LIMIT });
    const d = await m.dict();
    expect(await d.add('still', 1)).toBe(1);
  });

  it('a remote method that throws gives the same class and message; the connection stays usable', async () => {
    const d = await m.dict();
    await expect(d.pop('missing')).rejects.toMatchObject({ name: 'KeyError', code: 'ERR_CONC_MANAGER_KEY' });
    const l = await m.list([1]);
    const err = await l.get(5).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(RangeError);
    expect(err?.message).toBe('list.get: list index 5 out of range');
    expect(await d.add('after', 1)).toBe(1);
  });

  it('unexposed names and freed objects get a clear error', async () => {
    const d = await m.dict();
    for (const name of ['__proto__', 'constructor', '_private', 'toString', 'hasOwnProperty']) {
      await expect(d._call(name, [])).rejects.toMatchObject({ code: 'ERR_CONC_MANAGER_NOT_EXPOSED' });
    }
    const token = share(d);
    const ghost = { ...token, data: { ...(token.data as object), i: 987654 } };
    const freed = attach(ghost) as typeof d;
    await expect(freed.get('x')).rejects.toMatchObject({ code: 'ERR_CONC_MANAGER_OBJECT_FREED' });
    expect(await d.size()).toBe(0);
  });
});
