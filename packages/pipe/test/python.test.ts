/**
 * Interop with the machine's real python3 (`multiprocessing.connection`):
 * a Python Client talking to our Listener and our Client talking to a Python
 * Listener, over unix sockets and TCP, with the authkey handshake both ways,
 * raw byte messages of every size, and values through the json codec.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, fixture, noise, spawnProcess, tempDir, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { type Address, Client, isAuthenticationError, Listener, rejectionOf } from './helpers.js';

const script = fixture(import.meta.url, 'mp_peer.py').pathname;
const python = (() => {
  try {
    return execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();

function pyAddress(address: Address): string {
  return typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

function startPython(role: string, address: string, authkey: string) {
  return spawnProcess('python3', [script, role, address, authkey]);
}

const sizes = [0, 1, 255, 256, 65_536, 1_000_003, 16 * 1024 * 1024];

/** Bytes that never repeat a stretch of themselves (see testkit's noise). */
const patterned = (size: number): Buffer => noise(size, size);

// python3 is part of the test environment (.ci/run installs it when absent): without it
// these tests fail rather than skip, since Python interop is a promise of this package.
describe(`interop with ${python ?? 'python3 (absent)'}`, () => {
  it('has a python3 to test against', () => {
    expect(python, 'python3 is required for the interop tests').toMatch(/^Python 3\./);
  });

  for (const transport of ['unix', 'tcp'] as const) {
    it(`a Python Client authenticates to our Listener (${transport}) and exchanges bytes of every size`, async () => {
      const listener = await Listener.listen({
        authkey: 'py-key',
        address: transport === 'tcp' ? { host: '127.0.0.1', port: 0 } : undefined,
      });
      const py = startPython('client', pyAddress(listener.address), 'py-key');
      try {
        const conn = await listener.accept({ timeout: 15_000 });
        for (const size of sizes) {
          const sent = patterned(size);
          await conn.sendBytes(sent);
          const back = Buffer.from(await within(conn.recvBytes(), 20_000, `echo of ${size} bytes`));
          expect(back.equals(Buffer.from(sent).reverse())).toBe(true);
        }
        await conn.close();
        expect((await within(py.exited, 15_000, 'python exit')).code).toBe(0);
      } finally {
        await py.kill();
        await listener.close();
      }
    });

    it(`our Client authenticates to a Python Listener (${transport})`, async () => {
      const dir = transport === 'unix' ? await tempDir() : undefined;
      const address = dir ? join(dir, 'py.sock') : '127.0.0.1:0';
      const py = startPython('listener', address, 'py-key');
      try {
        await eventually(() => expect(py.stdout()).toContain('\n'), { timeout: 15_000 });
        const bound = JSON.parse(py.stdout().split('\n')[0] as string) as Address;
        const conn = await Client(bound, { authkey: 'py-key' });
        for (const size of [0, 5, 300_000]) {
          const sent = patterned(size);
          await conn.sendBytes(sent);
          expect(
            Buffer.from(await within(conn.recvBytes(), 20_000, 'echo')).equals(Buffer.from(sent).reverse()),
          ).toBe(true);
        }
        await conn.close();
        expect((await within(py.exited, 15_000, 'python exit')).code).toBe(0);
        expect(py.stdout()).toContain('accepted');
      } finally {
        await py.kill();
      }
    });
  }

  it('a Python Client with the wrong key is refused, and it is told so', async () => {
    const errors: Error[] = [];
    const listener = await Listener.listen({ authkey: 'right-key', onError: (e) => errors.push(e) });
    const py = startPython('client', listener.address as string, 'not-the-key');
    try {
      const exit = await within(py.exited, 15_000, 'python exit');
      expect(exit.code).toBe(3);
      expect(py.stdout()).toContain('AuthenticationError: digest sent was rejected');
      await eventually(() => expect(errors.some(isAuthenticationError)).toBe(true));
    } finally {
      await py.kill();
      await listener.close();
    }
  });

  it('our Client with the wrong key is refused by a Python Listener, which raises too', async () => {
    const py = startPython('listener', '127.0.0.1:0', 'right-key');
    try {
      await eventually(() => expect(py.stdout()).toContain('\n'), { timeout: 15_000 });
      const bound = JSON.parse(py.stdout().split('\n')[0] as string) as Address;
      const err = await rejectionOf(Client(bound, { authkey: 'not-the-key' }));
      expect(isAuthenticationError(err)).toBe(true);
      expect((await within(py.exited, 15_000, 'python exit')).code).toBe(3);
      expect(py.stdout()).toContain('AuthenticationError: digest received was wrong');
    } finally {
      await py.kill();
    }
  });

  it('values cross to Python through the json codec (a 2-byte envelope, then JSON)', async () => {
    const listener = await Listener.listen({ authkey: 'k', codec: 'json' });
    const py = startPython('client', listener.address as string, 'k');
    try {
      const conn = await listener.accept({ timeout: 15_000 });
      await conn.send({ gift: 'rose', n: [1, 2.5] });
      expect(await within(conn.recv(), 15_000, 'python answer')).toEqual({
        python_saw: { gift: 'rose', n: [1, 2.5] },
      });
      await conn.close();
    } finally {
      await py.kill();
      await listener.close();
    }
  });

  it("Python's pickling send() arrives as bytes; recv() refuses it with ProtocolError and the connection stays usable", async () => {
    const listener = await Listener.listen({ authkey: 'k' });
    const py = startPython('pickles', listener.address as string, 'k');
    try {
      const conn = await listener.accept({ timeout: 15_000 });
      expect(await conn.poll(15_000)).toBe(true);
      const err = await rejectionOf(conn.recv());
      expect(err.code).toBe('ERR_CONC_PROTOCOL');
      await conn.sendBytes(Buffer.from('olleh'));
      expect(Buffer.from(await within(conn.recvBytes(), 15_000, 'echo')).toString()).toBe('hello');
      await conn.close();
    } finally {
      await py.kill();
      await listener.close();
    }
  });
});
