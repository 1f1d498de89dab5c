/**
 * Thread pipes beyond the contract: blocking receives in real workers, handing
 * ends over, structured-clone semantics (shared memory stays shared) and
 * send errors that name the offending path.
 */
import { fixture, startWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import type { ThreadConnection } from '../src/index.js';
import { attach, Pipe, rejectionOf, share, THREAD_CONNECTION_KIND, transferablesOf } from './helpers.js';

/** A worker that loops on `recvSync` over `end`, reporting each message (fixtures/recv-sync.mjs). */
async function startRecvSyncWorker(end: ThreadConnection<unknown>) {
  const token = share(end);
  const w = startWorker(fixture(import.meta.url, 'recv-sync.mjs'), {
    workerData: { conn: token },
    transferList: transferablesOf(token),
  });
  expect(await w.nextMessage()).toBe('ready');
  return w;
}

describe('thread pipe: recvSync', () => {
  it('a worker blocked in recvSync receives each message, then the close', async () => {
    const [parent, child] = Pipe();
    await using w = await startRecvSyncWorker(child);
    await parent.send({ n: 1 });
    expect(await w.nextMessage()).toEqual({ got: { n: 1 } });
    // The worker is parked in Atomics.wait now; each send wakes it.
    await parent.send([2, new Map([['three', 3]])]);
    expect(await w.nextMessage()).toEqual({ got: [2, new Map([['three', 3]])] });
    await parent.close();
    expect(await w.nextMessage()).toEqual({ error: 'ERR_CONC_CONNECTION_CLOSED' });
    expect(await within(w.exited, 10_000, 'worker exit')).toBe(0);
  });

  it('recvSync gets every message sent right before the close, then the close', async () => {
    const [parent, child] = Pipe();
    await using w = await startRecvSyncWorker(child);
    for (let i = 0; i < 3; i++) void parent.send(i);
    await parent.close();
    const seen = [await w.nextMessage(), await w.nextMessage(), await w.nextMessage(), await w.nextMessage()];
    expect(seen).toEqual([{ got: 0 }, { got: 1 }, { got: 2 }, { error: 'ERR_CONC_CONNECTION_CLOSED' }]);
  });

  it('recvSync honours its timeout', async () => {
    const [parent, child] = Pipe();
    const token = share(child);
    await using w = startWorker(fixture(import.meta.url, 'recv-sync.mjs'), {
      workerData: { conn: token, timeout: 50 },
      transferList: transferablesOf(token),
    });
    expect(await w.nextMessage()).toBe('ready');
    expect(await w.nextMessage()).toEqual({ error: 'ERR_CONC_PIPE_TIMEOUT' });
    await parent.close();
  });

  it('recvSync returns messages already buffered by an async recv path, in order', async () => {
    const [a, b] = Pipe<number>();
    await a.send(1);
    await a.send(2);
    expect(await b.poll(5000)).toBe(true);
    await a.send(3);
    expect([b.recvSync(), b.recvSync(), b.recvSync()]).toEqual([1, 2, 3]);
    expect(() => b.recvSync({ timeout: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONC_PIPE_TIMEOUT' }),
    );
    await a.close();
    expect(() => b.recvSync()).toThrow(expect.objectContaining({ code: 'ERR_CONC_CONNECTION_CLOSED' }));
    await b.close();
  });
});

describe('thread pipe: handing ends to workers', () => {
  it('shares memory: a SharedArrayBuffer sent through the pipe is the same memory in the worker', async () => {
    const [parent, child] = Pipe();
    const token = share(child);
    await using w = startWorker(fixture(import.meta.url, 'sab-writer.mjs'), {
      workerData: { conn: token },
      transferList: transferablesOf(token),
    });
    const buffer = new SharedArrayBuffer(4);
    await parent.send({ buffer });
    expect(await within(parent.recv(), 10_000, 'written')).toBe('written');
    expect(new Int32Array(buffer)[0]).toBe(42);
    await parent.close();
    expect(await w.exited).toBe(0);
  });

  it('refuses to share an end already used here, and the shared end is closed here', async () => {
    const [a, b] = Pipe();
    await a.send('x');
    expect(() => share(a)).toThrow(/already been used/);
    const token = share(b);
    expect(token.kind).toBe(THREAD_CONNECTION_KIND);
    expect(b.closed).toBe(true);
    expect((await rejectionOf(b.recv())).message).toMatch(/shared/);
    // Attaching in this thread works too: the end moves, messages sent before included.
    const again = attach(token);
    expect(await again.recv()).toBe('x');
    await Promise.all([a.close(), again.close()]);
  });

  it('transferablesOf finds the ports of thread tokens anywhere in a message', () => {
    const [a, b] = Pipe();
    const [c, d] = Pipe();
    const first = share(a);
    const second = share(c);
    const data = { first, list: [1, { second }], other: 'x' };
    expect(transferablesOf(data)).toHaveLength(2);
    expect(transferablesOf({ nothing: [1, 2] })).toEqual([]);
    for (const end of [b, d, attach(first), attach(second)]) void end.close();
  });
});

describe('thread pipe: values', () => {
  it('names the path of an unsendable part, and delivers the rest of the same batch', async () => {
    const [a, b] = Pipe();
    const good1 = a.send('before');
    const bad = a.send({ items: [1, { cb: () => 0 }] });
    const good2 = a.send('after');
    const err = await rejectionOf(bad);
    expect(err.code).toBe('ERR_CONC_SERIALIZATION');
    expect((err as { path?: string }).path).toBe('items[1].cb');
    await Promise.all([good1, good2]);
    expect([await b.recv(), await b.recv()]).toEqual(['before', 'after']);
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps what structured clone keeps: Map, Set, Date, BigInt, typed arrays, cycles', async () => {
    const [a, b] = Pipe();
    const cyclic: { self?: unknown; when: Date } = { when: new Date(5) };
    cyclic.self = cyclic;
    const value = { m: new Map([[1, new Set(['a'])]]), big: 2n ** 70n, f: new Float64Array([1.5]), cyclic };
    await a.send(value);
    const got = (await b.recv()) as typeof value;
    expect(got.m).toEqual(value.m);
    expect(got.big).toBe(2n ** 70n);
    expect(got.f).toEqual(new Float64Array([1.5]));
    expect(got.cyclic.self).toBe(got.cyclic);
    expect(got.cyclic.when).toEqual(new Date(5));
    await Promise.all([a.close(), b.close()]);
  });

  it('recv of a byte message deserializes it; recvBytes of a value gives its serialized form; garbage is a DeserializationError', async () => {
    const [a, b] = Pipe();
    await a.send({ k: 'v' });
    const bytes = await b.recvBytes();
    await a.sendBytes(bytes);
    expect(await b.recv()).toEqual({ k: 'v' });
    await a.sendBytes(new Uint8Array([0xff, 0x00, 0x13]));
    expect((await rejectionOf(b.recv())).code).toBe('ERR_CONC_DESERIALIZATION');
    await a.send('still usable');
    expect(await b.recv()).toBe('still usable');
    await Promise.all([a.close(), b.close()]);
  });
});
