/**
 * The socket wire, driven by a raw `net` client speaking bytes: CPython
 * framing under any chunking, malformed and huge length prefixes, the frame
 * size limit, truncated streams.
 */
import { connect, type Socket } from 'node:net';
import { codecTag, encodeMessage, isDeserializationError, maxValuesFor, msgpackCodec } from '@conc/serialize';
import { noise, within } from '@conc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Client, type Connection, Listener, rejectionOf } from './helpers.js';

function header(length: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setInt32(0, length);
  return h;
}

function frame(payload: Uint8Array): Uint8Array {
  return Buffer.concat([header(payload.byteLength), payload]);
}

/** A listener without authkey and a raw socket connected to it, plus the accepted connection. */
async function rawPair(options: { maxMessageSize?: number } = {}) {
  const listener = await Listener.listen(options);
  const socket = connect({ path: listener.address as string });
  socket.on('error', () => {});
  const conn = await listener.accept({ timeout: 10_000 });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const dispose = async () => {
    socket.destroy();
    await Promise.all([conn.close(), listener.close()]);
  };
  return { listener, socket, conn, closed, dispose };
}

function write(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
}

describe('socket framing', () => {
  it('reassembles frames from any chunking of the byte stream (property)', async () => {
    const { socket, conn, dispose } = await rawPair();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ maxLength: 2000 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }),
          async (payloads, cuts) => {
            const stream = Buffer.concat(payloads.map(frame));
            // Cut the stream into pieces of the given sizes (cycled), one write per piece.
            let at = 0;
            let i = 0;
            while (at < stream.byteLength) {
              const size = cuts[i++ % cuts.length] as number;
              await write(socket, stream.subarray(at, at + size));
              if (i % 3 === 0) await new Promise((r) => setImmediate(r));
              at += size;
            }
            for (const p of payloads) {
              expect(
                Buffer.from(await within(conn.recvBytes(), 10_000, 'recvBytes')).equals(Buffer.from(p)),
              ).toBe(true);
            }
          },
        ),
        { numRuns: 30 },
      );
    } finally {
      await dispose();
    }
  });

  it('reads one byte at a time, including a split length prefix', async () => {
    const { socket, conn, dispose } = await rawPair();
    try {
      const stream = Buffer.concat([
        frame(Buffer.from('split')),
        frame(new Uint8Array(0)),
        frame(Buffer.from('x')),
      ]);
      for (const byte of stream) {
        await write(socket, Uint8Array.of(byte));
        await new Promise((r) => setImmediate(r));
      }
      expect(Buffer.from(await conn.recvBytes()).toString()).toBe('split');
      expect((await conn.recvBytes()).byteLength).toBe(0);
      expect(Buffer.from(await conn.recvBytes()).toString()).toBe('x');
    } finally {
      await dispose();
    }
  });

  for (const [name, bytes] of [
    ['a negative length', header(-5)],
    ['0x80000000', Uint8Array.of(0x80, 0, 0, 0)],
  ] as const) {
    it(`a malformed length prefix (${name}) closes that connection with ProtocolError; others carry on`, async () => {
      const { listener, socket, conn, closed, dispose } = await rawPair();
      const other = await Client(listener.address);
      const otherServerSide = await listener.accept();
      try {
        await write(socket, Buffer.concat([frame(Buffer.from('good')), bytes, new Uint8Array(64)]));
        expect(Buffer.from(await conn.recvBytes()).toString()).toBe('good');
        const err = await rejectionOf(conn.recvBytes());
        expect(err.code).toBe('ERR_CONC_PROTOCOL');
        await within(closed, 10_000, 'raw socket closed by the server');
        expect((await rejectionOf(conn.send('x'))).code).toBe('ERR_CONC_CONNECTION_CLOSED');
        await other.send('still here');
        expect(await otherServerSide.recv()).toBe('still here');
      } finally {
        await Promise.all([other.close(), otherServerSide.close()]);
        await dispose();
      }
    });
  }

  it('a 4 GiB length header is refused before allocating: FrameTooLargeError, connection closed, memory flat', async () => {
    const { socket, conn, closed, dispose } = await rawPair();
    try {
      const before = process.memoryUsage().arrayBuffers;
      const huge = new Uint8Array(12);
      const view = new DataView(huge.buffer);
      view.setInt32(0, -1);
      view.setUint32(4, 1);
      view.setUint32(8, 0);
      await write(socket, huge);
      const err = await rejectionOf(conn.recvBytes());
      expect(err.code).toBe('ERR_CONC_FRAME_TOO_LARGE');
      expect((err as { size?: number }).size).toBe(2 ** 32);
      await within(closed, 10_000, 'raw socket closed');
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await dispose();
    }
  });

  it('a peer that stops mid-message: ConnectionClosedError saying so', async () => {
    const { socket, conn, dispose } = await rawPair();
    try {
      await write(socket, Buffer.concat([frame(Buffer.from('whole')), header(100), new Uint8Array(10)]));
      socket.end();
      expect(Buffer.from(await conn.recvBytes()).toString()).toBe('whole');
      const err = await rejectionOf(conn.recvBytes());
      expect(err.code).toBe('ERR_CONC_CONNECTION_CLOSED');
      expect(err.message).toMatch(/middle of a message/);
      // The frame decoder's account of where the stream stopped is kept as the cause.
      expect(String((err as { cause?: unknown }).cause)).toMatch(/10 of 100 payload bytes/);
    } finally {
      await dispose();
    }
  });

  it('writes CPython frames: 4-byte big-endian length, then the payload', async () => {
    const { socket, conn, dispose } = await rawPair();
    try {
      const seen: Buffer[] = [];
      socket.on('data', (d: Buffer) => seen.push(d));
      const wire = (n: number) =>
        within(
          (async () => {
            while (Buffer.concat(seen).byteLength < n) await new Promise((r) => setImmediate(r));
            return Buffer.concat(seen).toString('hex');
          })(),
          10_000,
          `${n} bytes on the wire`,
        );
      await conn.sendBytes(Buffer.from('abc'));
      expect(await wire(7)).toBe('00000003616263');
      // A value: the frame holds the 2-byte envelope (version 1, codec tag), then the encoding.
      await conn.send('v');
      const envelope = Buffer.from([1, codecTag(msgpackCodec)]).toString('hex');
      expect(await wire(7 + 8)).toBe(`0000000361626300000004${envelope}a176`);
    } finally {
      await dispose();
    }
  });
});

describe('message size limit', () => {
  it('carries 16 MiB messages intact and in order with the default limit', async () => {
    const listener = await Listener.listen();
    const [a, b] = await Promise.all([Client(listener.address), listener.accept()]);
    try {
      const big = (seed: number) => noise(16 * 1024 * 1024, seed);
      const sends = [a.sendBytes(big(1)), a.sendBytes(big(2))];
      expect(Buffer.from(await within(b.recvBytes(), 30_000, 'first 16 MiB')).equals(big(1))).toBe(true);
      expect(Buffer.from(await within(b.recvBytes(), 30_000, 'second 16 MiB')).equals(big(2))).toBe(true);
      await Promise.all(sends);
    } finally {
      await Promise.all([a.close(), b.close(), listener.close()]);
    }
  });

  it('a message over the limit fails at the sender with FrameTooLargeError; nothing is written', async () => {
    const listener = await Listener.listen({ maxMessageSize: 1024 });
    const [a, b] = await Promise.all([Client(listener.address, { maxMessageSize: 1024 }), listener.accept()]);
    try {
      const err = await rejectionOf(a.sendBytes(new Uint8Array(1025)));
      expect(err.code).toBe('ERR_CONC_FRAME_TOO_LARGE');
      expect((await rejectionOf(a.send('x'.repeat(2000)))).code).toBe('ERR_CONC_FRAME_TOO_LARGE');
      await a.sendBytes(new Uint8Array(1024));
      expect((await b.recvBytes()).byteLength).toBe(1024);
    } finally {
      await Promise.all([a.close(), b.close(), listener.close()]);
    }
  });

  it('a message that would decode into more values than its size limit allows is refused; the connection lives', async () => {
    // 64 KiB limit: the budget is maxValuesFor(65536) values. A frame of empty arrays,
    // one byte each, is under the byte limit but over the value budget.
    const limit = 65536;
    const listener = await Listener.listen({ maxMessageSize: limit });
    const [a, b] = await Promise.all([
      Client(listener.address, { maxMessageSize: limit }),
      listener.accept(),
    ]);
    try {
      const maps = Array.from({ length: limit - 64 }, () => []);
      expect(maps.length).toBeGreaterThan(maxValuesFor(limit));
      const bytes = encodeMessage(maps, { codec: msgpackCodec });
      expect(bytes.byteLength).toBeLessThanOrEqual(limit);
      await a.sendBytes(bytes);
      await a.send('after');
      const err = await rejectionOf(b.recv());
      expect(isDeserializationError(err), String(err)).toBe(true);
      expect(err.message).toMatch(/maxValues/);
      expect(await within(b.recv(), 10_000, 'the next message')).toBe('after');
      await a.sendBytes(encodeMessage(maps.slice(0, maxValuesFor(limit) - 1), { codec: msgpackCodec }));
      expect(((await within(b.recv(), 10_000, 'a message within budget')) as unknown[]).length).toBe(
        maxValuesFor(limit) - 1,
      );
    } finally {
      await Promise.all([a.close(), b.close(), listener.close()]);
    }
  });

  it('a receiver with a smaller limit refuses a bigger frame from its header and closes', async () => {
    const listener = await Listener.listen({ maxMessageSize: 100 });
    const [a, b] = await Promise.all([Client(listener.address), listener.accept()]);
    try {
      await a.sendBytes(new Uint8Array(50));
      await a.sendBytes(new Uint8Array(5000));
      expect((await b.recvBytes()).byteLength).toBe(50);
      expect((await rejectionOf(b.recvBytes())).code).toBe('ERR_CONC_FRAME_TOO_LARGE');
      expect((await rejectionOf(within(a.recv(), 10_000, 'client sees the close'))).code).toBe(
        'ERR_CONC_CONNECTION_CLOSED',
      );
    } finally {
      await Promise.all([a.close(), b.close(), listener.close()]);
    }
  });
});

describe('connections in general', () => {
  it('gathers many small sends of one tick into few writes, and all resolve', async () => {
    const listener = await Listener.listen();
    const [a, b] = await Promise.all([
      Client<number>(listener.address),
      listener.accept() as Promise<Connection>,
    ]);
    try {
      const sends = Array.from({ length: 5000 }, (_, i) => a.send(i));
      // The first message of the tick goes out at once; every other one shares a single batch.
      expect(new Set(sends).size).toBe(2);
      await Promise.all(sends);
      for (let i = 0; i < 5000; i++) expect(await b.recv()).toBe(i);
    } finally {
      await Promise.all([a.close(), b.close(), listener.close()]);
    }
  });

  it('a 64 KiB message spanning reads arrives in memory of its own, without the next message', async () => {
    const listener = await Listener.listen();
    const [a, b] = await Promise.all([
      Client<{ id: number; data: Uint8Array }>(listener.address),
      listener.accept() as Promise<Connection<{ id: number; data: Uint8Array }>>,
    ]);
    try {
      const size = 64 * 1024;
      // Back to back, so the next message's bytes follow in the socket reads.
      const sends = [1, 2, 3].map((seed) => a.send({ id: seed, data: noise(size, seed) }));
      sends.push(a.sendBytes(noise(size, 4)), a.sendBytes(noise(size, 5)));
      await Promise.all(sends);
      for (const seed of [1, 2, 3]) {
        const { id, data } = await within(b.recv(), 10_000, `message ${seed}`);
        expect(id).toBe(seed);
        expect(Buffer.from(data).equals(noise(size, seed))).toBe(true);
        // At most its own message's bytes (envelope and encoding included): never the next one.
        expect(data.buffer.byteLength).toBeLessThan(size + 64);
      }
      for (const seed of [4, 5]) {
        const bytes = await within(b.recvBytes(), 10_000, `bytes ${seed}`);
        expect(bytes.buffer.byteLength).toBe(size);
        expect(Buffer.from(bytes.buffer).equals(noise(size, seed))).toBe(true);
      }
    } finally {
      await Promise.all([a.close(), b.close(), listener.close()]);
    }
  });

  it('a send nobody awaits that fails in its write is no unhandled rejection; an awaited one rejects', async () => {
    const { socket, conn, closed, dispose } = await rawPair();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      socket.destroy();
      await closed;
      // Sent before this end has read the peer's close: the first write is what fails.
      void conn.send('lost');
      const err = await rejectionOf(within(conn.send('also lost'), 10_000, 'send after the peer left'));
      expect(err.code).toBe('ERR_CONC_CONNECTION_CLOSED');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await dispose();
    }
  });
});
