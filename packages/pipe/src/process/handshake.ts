/**
 * CPython's `multiprocessing.connection` authkey handshake, byte for byte, so
 * a Python `Client`/`Listener` and ours authenticate each other.
 *
 * The side that delivers a challenge sends `#CHALLENGE#` + `{digest}` + 40
 * random bytes (Python ≥ 3.12; Python 3.11 sends 20 bare bytes, meaning
 * HMAC-MD5). The answering side replies with the HMAC of the whole message
 * under the authkey: bare 16 bytes for legacy MD5, `{digest}` + MAC
 * otherwise. The deliverer answers `#WELCOME#` or `#FAILURE#`. A Listener
 * delivers then answers; a Client answers then delivers: authentication is
 * mutual. Every handshake message is capped at 256 bytes; digests are
 * compared in constant time; each challenge is fresh random bytes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError, ListenerBusyError } from '../errors.js';

const encoder = new TextEncoder();
const CHALLENGE = encoder.encode('#CHALLENGE#');
const WELCOME = encoder.encode('#WELCOME#');
const FAILURE = encoder.encode('#FAILURE#');
/**
 * Not CPython's: what our Listener sends, in place of a challenge or a verdict,
 * to a client it turns away because it is busy, followed by the reason in ASCII.
 * A Python client reports it as a protocol error quoting the message.
 */
const BUSY = encoder.encode('#BUSY#');

/** Random bytes in a challenge we deliver (CPython ≥ 3.12: 40). */
const MESSAGE_LENGTH = 40;
/** A challenge of exactly this length comes from a legacy (HMAC-MD5 only) peer. */
const LEGACY_MESSAGE_LENGTH = 20;
/** A bare HMAC-MD5 response. */
const MD5_DIGEST_LENGTH = 16;
/** Longest handshake message either side accepts. */
export const MAX_HANDSHAKE_MESSAGE = 256;

/** The HMAC digests CPython accepts, by their wire name, with node:crypto's name. */
const DIGESTS = new Map<string, string>([
  ['md5', 'md5'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha3_256', 'sha3-256'],
  ['sha3_384', 'sha3-384'],
]);
const MAX_DIGEST_NAME = Math.max(...[...DIGESTS.keys()].map((k) => k.length));

/** A digest the handshake can ask for when delivering a challenge. */
export type DigestName = 'md5' | 'sha256' | 'sha384' | 'sha3_256' | 'sha3_384';

/** Checks a digest option up front. */
export function checkDigest(name: string): asserts name is DigestName {
  if (!DIGESTS.has(name)) {
    throw new TypeError(
      `unsupported digest ${JSON.stringify(name)}; use one of ${[...DIGESTS.keys()].join(', ')}`,
    );
  }
}

/** How the handshake reads and writes whole messages (frames) on a connection. */
export interface HandshakeIO {
  /** The next message; rejects when it is longer than {@link MAX_HANDSHAKE_MESSAGE} or the connection ends. */
  read(): Promise<Uint8Array>;
  write(message: Uint8Array): void;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

function hmac(authkey: Uint8Array, message: Uint8Array, digest: string): Uint8Array {
  return createHmac(DIGESTS.get(digest) ?? digest, authkey)
    .update(message)
    .digest();
}

/**
 * CPython's `_get_digest_name_and_payload`: `''` for the legacy form (a 20-byte
 * challenge or a 16-byte MD5 response), else the `{digest}` prefix's name.
 */
function digestNameAndPayload(message: Uint8Array): [string, Uint8Array] {
  if (message.byteLength === LEGACY_MESSAGE_LENGTH || message.byteLength === MD5_DIGEST_LENGTH)
    return ['', message];
  if (message[0] === 0x7b /* { */) {
    const end = message.subarray(1, MAX_DIGEST_NAME + 2).indexOf(0x7d /* } */);
    if (end > 0) {
      const name = new TextDecoder().decode(message.subarray(1, end + 1));
      if (DIGESTS.has(name)) return [name, message.subarray(end + 2)];
    }
  }
  throw new AuthenticationError(
    `unsupported handshake message: wrong length (${message.byteLength} bytes), no {digest} prefix, or an unsupported digest`,
  );
}

/** The response to a challenge message (the part after `#CHALLENGE#`). */
function createResponse(authkey: Uint8Array, message: Uint8Array): Uint8Array {
  const [name] = digestNameAndPayload(message);
  // The MAC covers the whole message, prefix included, so a peer cannot downgrade the digest.
  if (name === '') return hmac(authkey, message, 'md5');
  return concat(encoder.encode(`{${name}}`), hmac(authkey, message, name));
}

function verify(authkey: Uint8Array, message: Uint8Array, response: Uint8Array): void {
  const [name, mac] = digestNameAndPayload(response);
  const expected = hmac(authkey, message, name || 'md5');
  if (!constantTimeEqual(expected, mac)) throw new AuthenticationError('digest received was wrong');
}

/** Sends a fresh challenge and checks the peer's answer; tells the peer `#WELCOME#` or `#FAILURE#`. */
export async function deliverChallenge(
  io: HandshakeIO,
  authkey: Uint8Array,
  digest: DigestName = 'sha256',
): Promise<void> {
  const message = concat(encoder.encode(`{${digest}}`), randomBytes(MESSAGE_LENGTH));
  io.write(concat(CHALLENGE, message));
  const response = await io.read();
  try {
    verify(authkey, message, response);
  } catch (err) {
    io.write(FAILURE);
    throw err;
  }
  io.write(WELCOME);
}

/** The message telling a client it is turned away because the listener is busy (`reason`: ASCII). */
export function busyMessage(reason: string): Uint8Array {
  return concat(BUSY, encoder.encode(reason.slice(0, MAX_HANDSHAKE_MESSAGE - BUSY.byteLength)));
}

/** Throws {@link ListenerBusyError} when `message` is the listener's busy refusal. */
function checkBusy(message: Uint8Array): void {
  if (!startsWith(message, BUSY)) return;
  // The peer's words, shown to the user: printable ASCII only.
  const reason = Buffer.from(message.subarray(BUSY.byteLength))
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '?');
  throw new ListenerBusyError(`the listener refused this connection: ${reason || 'busy'}`);
}

/** Answers the peer's challenge and waits for its verdict. */
export async function answerChallenge(io: HandshakeIO, authkey: Uint8Array): Promise<void> {
  const challenge = await io.read();
  checkBusy(challenge);
  if (!startsWith(challenge, CHALLENGE)) {
    throw new AuthenticationError('protocol error: expected a #CHALLENGE# message');
  }
  const message = challenge.subarray(CHALLENGE.byteLength);
  if (message.byteLength < LEGACY_MESSAGE_LENGTH) {
    throw new AuthenticationError(`challenge too short: ${message.byteLength} bytes`);
  }
  io.write(createResponse(authkey, message));
  const verdict = await io.read();
  checkBusy(verdict);
  if (!constantTimeEqual(verdict, WELCOME)) throw new AuthenticationError('digest sent was rejected');
}

/** The authkey as bytes of our own (strings are UTF-8), refusing an empty key. */
export function authkeyBytes(authkey: Uint8Array | string, what: string): Uint8Array {
  const bytes = typeof authkey === 'string' ? encoder.encode(authkey) : authkey;
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`${what}: authkey must be a Uint8Array, Buffer or string`);
  if (bytes.byteLength === 0) throw new TypeError(`${what}: authkey must not be empty`);
  // A copy: the caller may reuse or wipe its buffer; ours is held only where the handshake needs it.
  return typeof authkey === 'string' ? bytes : new Uint8Array(bytes);
}
