/**
 * The request/response layer, with the serving side in a real child process:
 * concurrent calls answered out of order, errors rebuilt as their own class,
 * refused method names, calls in both directions, cancellation reaching the
 * handler, and every pending call rejected when the server dies.
 */
import { fixture, spawnChild, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { type Connection, isConnectionClosedError, Listener, Pipe, RpcPeer, rejectionOf } from './helpers.js';

async function childServer(handlers: ConstructorParameters<typeof RpcPeer>[1] = {}) {
  const listener = await Listener.listen({ authkey: 'rpc' });
  const child = spawnChild(fixture(import.meta.url, 'rpc-server.mjs'), [JSON.stringify(listener.address)]);
  const conn = await listener.accept({ timeout: 15_000 });
  await listener.close();
  const peer = new RpcPeer(conn as Connection<unknown>, handlers);
  return { child, peer, conn };
}

describe('RpcPeer', () => {
  it('answers many concurrent calls, in whatever order they finish', async () => {
    const { child, peer } = await childServer();
    await using _ = child;
    const calls = [
      peer.call('delayed', ['slow', 200]),
      peer.call('delayed', ['fast', 1]),
      peer.call('add', [2, 3]),
    ];
    const order: string[] = [];
    calls.forEach((c, i) => void c.then(() => order.push(String(i))));
    expect(await within(Promise.all(calls), 10_000, 'calls')).toEqual(['slow', 'fast', 5]);
    expect(order.indexOf('0')).toBeGreaterThan(order.indexOf('1'));
    const many = await Promise.all(Array.from({ length: 500 }, (_, i) => peer.call('add', [i, i])));
    expect(many).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i));
    expect(peer.pending).toBe(0);
    await peer.close();
  });

  it('rebuilds a handler error as its own class, message and fields; the connection stays usable', async () => {
    const { child, peer } = await childServer();
    await using _ = child;
    const err = await rejectionOf(peer.call('fail'));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('out of range');
    expect((err as { detail?: unknown }).detail).toEqual({ limit: 3 });
    expect(await peer.call('add', [1, 1])).toBe(2);
    await peer.close();
  });

  it('refuses methods it does not expose, including __proto__ and constructor', async () => {
    const { child, peer } = await childServer();
    await using _ = child;
    for (const name of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const err = await rejectionOf(peer.call(name));
      expect(err.code).toBe('ERR_CONC_UNKNOWN_METHOD');
    }
    expect(await peer.call('add', [1, 2])).toBe(3);
    await peer.close();
  });

  it('calls go both ways: a handler can call back into its caller', async () => {
    const { child, peer } = await childServer({ handlers: { double: ([x]) => (x as number) * 2 } });
    await using _ = child;
    expect(await peer.call('twice', [5])).toBe(20);
    await peer.close();
  });

  it('a timeout or abort rejects the call and aborts the handler on the other side', async () => {
    const aborted: unknown[] = [];
    const { child, peer } = await childServer({ handlers: { aborted: ([tag]) => void aborted.push(tag) } });
    await using _ = child;
    const timedOut = await rejectionOf(peer.call('hang', ['by timeout'], { timeout: 50 }));
    expect(timedOut.code).toBe('ERR_CONC_PIPE_TIMEOUT');
    const controller = new AbortController();
    const call = peer.call('hang', ['by abort'], { signal: controller.signal });
    controller.abort(new Error('changed my mind'));
    await expect(call).rejects.toThrow('changed my mind');
    await within(
      (async () => {
        while (aborted.length < 2) await new Promise((r) => setTimeout(r, 5));
      })(),
      10_000,
      'handlers aborted',
    );
    expect(aborted.sort()).toEqual(['by abort', 'by timeout']);
    expect(peer.pending).toBe(0);
    await peer.close();
  });

  it('every pending call rejects with ConnectionClosedError when the server process is killed', async () => {
    const { child, peer } = await childServer();
    const pending = Array.from({ length: 20 }, (_, i) => rejectionOf(peer.call('hang', [i])));
    expect(await peer.call('pid')).toBe(child.pid);
    await child.kill('SIGKILL');
    const errors = await within(Promise.all(pending), 5000, 'pending calls after the kill');
    for (const err of errors) expect(isConnectionClosedError(err)).toBe(true);
    expect(isConnectionClosedError(await peer.done)).toBe(true);
    expect(isConnectionClosedError(await rejectionOf(peer.call('add', [1, 2])))).toBe(true);
  });

  it('refuses arguments that cannot be encoded, and reports a result that cannot be', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const server = new RpcPeer(b, { handlers: { echo: ([x]) => x, bad: () => ({ f: () => 1 }) } });
    const client = new RpcPeer(a);
    const err = await rejectionOf(client.call('echo', [{ f: () => 1 }]));
    expect(err.code).toBe('ERR_CONC_SERIALIZATION');
    expect(await client.call('echo', ['fine'])).toBe('fine');
    const bad = await rejectionOf(client.call('bad'));
    expect(bad.code).toBe('ERR_CONC_SERIALIZATION');
    expect(await client.call('echo', ['still fine'])).toBe('still fine');
    await Promise.all([client.close(), server.close()]);
  });

  it('works over a thread pipe too, and a malformed message closes it with ProtocolError reported', async () => {
    const [a, b] = Pipe();
    const reported: Error[] = [];
    const server = new RpcPeer(b, {
      handlers: {
        echo: ([x]) => x,
        hang: (_args, { signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      },
      onError: (e) => reported.push(e),
    });
    const client = new RpcPeer(a);
    expect(await client.call('echo', [{ deep: [1, 2] }])).toEqual({ deep: [1, 2] });
    const pending = rejectionOf(client.call('hang'));
    await a.send('not an rpc message' as never);
    expect(isConnectionClosedError(await within(pending, 10_000, 'pending after protocol error'))).toBe(true);
    expect(reported.map((e) => e.name)).toContain('ProtocolError');
    await Promise.all([server.close(), client.close()]);
  });

  it('a failure reply with a malformed error record fails that call only, never the process', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const bad of [
        { $concError: 1, name: 'Error', message: 'x', code: 42 },
        { $concError: 1, name: 'Error', message: 'x', props: null },
        { $concError: 1, name: 'Error', message: 'x', stack: ['no'] },
        { toString: 5 },
      ]) {
        const [a, b] = Pipe();
        const reported: Error[] = [];
        const peer = new RpcPeer(a, { onError: (e) => reported.push(e) });
        const first = rejectionOf(peer.call('anything'));
        const second = peer.call('other');
        const [, id1] = (await within(b.recv(), 10_000, 'first call')) as [number, number];
        const [, id2] = (await within(b.recv(), 10_000, 'second call')) as [number, number];
        await b.send([2, id1, bad] as never);
        const err = await within(first, 10_000, 'first call fails');
        expect(err).toBeInstanceOf(Error);
        expect(err.message).toMatch(/^remote call failed: /);
        // The connection goes on: the other call is still answered.
        await b.send([1, id2, 'answer'] as never);
        expect(await within(second, 10_000, 'second call')).toBe('answer');
        expect(reported).toEqual([]);
        await Promise.all([peer.close(), b.close()]);
      }
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
