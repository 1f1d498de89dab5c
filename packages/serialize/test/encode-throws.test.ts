import { describe, expect, it } from 'vitest';
import { codecs } from '../src/index.js';
import { thrown } from './helpers.js';

const boom = new Error('trap exploded');
const trap = () => {
  throw boom;
};
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

/** Values whose walk throws somewhere other than a property read, and where. */
const cases: [string, () => unknown, string][] = [
  ['a Proxy whose ownKeys trap throws', () => ({ a: { b: new Proxy({}, { ownKeys: trap }) } }), 'a.b'],
  [
    'a Proxy whose getPrototypeOf trap throws',
    () => ({ list: [1, new Proxy({}, { getPrototypeOf: trap })] }),
    'list[1]',
  ],
  ['a revoked Proxy', () => ({ x: { y: revoked() } }), 'x.y'],
  ['a Proxy at the root', () => new Proxy([], { ownKeys: trap, getPrototypeOf: trap }), ''],
];

describe('a throw while an encode walks the value', () => {
  for (const codec of codecs) {
    for (const [what, make, path] of cases) {
      it(`${codec.name}: ${what} → SerializationError naming the path, the throw as its cause`, () => {
        const err = thrown(() => codec.encode(make()));
        expect(err.name).toBe('SerializationError');
        expect((err as { code?: string }).code).toBe('ERR_CONC_SERIALIZATION');
        expect(err.path).toBe(path);
        if (path !== '') expect(err.message).toContain(path);
        if (what !== 'a revoked Proxy') expect(err.cause).toBe(boom);
        else expect(err.cause).toBeInstanceOf(TypeError);
        // The codec stays usable, through encodeRange too.
        expect(codec.decode(codec.encode({ ok: [1] }))).toStrictEqual({ ok: [1] });
        if (codec.encodeRange) {
          const viaRange = thrown(() =>
            codec.encodeRange?.(make(), { bytes: new Uint8Array(0), start: 0, end: 0 }),
          );
          expect(viaRange.name).toBe('SerializationError');
          expect(viaRange.path).toBe(path);
        }
      });
    }
  }
});
