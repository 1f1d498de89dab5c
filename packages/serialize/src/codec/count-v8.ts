/**
 * The value counter of the v8 codec's decode budget (see budget.ts): one pass
 * over V8's serialization format (value-serializer.cc, format versions 13 to
 * 15, as Node.js writes it) that builds nothing. Every tagged value counts
 * one, object keys included, as the MessagePack counter counts them.
 *
 * Unlike MessagePack's, this format needs a little structure to be skipped
 * correctly (an Error's sub-tags, a RegExp's flags after its pattern), so the
 * walk keeps a stack of the containers it is in. Input it cannot follow is
 * refused: `node:v8` would refuse it too, and a budget that could be
 * confused would be no budget.
 */

/** What the walk is inside of. */
const In = {
  Object: 0,
  SparseArray: 1,
  DenseArray: 2,
  Map: 3,
  Set: 4,
  /** An Error, reading its sub-tags. */
  Error: 5,
  /** An Error, reading the value of its `cause`. */
  ErrorCause: 6,
} as const;

/** Thrown for input the walk cannot follow; the codec turns it into a DeserializationError. */
export class MalformedV8Error extends Error {}

function malformed(what: string, at: number): never {
  throw new MalformedV8Error(`not valid node:v8 data (${what} at byte ${at})`);
}

/**
 * Counts the values in `b[0, end)`, a `v8.serialize()` output, stopping as
 * soon as the count passes `max`.
 *
 * @throws MalformedV8Error for a header older than version 13, an unknown
 * tag, or an end tag that closes nothing open.
 */
export function countV8(b: Uint8Array, end: number, max: number): number {
  let p = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (p >= end) malformed('a cut varint', p);
      const byte = b[p++]!;
      if (shift < 35) value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return value;
    }
  };
  const skip = (n: number): void => {
    if (n > end - p) malformed('a length past the end', p);
    p += n;
  };
  /** A string value (padding allowed before it): a message, stack, pattern or boxed string. */
  const string = (): void => {
    while (p < end && b[p] === 0) p++;
    const tag = b[p++];
    if (tag !== 0x22 && tag !== 0x53 && tag !== 0x63) malformed('a string expected', p - 1);
    skip(varint());
  };
  /** An ArrayBuffer may be followed by the view that consumes it (V8's ReadObject quirk). */
  const view = (): void => {
    if (b[p] !== 0x56) return;
    p++;
    varint(); // sub-tag
    varint(); // byte offset
    varint(); // byte length
    if (version >= 14) varint(); // flags
    count++;
  };

  if (b[p++] !== 0xff) malformed('no version header', 0);
  const version = varint();
  if (version < 13) malformed(`format version ${version} (before Node.js 8.x)`, 1);

  const stack: number[] = [];
  let count = 0;
  /** One value is complete: an Error waiting for its cause goes back to its sub-tags. */
  const done = (): boolean => {
    const top = stack.length - 1;
    if (top < 0) return true;
    if (stack[top] === In.ErrorCause) stack[top] = In.Error;
    return false;
  };

  for (;;) {
    if (count > max) return count;
    if (p >= end) malformed('the data ends inside a value', p);
    const at = p;
    const tag = b[p++]!;
    if (stack[stack.length - 1] === In.Error) {
      switch (tag) {
        case 0x45: // EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError
        case 0x52:
        case 0x46:
        case 0x53:
        case 0x54:
        case 0x55:
          continue;
        case 0x6d: // message
        case 0x73: // stack
          string();
          count++;
          continue;
        case 0x63: // cause: any value
          stack[stack.length - 1] = In.ErrorCause;
          continue;
        case 0x2e: // end
          stack.pop();
          if (done()) return count;
          continue;
        default:
          malformed(`error sub-tag ${tag}`, at);
      }
    }
    switch (tag) {
      case 0x00: // padding
        continue;
      case 0x3f: // verify object count, then the value
        varint();
        continue;
      case 0x2d: // the hole
      case 0x5f: // undefined
      case 0x30: // null
      case 0x54: // true
      case 0x46: // false
      case 0x79: // true object
      case 0x78: // false object
        break;
      case 0x49: // int32
      case 0x55: // uint32
      case 0x5e: // object reference
      case 0x70: // shared object
        varint();
        break;
      case 0x4e: // double
      case 0x44: // date
      case 0x6e: // number object
        skip(8);
        break;
      case 0x5a: // bigint
      case 0x7a: // bigint object
        skip((varint() >>> 1) & 0x3fffffff);
        break;
      case 0x22: // one-byte string
      case 0x53: // UTF-8 string
      case 0x63: // two-byte string
        skip(varint());
        break;
      case 0x73: // string object
        string();
        count++;
        break;
      case 0x52: // regexp: pattern, then flags
        string();
        varint();
        count++;
        break;
      case 0x42: // array buffer
        skip(varint());
        view();
        break;
      case 0x7e: {
        // resizable array buffer: length, max length, bytes
        const length = varint();
        varint();
        skip(length);
        view();
        break;
      }
      case 0x74: // transferred or shared array buffer
      case 0x75:
        varint();
        view();
        break;
      case 0x5c: // host object, as node:v8's DefaultSerializer writes it: type, byte length, bytes
        varint();
        skip(varint());
        break;
      case 0x6f: // begin object
        count++;
        stack.push(In.Object);
        continue;
      case 0x61: // begin sparse array: length
        varint();
        count++;
        stack.push(In.SparseArray);
        continue;
      case 0x41: // begin dense array: length
        varint();
        count++;
        stack.push(In.DenseArray);
        continue;
      case 0x3b: // begin map
        count++;
        stack.push(In.Map);
        continue;
      case 0x27: // begin set
        count++;
        stack.push(In.Set);
        continue;
      case 0x72: // error
        count++;
        stack.push(In.Error);
        continue;
      case 0x7b: // end object: property count
        close(In.Object, at);
        varint();
        if (done()) return count;
        continue;
      case 0x40: // end sparse array: property count, length
        close(In.SparseArray, at);
        varint();
        varint();
        if (done()) return count;
        continue;
      case 0x24: // end dense array: property count, length
        close(In.DenseArray, at);
        varint();
        varint();
        if (done()) return count;
        continue;
      case 0x3a: // end map: entry count
        close(In.Map, at);
        varint();
        if (done()) return count;
        continue;
      case 0x2c: // end set: size
        close(In.Set, at);
        varint();
        if (done()) return count;
        continue;
      default:
        // WebAssembly transfers (which node:v8 cannot read back) and unknown tags.
        malformed(`tag ${tag}`, at);
    }
    // A value without contents of its own.
    count++;
    if (done()) return count;
  }

  function close(kind: number, at: number): void {
    if (stack.pop() !== kind) malformed('an end tag that closes nothing open', at);
  }
}
