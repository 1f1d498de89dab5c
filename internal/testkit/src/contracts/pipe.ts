/**
 * The conformance suite every pipe connection passes: thread pipes, process
 * (socket) pipes, Listener/Client connections, and later tiers that speak the
 * same `Connection` interface. Structural types only: no `@conc/*` import;
 * errors are recognised by their stable `code`.
 *
 * @example
 * ```ts
 * pipeContract('thread', {
 *   pair: async () => { const [a, b] = Pipe(); return { a, b }; },
 *   remoteEcho: async () => { ...start a worker that echoes... },
 * });
 * ```
 */
import { MessageChannel } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noise } from '../noise.js';
import { failure, within } from '../time.js';
import { plainDataArbitrary } from './codec.js';

/** What the contract needs of a connection. */
export interface ContractConnection {
  send(value: unknown): Promise<void>;
  sendBytes(buf: Uint8Array, offset?: number, size?: number): Promise<void>;
  recv(options?: { timeout?: number; signal?: AbortSignal }): Promise<unknown>;
  recvBytes(maxLength?: number, options?: { timeout?: number; signal?: AbortSignal }): Promise<Uint8Array>;
  recvBytesInto(buf: Uint8Array, offset?: number): Promise<number>;
  poll(timeout?: number): Promise<boolean>;
  close(): Promise<void>;
  readonly closed: boolean;
  readonly readable: boolean;
  readonly writable: boolean;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

/** Two connected ends in this thread (`a` ↔ `b`), and how to dispose of what made them. */
export interface ContractPair {
  a: ContractConnection;
  b: ContractConnection;
  /** Releases anything beyond the two ends (a listener...). The contract closes `a` and `b` itself. */
  dispose?(): Promise<void>;
}

/**
 * A connection whose other end lives in another thread or process, running
 * an echo loop: every message is sent back unchanged (`recvBytes` then
 * `sendBytes` is enough, since a value's frame round-trips as bytes).
 */
export interface ContractRemote {
  conn: ContractConnection;
  /** Kills the other side abruptly (worker terminate, SIGKILL). */
  kill(): Promise<void>;
  /** Ends the other side and frees everything (after `conn` is closed). */
  dispose(): Promise<void>;
}

/** Options of {@link pipeContract}. */
export interface PipeContractOptions {
  /** A fresh connected pair. */
  pair(): Promise<ContractPair>;
  /** A fresh one-way pair: `a` only receives, `b` only sends (Python's `Pipe(duplex=False)`). */
  oneWay?(): Promise<ContractPair>;
  /** A fresh connection to an echo loop in another thread or process. */
  remoteEcho?(): Promise<ContractRemote>;
  /** Size in bytes of the big message the tier must carry intact. @default 4 MiB */
  bigMessage?: number;
  /** fast-check runs of the ordering property. @default 25 */
  numRuns?: number;
}

/** The error `promise` rejects with; fails if it resolves or hangs (with a live-resource report). */
const rejection = (promise: Promise<unknown>, ms = 10_000) =>
  failure<Error & { code?: string; name?: string }>(() => promise, ms);

async function withPair(
  make: () => Promise<ContractPair>,
  fn: (p: ContractPair) => Promise<void>,
): Promise<void> {
  const p = await make();
  try {
    await fn(p);
  } finally {
    await Promise.allSettled([p.a.close(), p.b.close()]);
    await p.dispose?.();
  }
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** A message whose bytes never repeat a stretch of themselves (see noise.ts): any mix-up shows. */
const patterned = (size: number, seed: number): Uint8Array => noise(size, seed);

/**
 * Runs the connection conformance suite for one tier.
 */
export function pipeContract(tier: string, options: PipeContractOptions): void {
  const { pair, oneWay, remoteEcho, bigMessage = 4 * 1024 * 1024, numRuns = 25 } = options;

  describe(`pipe contract: ${tier}`, () => {
    it('delivers values whole and in order, both ways', async () => {
      await withPair(pair, async ({ a, b }) => {
        const values = [
          { id: 1, name: 'rose', ts: 1.5 },
          [1, 'two', { three: [3] }],
          'ünïcødé ✓',
          0,
          -12.25,
          true,
          null,
          { nested: { deep: { deeper: ['x'] } } },
        ];
        for (const v of values) void a.send(v);
        for (const v of values) expect(await within(b.recv(), 10_000, 'b.recv')).toStrictEqual(v);
        await b.send('back');
        expect(await within(a.recv(), 10_000, 'a.recv')).toBe('back');
      });
    });

    it('keeps the order of any mix of values and byte messages (property)', async () => {
      const item = fc.oneof(
        plainDataArbitrary.map((v) => ({ kind: 'value' as const, v })),
        fc.uint8Array({ maxLength: 300 }).map((v) => ({ kind: 'bytes' as const, v })),
      );
      await withPair(pair, async ({ a, b }) => {
        await fc.assert(
          fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 30 }), async (items) => {
            const sent = items.map((it) => (it.kind === 'value' ? a.send(it.v) : a.sendBytes(it.v)));
            for (const it of items) {
              if (it.kind === 'value') expect(await within(b.recv(), 10_000, 'recv')).toStrictEqual(it.v);
              else
                expect(new Uint8Array(await within(b.recvBytes(), 10_000, 'recvBytes'))).toStrictEqual(it.v);
            }
            await Promise.all(sent);
          }),
          { numRuns },
        );
      });
    });

    it('sends a slice of a buffer with sendBytes(buf, offset, size), and empty messages', async () => {
      await withPair(pair, async ({ a, b }) => {
        await a.sendBytes(bytes(0, 1, 2, 3, 4, 5, 6, 7), 2, 3);
        await a.sendBytes(new Uint8Array(0));
        await a.sendBytes(bytes(9, 9), 2);
        expect([...(await b.recvBytes())]).toEqual([2, 3, 4]);
        expect((await b.recvBytes()).byteLength).toBe(0);
        expect((await b.recvBytes()).byteLength).toBe(0);
        await expect(a.sendBytes(bytes(1, 2), 1, 5)).rejects.toThrow(
          /sendBytes: buffer length < offset \+ size/,
        );
        await expect(a.sendBytes(bytes(1, 2), 3)).rejects.toThrow(/sendBytes: buffer length < offset/);
        await expect(a.sendBytes(bytes(1, 2), 1, 5)).rejects.toBeInstanceOf(RangeError);
      });
    });

    it('sendBytes takes a copy: the caller may reuse its buffer at once, and keeps it', async () => {
      await withPair(pair, async ({ a, b }) => {
        const own = Buffer.allocUnsafeSlow(5);
        own.write('hello');
        const pooled = Buffer.from('world'); // a slice of Node's shared Buffer pool
        const view = new Uint8Array(new ArrayBuffer(16), 4, 3).fill(7);
        const sends = [a.sendBytes(own), a.sendBytes(pooled), a.sendBytes(view)];
        own.write('XXXXX');
        pooled.write('YYYYY');
        view.fill(9);
        await Promise.all(sends);
        expect(Buffer.from(await within(b.recvBytes(), 10_000, 'recvBytes')).toString()).toBe('hello');
        expect(Buffer.from(await within(b.recvBytes(), 10_000, 'recvBytes')).toString()).toBe('world');
        expect([...(await within(b.recvBytes(), 10_000, 'recvBytes'))]).toEqual([7, 7, 7]);
        // The caller's buffers are still theirs: not detached by a transfer, contents as they left them.
        expect([own.toString(), pooled.toString(), [...view]]).toEqual(['XXXXX', 'YYYYY', [9, 9, 9]]);
      });
    });

    it('recvBytes hands out bytes of their own: transferring one message takes nothing from the next', async () => {
      await withPair(pair, async ({ a, b }) => {
        await Promise.all([a.sendBytes(bytes(1, 1)), a.sendBytes(bytes(2, 2, 2)), a.sendBytes(bytes(3))]);
        const first = await within(b.recvBytes(), 10_000, 'recvBytes');
        expect(first.byteOffset === 0 && first.byteLength === first.buffer.byteLength).toBe(true);
        const { port1, port2 } = new MessageChannel();
        port1.postMessage(first, [first.buffer as ArrayBuffer]);
        port1.close();
        port2.close();
        expect([...(await within(b.recvBytes(), 10_000, 'recvBytes'))]).toEqual([2, 2, 2]);
        expect([...(await within(b.recvBytes(), 10_000, 'recvBytes'))]).toEqual([3]);
      });
    });

    it('recvBytesInto writes at the offset, and a message that does not fit is carried by BufferTooShortError', async () => {
      await withPair(pair, async ({ a, b }) => {
        await a.sendBytes(bytes(7, 8, 9));
        await a.sendBytes(bytes(1, 2, 3, 4, 5, 6));
        await a.send('still fine');
        const buf = new Uint8Array(6);
        expect(await b.recvBytesInto(buf, 2)).toBe(3);
        expect([...buf]).toEqual([0, 0, 7, 8, 9, 0]);
        const err = (await rejection(b.recvBytesInto(buf, 1))) as Error & {
          code?: string;
          bytes?: Uint8Array;
        };
        expect(err.code).toBe('ERR_CONC_BUFFER_TOO_SHORT');
        expect([...(err.bytes ?? [])]).toEqual([1, 2, 3, 4, 5, 6]);
        expect(await b.recv()).toBe('still fine');
      });
    });

    it('recvBytes(maxLength) refuses a longer message and stops receiving, as Python does', async () => {
      await withPair(pair, async ({ a, b }) => {
        await a.sendBytes(new Uint8Array(100));
        const err = await rejection(b.recvBytes(10));
        expect(err.code).toBe('ERR_CONC_FRAME_TOO_LARGE');
        expect(b.readable).toBe(false);
        await expect(b.recv()).rejects.toThrow();
        // It can still send.
        await b.send('ok');
        expect(await within(a.recv(), 10_000, 'a.recv')).toBe('ok');
      });
    });

    it('poll reports a waiting message without taking it, and waits up to its timeout', async () => {
      await withPair(pair, async ({ a, b }) => {
        expect(await b.poll()).toBe(false);
        expect(await b.poll(20)).toBe(false);
        const polled = b.poll(30_000);
        await a.send('x');
        expect(await within(polled, 10_000, 'poll')).toBe(true);
        expect(await b.poll()).toBe(true);
        expect(await b.recv()).toBe('x');
        expect(await b.poll()).toBe(false);
      });
    });

    it('recv gives up after its timeout and on abort, and a withdrawn recv never takes a later message', async () => {
      await withPair(pair, async ({ a, b }) => {
        // A bad option rejects (never throws synchronously).
        const bad = b.recv({ timeout: -1 });
        await expect(bad).rejects.toBeInstanceOf(RangeError);
        await expect(b.recv({ timeout: -1 })).rejects.toThrow(/timeout/);
        const timedOut = await rejection(b.recv({ timeout: 20 }));
        expect(timedOut.code).toBe('ERR_CONC_PIPE_TIMEOUT');
        const controller = new AbortController();
        const aborted = b.recv({ signal: controller.signal });
        controller.abort(new Error('stop'));
        await expect(aborted).rejects.toThrow('stop');
        const pre = new AbortController();
        pre.abort(new Error('already'));
        await expect(b.recv({ signal: pre.signal })).rejects.toThrow('already');
        await a.send('for the next recv');
        expect(await within(b.recv(), 10_000, 'recv')).toBe('for the next recv');
      });
    });

    it('serves concurrent recv calls first come, first served', async () => {
      await withPair(pair, async ({ a, b }) => {
        const r = [b.recv(), b.recv(), b.recv()];
        await a.send(1);
        await a.send(2);
        await a.send(3);
        expect(await within(Promise.all(r), 10_000, 'recvs')).toEqual([1, 2, 3]);
      });
    });

    it('never interleaves frames of concurrent senders (small and large, in one tick)', async () => {
      await withPair(pair, async ({ a, b }) => {
        const sizes = [1, 70_000, 5, 300_000, 0, 16_385, 2, 1_000_000, 64];
        const sends = sizes.map((size, i) => a.sendBytes(patterned(size, i)));
        for (let i = 0; i < sizes.length; i++) {
          const got = await within(b.recvBytes(), 20_000, 'recvBytes');
          expect(got.byteLength).toBe(sizes[i]);
          expect(Buffer.from(got).equals(Buffer.from(patterned(sizes[i] as number, i)))).toBe(true);
        }
        await Promise.all(sends);
      });
    });

    it(`carries a ${Math.round(bigMessage / 1024 / 1024)} MiB message intact`, async () => {
      await withPair(pair, async ({ a, b }) => {
        const big = patterned(bigMessage, 3);
        const sent = a.sendBytes(big);
        const got = await within(b.recvBytes(), 30_000, 'big recvBytes');
        await sent;
        expect(got.byteLength).toBe(bigMessage);
        expect(Buffer.from(got).equals(Buffer.from(big))).toBe(true);
      });
    });

    it('refuses an unsendable value with SerializationError and stays usable', async () => {
      await withPair(pair, async ({ a, b }) => {
        const err = await rejection(a.send({ ok: 1, callback: () => 1 }));
        expect(err.code).toBe('ERR_CONC_SERIALIZATION');
        expect(String((err as { path?: string }).path)).toContain('callback');
        await a.send('after');
        expect(await within(b.recv(), 10_000, 'recv')).toBe('after');
      });
    });

    it('hands out every message sent before the peer closed, then ConnectionClosedError', async () => {
      await withPair(pair, async ({ a, b }) => {
        await a.send('one');
        await a.send('two');
        await a.close();
        expect(await within(b.recv(), 10_000, 'recv 1')).toBe('one');
        expect(await within(b.recv(), 10_000, 'recv 2')).toBe('two');
        const err = await rejection(b.recv());
        expect(err.code).toBe('ERR_CONC_CONNECTION_CLOSED');
        expect(await b.poll()).toBe(true);
        // Sending to a closed peer fails too (at once or on the next write).
        const sendErr = await rejection(
          (async () => {
            for (;;) {
              await b.send('into the void');
              await new Promise((r) => setTimeout(r, 5));
            }
          })(),
        );
        expect(sendErr.code).toBe('ERR_CONC_CONNECTION_CLOSED');
      });
    });

    it('wakes a waiting recv with ConnectionClosedError when the peer closes', async () => {
      await withPair(pair, async ({ a, b }) => {
        const waiting = b.recv();
        await a.send('last');
        expect(await within(waiting, 10_000, 'recv')).toBe('last');
        const next = rejection(b.recv());
        await a.close();
        expect((await next).code).toBe('ERR_CONC_CONNECTION_CLOSED');
      });
    });

    it('close() is idempotent; calls on a closed end reject with ConnectionClosedError', async () => {
      await withPair(pair, async ({ a }) => {
        const pending = rejection(a.recv());
        await a.close();
        await a.close();
        expect(a.closed).toBe(true);
        expect((await pending).code).toBe('ERR_CONC_CONNECTION_CLOSED');
        expect((await rejection(a.recv())).code).toBe('ERR_CONC_CONNECTION_CLOSED');
        expect((await rejection(a.send(1))).code).toBe('ERR_CONC_CONNECTION_CLOSED');
      });
    });

    it('for await reads until the peer closes', async () => {
      await withPair(pair, async ({ a, b }) => {
        for (let i = 0; i < 5; i++) void a.send(i);
        void a.close();
        const got: unknown[] = [];
        await within(
          (async () => {
            for await (const v of b) got.push(v);
          })(),
          10_000,
          'for await',
        );
        expect(got).toEqual([0, 1, 2, 3, 4]);
      });
    });

    if (oneWay) {
      it('a one-way pipe receives on its first end and sends on its second only', async () => {
        await withPair(oneWay, async ({ a, b }) => {
          expect([a.readable, a.writable, b.readable, b.writable]).toEqual([true, false, false, true]);
          await expect(a.send(1)).rejects.toThrow(new TypeError('this end of the pipe is read-only'));
          await expect(b.recv()).rejects.toThrow(new TypeError('this end of the pipe is write-only'));
          await b.send('one way');
          expect(await within(a.recv(), 10_000, 'recv')).toBe('one way');
        });
      });
    }

    if (remoteEcho) {
      it('round-trips values and bytes through the other side, in order', async () => {
        const remote = await remoteEcho();
        try {
          const values = Array.from({ length: 200 }, (_, i) => ({ i, s: 'x'.repeat(i % 17) }));
          for (const v of values) void remote.conn.send(v);
          await remote.conn.sendBytes(patterned(100_000, 9));
          for (const v of values)
            expect(await within(remote.conn.recv(), 10_000, 'echo recv')).toStrictEqual(v);
          const echoed = await within(remote.conn.recvBytes(), 10_000, 'echo bytes');
          expect(Buffer.from(echoed).equals(Buffer.from(patterned(100_000, 9)))).toBe(true);
        } finally {
          await remote.conn.close();
          await remote.dispose();
        }
      });

      it('rejects a waiting recv with ConnectionClosedError when the other side is killed', async () => {
        const remote = await remoteEcho();
        try {
          await remote.conn.send('ping');
          expect(await within(remote.conn.recv(), 10_000, 'echo')).toBe('ping');
          const waiting = rejection(remote.conn.recv());
          await remote.kill();
          expect((await waiting).code).toBe('ERR_CONC_CONNECTION_CLOSED');
        } finally {
          await remote.conn.close();
          await remote.dispose();
        }
      });
    }
  });
}
