import { fixture, spawnChild, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { msgpackCodec, plainMsgpackCodec, registerKind, shareSymbol } from '../src/index.js';
import { thrown } from './helpers.js';

interface Case {
  label: string;
  codec: string;
  name: string;
  message: string;
  ms: number;
  validMs: number;
}

describe('a valid message followed by stray bytes', () => {
  it('is refused about as fast as the valid message decodes, never by printing the value', async () => {
    // Before: msgpackr printed the decoded value into its error. A 2 MiB bigint plus one byte took
    // 3.4-3.8 s (the valid message: 0.2 s); 520 bytes of shared references never finished (the
    // child was still printing 2^40 elements when the watchdog below fired), nor did 390 bytes.
    await using child = spawnChild(fixture(import.meta.url, 'decode-leftovers.mjs'), [], { ipc: false });
    const exit = await within(child.exited, 15_000, 'the stray-byte decodes to finish');
    expect(exit, child.stderr()).toStrictEqual({ code: 0, signal: null });
    const cases = child
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Case);
    expect(cases).toHaveLength(5);
    for (const c of cases) {
      expect(c.name, c.label).toBe('DeserializationError');
      expect(c.message, c.label).toContain('1 unexpected bytes after the value');
      // A generous bound: the old cost was ~20x the valid decode, or unbounded.
      expect(c.ms, `${c.label} (${c.codec}): ${c.ms} ms, the valid message ${c.validMs} ms`).toBeLessThan(
        4 * c.validMs + 500,
      );
    }
  });

  it('names how many bytes were left over, in every msgpack codec and through decodePrefix', () => {
    for (const codec of [msgpackCodec, plainMsgpackCodec]) {
      // Past 512 bytes (smaller ones, without references, keep msgpackr's own short message).
      for (const value of ['x'.repeat(600), [new Array(200).fill({ k: 1 })]]) {
        const bytes = Buffer.concat([codec.encode(value), Buffer.from([0xc0, 0xc0, 0xc0])]);
        const err = thrown(() => codec.decode(bytes));
        expect(err.name).toBe('DeserializationError');
        expect(err.message).toContain('3 unexpected bytes after the value');
      }
      expect(thrown(() => codec.decode(Buffer.from([0x91, 0x01, 0xc0]))).name).toBe('DeserializationError');
    }
    const shared = { s: 1 };
    const bytes = msgpackCodec.encode([shared, shared, new Map([[1, 2]])]);
    const held = Buffer.concat([bytes, Buffer.from([7, 7])]);
    expect(thrown(() => msgpackCodec.decodePrefix?.(held, held.length)).message).toContain(
      '2 unexpected bytes after the value',
    );
    expect(msgpackCodec.decodePrefix?.(held, bytes.length)).toStrictEqual([
      shared,
      shared,
      new Map([[1, 2]]),
    ]);
  });
});

let attaches = 0;
class Tally {
  constructor(readonly n: number) {}
  [shareSymbol]() {
    return { kind: 'test.leftovers.Tally', data: this.n };
  }
  static {
    registerKind({
      kind: 'test.leftovers.Tally',
      Class: Tally,
      attach(data) {
        attaches++;
        return new Tally(data as number);
      },
    });
  }
}

describe('a small message read a second time', () => {
  // Small messages are first read without references; one that has them is read again, so a
  // primitive inside must not be revived by the first try.
  it('revives each primitive once, with shared references and without', () => {
    const shared = { s: [1] };
    for (const value of [
      { t: new Tally(7), a: shared, b: shared },
      { a: shared, b: shared, t: new Tally(8) },
      { t: new Tally(9) },
    ]) {
      attaches = 0;
      const bytes = msgpackCodec.encode(value);
      expect(bytes.length).toBeLessThan(512);
      const back = msgpackCodec.decode(bytes) as { t: Tally; a?: unknown; b?: unknown };
      expect(attaches).toBe(1);
      expect(back.t).toBeInstanceOf(Tally);
      expect(back.t.n).toBe(value.t.n);
      if (value.a) expect(back.a).toBe(back.b);
      attaches = 0;
      expect(
        msgpackCodec.decodePrefix?.(Buffer.concat([bytes, Buffer.alloc(4)]), bytes.length),
      ).toStrictEqual(back);
      expect(attaches).toBe(1);
    }
  });
});
