/**
 * The msgpackr extensions both msgpack codecs share.
 *
 * msgpackr keeps its extension table per module, not per `Packr`: an
 * extension added here applies to every `Packr` in this copy of msgpackr,
 * ours and anybody else's. So each extension is written to be right for any
 * packer: it asks `this` (the packer at work) whether it is one of ours.
 *
 * Extension type codes (application range 1–100; msgpackr keeps 101–127 and
 * the negatives belong to MessagePack):
 * - 99 (`c`): a conc primitive, as a standard ext whose data is its token in
 *   UTF-8 JSON. Both codecs; Python's msgpack reads it as `ExtType(99, b'{...}')`.
 * - 69 (`E`): an Error with its class, code, stack, plain fields and cause
 *   (structured codec only; any other packer gets msgpackr's own encoding).
 */

import { errorFromWire, errorToWire, isWireError, SerializationError } from '../errors.js';
import { attach } from '../share.js';
import { checkToken } from './inspect.js';
import { addExtension, msgpackrModule } from './msgpackr.js';
import { RevivableInstance } from './revive.js';

/** Extension type of a conc primitive inside a msgpack message. */
export const TOKEN_EXT = 99;
/** Extension type of an Error inside a structured msgpack message. */
export const ERROR_EXT = 69;
/** msgpackr's own Error extension (what other packers write; never read: see installExtensions). */
const MSGPACKR_ERROR_EXT = 0x65;

/**
 * Marks the packers that write conc's structured Error encoding. A global
 * symbol, so the extension that the first copy of this package installed
 * recognises the packers of every copy.
 */
const STRUCTURED: unique symbol = Symbol.for('conc.msgpack.structuredPacker') as never;
const INSTALLED: unique symbol = Symbol.for('conc.msgpack.extensionsInstalled') as never;

const GATE: unique symbol = Symbol.for('conc.msgpack.revivalGate') as never;

/**
 * While `held` is set, the token extension throws this object instead of
 * attaching the primitive: a decode that may have to start over (the small
 * message path, see msgpack.ts) must not have revived anything by then. On
 * msgpackr's module object, as the extension is: every copy of this package
 * sees the one gate the installed extension reads.
 */
export const revivalGate: { held: boolean } = (() => {
  const mod = msgpackrModule as { [GATE]?: { held: boolean } };
  if (!mod[GATE]) Object.defineProperty(mod, GATE, { value: { held: false } });
  return mod[GATE] as { held: boolean };
})();

/** Makes `packer` write conc's Error encoding. */
export function markStructured(packer: object): void {
  Object.defineProperty(packer, STRUCTURED, { value: true });
}

function isStructured(packer: unknown): boolean {
  return (packer as { [STRUCTURED]?: boolean } | undefined)?.[STRUCTURED] === true;
}

const utf8 = new TextEncoder();
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

interface Allocation {
  target: Uint8Array;
  position: number;
}
type Allocate = (size: number) => Allocation;
type PackFn = (value: unknown) => void;

/** Adds the extensions once per msgpackr instance, however many copies of this package share it. */
export function installExtensions(): void {
  const mod = msgpackrModule as { [INSTALLED]?: boolean };
  if (mod[INSTALLED]) return;
  Object.defineProperty(mod, INSTALLED, { value: true });

  // msgpackr tries the most recently added extension first: the token one must win
  // over the Error one (and over msgpackr's own Set, Date...).
  addExtension({
    Class: Error,
    type: ERROR_EXT,
    pack(this: { moreTypes?: boolean }, error: Error, allocate: Allocate, pack: PackFn): void {
      const ours = isStructured(this);
      const tagged = ours || this.moreTypes === true;
      if (tagged) {
        const { target, position } = allocate(3);
        target[position] = 0xd4;
        target[position + 1] = ours ? ERROR_EXT : MSGPACKR_ERROR_EXT;
        target[position + 2] = 0;
      } else {
        allocate(0);
      }
      if (!ours) {
        // msgpackr's own encoding, unchanged for every other packer.
        pack([error.name, error.message, error.cause]);
        return;
      }
      const { cause: _dropped, ...wire } = errorToWire(error);
      // The cause travels as a value of its own, so any serializable cause survives as it was.
      pack(Object.hasOwn(error, 'cause') ? [wire, error.cause] : [wire]);
    },
    read(data: unknown): Error {
      if (!Array.isArray(data) || data.length < 1 || data.length > 2 || !isWireError(data[0])) {
        throw new TypeError('malformed error extension');
      }
      const error = errorFromWire(data[0]);
      if (data.length === 2) {
        Object.defineProperty(error, 'cause', { value: data[1], writable: true, configurable: true });
      }
      return error;
    },
  } as unknown as Parameters<typeof addExtension>[0]);

  // msgpackr reads its own Error extension as `errors[name](message)`, with a name the sender
  // chooses: "valueOf" returned msgpackr's internal constructor table (shared and mutable across
  // decodes), "constructor" and "toString" gave non-errors. Errors travel only as conc's own
  // records (ERROR_EXT, rebuilt by errorFromWire), so no conc decoder accepts it.
  addExtension({
    type: MSGPACKR_ERROR_EXT,
    unpack(): never {
      throw new TypeError(
        `msgpackr's own error extension (${MSGPACKR_ERROR_EXT}) is not accepted: conc sends errors as its own records (extension ${ERROR_EXT})`,
      );
    },
  } as unknown as Parameters<typeof addExtension>[0]);

  addExtension({
    Class: RevivableInstance as unknown as Function,
    type: TOKEN_EXT,
    pack(instance: object): Uint8Array {
      const token = checkToken(instance, (reason, cause) => {
        throw new SerializationError(reason, { cause });
      });
      return utf8.encode(JSON.stringify(token));
    },
    unpack(data: Uint8Array): unknown {
      if (revivalGate.held) throw revivalGate;
      return attach(JSON.parse(utf8Fatal.decode(data)));
    },
  });
}
