import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fixture, noise, within } from '@conc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codecTag,
  DEFAULT_MAX_FRAME_SIZE,
  decodeMessage,
  encodeFrame,
  encodeFrameHeader,
  encodeMessage,
  FrameDecoder,
  FrameEncoder,
  isFrameTooLargeError,
  isProtocolError,
  msgpackCodec,
} from '../src/index.js';
import { thrown } from './helpers.js';

const concat = (chunks: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.byteLength]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 });

describe('frames', () => {
  it('write CPython headers: 4-byte big-endian, and -1 plus 8 bytes past 0x7fffffff', () => {
    expect(hex(encodeFrameHeader(0))).toBe('00000000');
    expect(hex(encodeFrameHeader(5))).toBe('00000005');
    expect(hex(encodeFrameHeader(0x7fffffff))).toBe('7fffffff');
    expect(hex(encodeFrameHeader(0x80000000))).toBe('ffffffff0000000080000000');
    expect(hex(encodeFrameHeader(2 ** 40 + 3))).toBe('ffffffff0000010000000003');
    expect(() => encodeFrameHeader(-1)).toThrow(RangeError);
    expect(() => encodeFrameHeader(1.5)).toThrow(RangeError);
    const payload = new Uint8Array([1, 2, 3]);
    const [header, body] = encodeFrame(payload);
    expect(hex(header!)).toBe('00000003');
    expect(body).toBe(payload);
  });

  it('decode exactly the frames sent, under any chunking', () => {
    fc.assert(
      fc.property(payloads, fc.array(fc.nat(), { maxLength: 40 }), (ps, cuts) => {
        const stream = concat(ps.flatMap((p) => encodeFrame(p)));
        const decoder = new FrameDecoder();
        const got: Uint8Array[] = [];
        for (const chunk of split(stream, cuts)) got.push(...decoder.push(chunk));
        expect(got.map(hex)).toEqual(ps.map(hex));
        expect(decoder.buffered).toBe(0);
        decoder.end();
      }),
      { numRuns: 300 },
    );
  });

  it('decode one byte at a time, long headers included', () => {
    const ps = [new Uint8Array([9]), new Uint8Array(0), new Uint8Array([1, 2, 3, 4, 5])];
    // A long (-1 + 8 bytes) header for a short frame: CPython never writes it, but reads it.
    const long = concat([
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 2]),
      new Uint8Array([7, 8]),
    ]);
    const stream = concat([...ps.flatMap((p) => encodeFrame(p)), long]);
    const decoder = new FrameDecoder();
    const got: string[] = [];
    for (let i = 0; i < stream.byteLength; i++) {
      for (const f of decoder.push(stream.subarray(i, i + 1))) got.push(hex(f));
      expect(decoder.buffered).toBeLessThanOrEqual(12);
    }
    expect(got).toEqual([...ps.map(hex), '0708']);
  });

  it('hand out views of the chunk for frames that lie within it, and assemble the others once', () => {
    const chunk = concat([...encodeFrame(new Uint8Array([1, 2])), ...encodeFrame(new Uint8Array([3]))]);
    const decoder = new FrameDecoder();
    const frames = decoder.push(chunk);
    expect(frames).toHaveLength(2);
    for (const f of frames) expect(f.buffer).toBe(chunk.buffer);
    const big = new Uint8Array(1000).fill(4);
    const [h, p] = encodeFrame(big);
    expect(decoder.push(concat([h!, p!.subarray(0, 10)]))).toEqual([]);
    expect(decoder.buffered).toBe(10);
    const [whole] = decoder.push(p!.subarray(10));
    expect(whole!.byteLength).toBe(1000);
    expect(whole!.buffer.byteLength).toBe(1000);
    expect(hex(whole!)).toBe(hex(big));
  });

  it('assemble a frame spread over chunks in an ArrayBuffer of its own, holding exactly its bytes', () => {
    // Sizes below and above Node's 4 KiB pool threshold: a pooled buffer's `.buffer` would show
    // other data, an unwritten byte would show stale memory, and the next frame must stay out.
    for (const size of [1, 100, 3000, 4095, 8192, 65_538]) {
      const body = noise(size, size);
      const next = noise(50, size + 1);
      const stream = concat([...encodeFrame(body), ...encodeFrame(next)]);
      const decoder = new FrameDecoder();
      const cut = 4 + Math.floor(size / 2);
      expect(decoder.push(stream.subarray(0, cut))).toEqual([]);
      const [whole, after] = decoder.push(stream.subarray(cut));
      expect(whole!.byteOffset).toBe(0);
      expect(whole!.buffer.byteLength).toBe(size);
      expect(hex(new Uint8Array(whole!.buffer))).toBe(hex(body));
      expect(hex(after!)).toBe(hex(next));
    }
  });

  it('refuse a 4 GiB declared length before allocating anything', () => {
    for (const header of [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]), // 4 GiB, long form
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // 2^64 - 1
      new Uint8Array([0x7f, 0xff, 0xff, 0xff]), // 2 GiB - 1, short form
    ]) {
      const decoder = new FrameDecoder();
      const before = process.memoryUsage().arrayBuffers;
      // Split the header too: the check must happen as soon as the length is known.
      expect(decoder.push(header.subarray(0, 3))).toEqual([]);
      const err = thrown(() => decoder.push(concat([header.subarray(3), new Uint8Array(100)])));
      expect(isFrameTooLargeError(err), String(err)).toBe(true);
      expect(err).toMatchObject({ limit: DEFAULT_MAX_FRAME_SIZE });
      expect((err as unknown as { size: number }).size).toBeGreaterThan(DEFAULT_MAX_FRAME_SIZE);
      expect(decoder.buffered).toBe(0);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    }
  });

  it('apply the configured limit, and validate it', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 8 });
    expect(decoder.push(concat(encodeFrame(new Uint8Array(8))))).toHaveLength(1);
    const err = thrown(() => decoder.push(encodeFrameHeader(9)));
    expect(isFrameTooLargeError(err)).toBe(true);
    expect(err).toMatchObject({ size: 9, limit: 8 });
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => new FrameDecoder({ maxFrameSize: bad })).toThrow(RangeError);
    }
  });

  it('refuse negative lengths with ProtocolError, including 0x80000000', () => {
    for (const header of ['80000000', 'fffffffe', 'c0000000']) {
      const decoder = new FrameDecoder();
      const err = thrown(() => decoder.push(Buffer.from(header, 'hex')));
      expect(isProtocolError(err), String(err)).toBe(true);
      expect(err.message).toMatch(/negative/);
    }
  });

  it('stay failed after an error, and keep the frames that preceded it', () => {
    const decoder = new FrameDecoder();
    const good = concat(encodeFrame(new Uint8Array([1])));
    const err = thrown(() => decoder.push(concat([good, Buffer.from('80000000', 'hex')])));
    expect(isProtocolError(err)).toBe(true);
    expect(err.frames?.map(hex)).toEqual(['01']);
    expect(decoder.error).toBe(err);
    expect(thrown(() => decoder.push(good))).toBe(err);
    expect(thrown(() => decoder.end())).toBe(err);
  });

  it('report a stream that ends inside a frame', () => {
    const inHeader = new FrameDecoder();
    inHeader.push(new Uint8Array([0, 0]));
    expect(isProtocolError(thrown(() => inHeader.end()))).toBe(true);
    const inBody = new FrameDecoder();
    inBody.push(concat([encodeFrameHeader(10), new Uint8Array(3)]));
    const err = thrown(() => inBody.end());
    expect(isProtocolError(err)).toBe(true);
    expect(err.message).toMatch(/3 of 10 payload bytes/);
  });

  it('never throw anything but ProtocolError or FrameTooLargeError on corrupt streams, and stay bounded', () => {
    // Streams made of valid frames (some over the 64-byte limit), negative and 64-bit headers and
    // random bytes, with bits flipped here and there, cut anywhere: every path of the decoder runs
    // (whole frames, frames across chunks, bodies cut short, headers split, over-limit after
    // good frames), and the frames it returns before failing are the ones that were sent.
    const part = fc.oneof(
      {
        weight: 6,
        // Lengths spread evenly up to 80 (fast-check's default sizing would keep them small).
        arbitrary: fc
          .integer({ min: 0, max: 80 })
          .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
          .map((p) => ({ frame: p })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom('80000000', 'fffffffe', 'ffffffff0000000000000003')
          .map((h) => ({ raw: Buffer.from(h, 'hex') })),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((raw) => ({ raw })) },
    );
    let decodedSome = 0;
    let failed = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 2 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (parts, flips, cuts) => {
          const stream = concat(parts.flatMap((x) => ('frame' in x ? encodeFrame(x.frame) : [x.raw])));
          for (const [at, bit] of flips) if (stream.length > 0) stream[at % stream.length]! ^= 1 << bit;
          // The frames a correct decoder returns before the first bad part (or flipped byte).
          const firstFlip = Math.min(...flips.map(([at]) => at % Math.max(1, stream.length)), stream.length);
          const expected: string[] = [];
          /** An intact header announcing more than the limit comes before anything bad: it must be refused. */
          let tooLarge = false;
          let offset = 0;
          for (const x of parts) {
            if (!('frame' in x)) break;
            if (x.frame.length > 64) {
              tooLarge = offset + 4 <= firstFlip;
              break;
            }
            offset += 4 + x.frame.length;
            if (offset > firstFlip) break;
            expected.push(hex(x.frame));
          }
          const decoder = new FrameDecoder({ maxFrameSize: 64 });
          const got: string[] = [];
          let error: unknown;
          for (const chunk of split(stream, cuts)) {
            try {
              got.push(...decoder.push(chunk).map(hex));
            } catch (err) {
              expect(isProtocolError(err) || isFrameTooLargeError(err), String(err)).toBe(true);
              got.push(...((err as { frames?: Uint8Array[] }).frames ?? []).map(hex));
              error = err;
              failed++;
              break;
            }
            expect(decoder.buffered).toBeLessThanOrEqual(64 + 12);
          }
          if (got.length > 0) decodedSome++;
          if (tooLarge) {
            refused++;
            expect(isFrameTooLargeError(error), 'a frame over the limit must be refused').toBe(true);
            expect(got).toEqual(expected);
          } else expect(got.slice(0, expected.length)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
    // The generator reaches both outcomes often (not a test that only ever sees one).
    expect(decodedSome).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(50);
  });

  it('refuse to write a frame over the limit, at the sender', () => {
    expect(isFrameTooLargeError(thrown(() => encodeFrame(new Uint8Array(9), { maxFrameSize: 8 })))).toBe(
      true,
    );
    const enc = new FrameEncoder({ maxFrameSize: 8 });
    expect(isFrameTooLargeError(thrown(() => enc.encodeBatch([new Uint8Array(1), new Uint8Array(9)])))).toBe(
      true,
    );
  });

  it('batch frames into few chunks that decode to the same frames', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40_000 }), { maxLength: 8 }), (ps) => {
        const chunks = new FrameEncoder().encodeBatch(ps);
        expect(chunks.length).toBeLessThanOrEqual(Math.max(1, ps.length * 2));
        const got = new FrameDecoder().push(concat(chunks));
        expect(got.map(hex)).toEqual(ps.map(hex));
      }),
      { numRuns: 40 },
    );
    const small = Array.from({ length: 100 }, (_, i) => new Uint8Array([i]));
    expect(new FrameEncoder().encodeBatch(small)).toHaveLength(1);
  });

  it('batch encoded values with their envelopes: each frame decodes as the message it was', () => {
    const values = [{ a: 1 }, 'x'.repeat(20_000), [1, 2, 3], null];
    const payloads = values.map((v) => msgpackCodec.encode(v));
    const raw = new Uint8Array([9, 9]);
    const tags = [...values.map(() => codecTag(msgpackCodec)), -1];
    const chunks = new FrameEncoder().encodeBatch([...payloads, raw], tags);
    const frames = new FrameDecoder().push(concat(chunks));
    expect(frames.slice(0, -1).map((f) => decodeMessage(f))).toEqual(values);
    expect(hex(frames.at(-1)!)).toBe(hex(raw));
    // The same bytes encodeMessage makes, one value at a time.
    expect(frames.slice(0, -1).map(hex)).toEqual(values.map((v) => hex(encodeMessage(v))));
    // The limit counts the envelope: a 7-byte value makes a 9-byte frame.
    const enc = new FrameEncoder({ maxFrameSize: 8 });
    expect(isFrameTooLargeError(thrown(() => enc.encodeBatch([new Uint8Array(7)], [1])))).toBe(true);
    expect(enc.encodeBatch([new Uint8Array(7)], [-1])).toHaveLength(1);
  });

  it("interoperate with CPython's multiprocessing.connection", async () => {
    const script = fileURLToPath(fixture(import.meta.url, 'py_connection_echo.py'));
    // Raw spawn, not the testkit's spawnProcess: that one reads stdout as text, and these are bytes.
    const py = spawn('python3', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    py.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((r) => py.once('exit', (code) => r(code)));
    try {
      const sent = [
        new Uint8Array([1, 2, 3]),
        new Uint8Array(16_385).map((_, i) => i % 251), // over CPython's 16 KiB concatenation threshold
        new Uint8Array(300_000).map((_, i) => (i * 7) % 256),
        new Uint8Array(0), // ends the session
      ];
      const decoder = new FrameDecoder();
      const replies: Uint8Array[] = [];
      const done = new Promise<void>((resolve, reject) => {
        py.stdout?.on('data', (chunk: Buffer) => {
          try {
            for (const f of decoder.push(chunk)) {
              replies.push(new Uint8Array(f));
              if (f.byteLength === 0) resolve();
            }
          } catch (err) {
            reject(err);
          }
        });
      });
      for (const p of sent) for (const c of encodeFrame(p)) py.stdin?.write(c);
      await within(done, 15_000, 'python echo');
      expect(replies).toHaveLength(sent.length);
      for (let i = 0; i < sent.length - 1; i++) {
        const reply = Buffer.from(replies[i]!);
        expect(Number(reply.subarray(0, 8).toString())).toBe(sent[i]!.byteLength);
        expect(hex(reply.subarray(8))).toBe(hex(new Uint8Array(sent[i]!).reverse()));
      }
      expect(replies.at(-1)!.byteLength).toBe(0);
      py.stdin?.end();
      expect(await within(exited, 10_000, 'python exit')).toBe(0);
      expect(stderr).toBe('');
    } finally {
      if (py.exitCode === null && py.signalCode === null) {
        py.kill('SIGKILL');
        await exited;
      }
    }
  });
});
