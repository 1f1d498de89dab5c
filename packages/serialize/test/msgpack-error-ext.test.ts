import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, msgpackCodec, plainMsgpackCodec } from '../src/index.js';
import { thrown } from './helpers.js';

const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s, 'latin1')]);
/** msgpackr's own error extension (0x65) as a fixext1, then [name, message, cause]. */
const fixext = (name: string) =>
  Buffer.concat([Buffer.from([0xd4, 0x65, 0x00, 0x93]), str(name), str('boom'), Buffer.from([0xc0])]);
/** The same as an ext8 of no data, inside a map: { e: <error> }. */
const inMap = (name: string) =>
  Buffer.concat([
    Buffer.from([0x81]),
    str('e'),
    Buffer.from([0xc7, 0x00, 0x65, 0x93]),
    str(name),
    str('m'),
    Buffer.from([0xc0]),
  ]);

describe("msgpackr's own error extension (0x65)", () => {
  // Before: errors[name](message) with a name the sender chose: "valueOf" returned msgpackr's
  // internal constructor table, "constructor" and "toString" gave non-errors, "Error" an Error.
  for (const name of ['valueOf', 'constructor', 'toString', 'hasOwnProperty', 'Error', 'TypeError']) {
    it(`is refused by every conc decoder, with name ${JSON.stringify(name)}`, () => {
      for (const codec of [msgpackCodec, plainMsgpackCodec]) {
        for (const bytes of [fixext(name), inMap(name), Buffer.concat([Buffer.from([0xc1]), inMap(name)])]) {
          if (codec === plainMsgpackCodec && bytes[0] === 0xc1) continue;
          const err = thrown(() => codec.decode(bytes));
          expect(err.name, `${codec.name}: ${String(err)}`).toBe('DeserializationError');
          expect(err.message).toContain("msgpackr's own error extension (101) is not accepted");
          // Through a reused buffer too.
          const held = Buffer.concat([bytes, Buffer.alloc(8)]);
          if (codec.decodePrefix)
            expect(thrown(() => codec.decodePrefix?.(held, bytes.length)).name).toBe('DeserializationError');
        }
      }
    });
  }

  it('leaves conc’s own error records working, cause and class included', () => {
    const sent = new TypeError('bad', { cause: new RangeError('inner') });
    const back = decodeMessage(encodeMessage({ e: sent })) as { e: TypeError };
    expect(back.e).toBeInstanceOf(TypeError);
    expect(back.e.message).toBe('bad');
    expect((back.e.cause as Error).message).toBe('inner');
    expect(back.e.cause).toBeInstanceOf(RangeError);
  });
});
