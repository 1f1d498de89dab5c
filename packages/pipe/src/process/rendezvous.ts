/**
 * How the two ends of `Pipe({ scope: 'process' })` find each other, in
 * whichever processes they end up in.
 *
 * `Pipe()` only makes a private directory (0700) and a random 32-byte secret;
 * no socket exists yet, so either end can still be handed to another process
 * as a JSON-safe token. On first use, an end tries to listen on `pipe.sock`
 * in that directory. Exactly one end wins the bind; the other gets EADDRINUSE
 * and connects. The two authenticate each other with
 * the authkey handshake, each end proving its identity (the secret plus its
 * end number), so an end attached twice is refused. The listening end then
 * closes its listener and removes the directory: what remains is one
 * connected socket, with no process in between.
 *
 * An end closed before the pair connected leaves a `closed` marker, so the
 * other end fails with `ConnectionClosedError` instead of waiting forever; an
 * end that finds the directory gone (the pair already met, or both ends were
 * closed) fails the same way, so a token attached twice is refused too.
 *
 * The directory comes from a token, so from a peer: before an end creates,
 * changes or removes anything in it, it checks the directory's seal against
 * its secret (see `seal.ts`), and it removes only the entries a pair makes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { TokenError } from '@conc/serialize';
import { ConnectionClosedError } from '../errors.js';
import { answerChallenge, deliverChallenge } from './handshake.js';
import { handshake } from './handshake-io.js';
import { forgetOnExit, freshPrivateDirSync, isPrivateDir, removeDir, removeOnExit } from './private-dir.js';
import { checkSeal, SEAL_FILE, writeSealSync } from './seal.js';

/** Every entry a pair puts in its directory, the seal last: removal takes these and nothing else. */
const MEETING_ENTRIES = ['pipe.sock', 'closed', SEAL_FILE] as const;

/** How long a pair's handshake may take. */
const PAIR_HANDSHAKE_MS = 10_000;
/** How long a dialing end retries a listener that is bound but not yet listening. */
const DIAL_RETRY_MS = 2000;

/** The JSON-safe description of one end's rendezvous (inside a share() token). */
export interface RendezvousData {
  dir: string;
  secret: string;
  end: 0 | 1;
}

/** An established socket and the bytes already read from it. */
export interface Connected {
  socket: Socket;
  leftover: Uint8Array;
}

const noop = () => {};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function listenOn(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: false });
    server.once('error', reject);
    server.listen({ path, backlog: 8 }, () => {
      server.off('error', reject);
      server.on('error', noop);
      resolve(server);
    });
  });
}

function dialOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.on('error', noop);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** One end's side of the meeting: see the module comment. */
export class Rendezvous {
  readonly #dir: string;
  readonly #secret: Uint8Array;
  readonly #end: 0 | 1;
  #server: Server | undefined;
  #dialing: Socket | undefined;
  #ref = false;
  #cancelled = false;
  #connected = false;

  constructor(dir: string, secret: Uint8Array, end: 0 | 1) {
    this.#dir = dir;
    this.#secret = secret;
    this.#end = end;
  }

  get #socketPath(): string {
    return join(this.#dir, 'pipe.sock');
  }

  get #tombstone(): string {
    return join(this.#dir, 'closed');
  }

  /** The key this end proves itself with, and the one its peer must prove. */
  #key(end: 0 | 1): Uint8Array {
    const key = new Uint8Array(this.#secret.byteLength + 1);
    key.set(this.#secret, 0);
    key[this.#secret.byteLength] = end;
    return key;
  }

  get #peerEnd(): 0 | 1 {
    return this.#end === 0 ? 1 : 0;
  }

  /** This end as token data: it may now be used from another process, which may outlive this one. */
  toData(): RendezvousData {
    forgetOnExit(this.#dir);
    return { dir: this.#dir, secret: Buffer.from(this.#secret).toString('base64'), end: this.#end };
  }

  setRef(alive: boolean): void {
    this.#ref = alive;
    for (const handle of [this.#server, this.#dialing]) {
      if (!handle) continue;
      if (alive) handle.ref();
      else handle.unref();
    }
  }

  #applyRef(handle: Server | Socket): void {
    if (this.#ref) handle.ref();
    else handle.unref();
  }

  #closedBeforeConnecting(): ConnectionClosedError {
    return new ConnectionClosedError('the other end of the pipe was closed before the two ends connected');
  }

  #gone(): ConnectionClosedError {
    return new ConnectionClosedError(
      'this pipe end cannot connect: its pair already connected, or both ends were closed (was one end attached twice?)',
    );
  }

  #foreign(): ConnectionClosedError {
    return new ConnectionClosedError(
      `refusing to meet the other end of the pipe in ${this.#dir}: it is not this pipe's directory (no matching seal: a forged or stale token); nothing in it was touched`,
    );
  }

  #checkCancelled(): void {
    if (this.#cancelled) throw new ConnectionClosedError('the connection is closed');
  }

  /** Meets the other end: listens or dials, authenticates, and returns the connected socket. */
  async connect(): Promise<Connected> {
    const seal = await checkSeal(this.#dir, this.#secret);
    if (seal === 'foreign') throw this.#foreign();
    if (seal === 'gone') throw this.#gone();
    this.#checkCancelled();
    if (existsSync(this.#tombstone)) {
      await removeDir(this.#dir, MEETING_ENTRIES);
      throw this.#closedBeforeConnecting();
    }
    let server: Server;
    try {
      server = await listenOn(this.#socketPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') return this.#dial();
      // The directory vanished under us (libuv reports ENOENT as EACCES).
      if ((code === 'EACCES' || code === 'ENOENT') && !(await isPrivateDir(this.#dir))) throw this.#gone();
      throw err;
    }
    this.#server = server;
    this.#applyRef(server);
    removeOnExit(this.#dir, MEETING_ENTRIES);
    if (this.#cancelled || existsSync(this.#tombstone)) {
      this.#stopListening();
      if (!this.#cancelled) await removeDir(this.#dir, MEETING_ENTRIES);
      throw this.#cancelled
        ? new ConnectionClosedError('the connection is closed')
        : this.#closedBeforeConnecting();
    }
    return this.#acceptPeer(server);
  }

  #acceptPeer(server: Server): Promise<Connected> {
    return new Promise<Connected>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.#stopListening();
        reject(error);
      };
      server.on('close', () => fail(new ConnectionClosedError('the connection is closed')));
      server.on('connection', (socket: Socket) => {
        socket.on('error', noop);
        if (settled) {
          socket.destroy();
          return;
        }
        this.#applyRef(socket);
        handshake(socket, PAIR_HANDSHAKE_MS, async (io) => {
          await deliverChallenge(io, this.#key(this.#peerEnd));
          await answerChallenge(io, this.#key(this.#end));
        }).then(
          (leftover) => {
            if (settled) {
              socket.destroy();
              return;
            }
            settled = true;
            this.#connected = true;
            this.#stopListening();
            void removeDir(this.#dir, MEETING_ENTRIES).then(() => resolve({ socket, leftover }));
          },
          () => {
            socket.destroy();
            // A failed handshake is either a stranger (keep waiting) or the other end closing (give up).
            if (existsSync(this.#tombstone) && !settled) {
              void removeDir(this.#dir, MEETING_ENTRIES).then(() => fail(this.#closedBeforeConnecting()));
            }
          },
        );
      });
    });
  }

  async #dial(): Promise<Connected> {
    const deadline = Date.now() + DIAL_RETRY_MS;
    let socket: Socket;
    for (;;) {
      this.#checkCancelled();
      try {
        socket = await dialOnce(this.#socketPath);
        break;
      } catch (err) {
        if (existsSync(this.#tombstone)) {
          await removeDir(this.#dir, MEETING_ENTRIES);
          throw this.#closedBeforeConnecting();
        }
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw this.#gone();
        // Bound but not yet listening: a moment's retry. Gone for good: give up.
        if (Date.now() > deadline) {
          throw new ConnectionClosedError(
            'the other end of the pipe cannot be reached (its process is gone?)',
            {
              cause: err,
            },
          );
        }
        await sleep(10);
      }
    }
    this.#dialing = socket;
    this.#applyRef(socket);
    try {
      const leftover = await handshake(socket, PAIR_HANDSHAKE_MS, async (io) => {
        await answerChallenge(io, this.#key(this.#end));
        await deliverChallenge(io, this.#key(this.#peerEnd));
      });
      this.#checkCancelled();
      this.#connected = true;
      return { socket, leftover };
    } catch (err) {
      socket.destroy();
      if (this.#cancelled) throw new ConnectionClosedError('the connection is closed');
      if (existsSync(this.#tombstone)) {
        await removeDir(this.#dir, MEETING_ENTRIES);
        throw this.#closedBeforeConnecting();
      }
      throw new ConnectionClosedError(
        'could not connect to the other end of the pipe: it refused this end (was the same end attached twice?)',
        { cause: err },
      );
    } finally {
      this.#dialing = undefined;
    }
  }

  #stopListening(): void {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    forgetOnExit(this.#dir);
    // Not awaiting the close callback: it waits for accepted connections too. The
    // listening handle (and its socket file) goes at once.
    server.close();
  }

  /**
   * Gives up on meeting (the end was closed before it connected): stops
   * listening or dialing, and leaves a marker telling the other end.
   */
  async close(): Promise<void> {
    if (this.#cancelled || this.#connected) return;
    this.#cancelled = true;
    this.#dialing?.destroy();
    this.#stopListening();
    // Only in this pipe's own directory: a forged token's end closes without a trace.
    if ((await checkSeal(this.#dir, this.#secret)) !== 'sealed') return;
    try {
      // Exclusive: of two ends closing at once, exactly one leaves the marker...
      await writeFile(this.#tombstone, '', { flag: 'wx' });
    } catch (err) {
      // ...and the other, finding it, knows nobody will come: it removes the directory.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') await removeDir(this.#dir, MEETING_ENTRIES);
      return;
    }
    // Wake the other end if it is already listening, so it reads the marker now.
    if (existsSync(this.#socketPath)) {
      await dialOnce(this.#socketPath).then(
        (s) => s.destroy(),
        () => {},
      );
    }
  }
}

/** The two rendezvous of a new process pipe. */
export function newRendezvousPair(): [Rendezvous, Rendezvous] {
  const dir = freshPrivateDirSync();
  const secret = randomBytes(32);
  writeSealSync(dir, secret);
  // Gone with this process unless an end is shared (then the other process may still need it).
  removeOnExit(dir, MEETING_ENTRIES);
  return [new Rendezvous(dir, secret, 0), new Rendezvous(dir, secret, 1)];
}

/** Rebuilds a rendezvous from a share() token's data. */
export function rendezvousFromData(data: Partial<RendezvousData>): Rendezvous {
  const { dir, secret, end } = data;
  if (
    typeof dir !== 'string' ||
    !isAbsolute(dir) ||
    !/^conc-pipe-[A-Za-z0-9]+$/.test(dir.split(/[\\/]/).pop() ?? '')
  ) {
    throw new TokenError('process pipe token: bad directory');
  }
  if (typeof secret !== 'string') throw new TokenError('process pipe token: bad secret');
  const key = Buffer.from(secret, 'base64');
  if (key.byteLength !== 32) throw new TokenError('process pipe token: bad secret');
  if (end !== 0 && end !== 1) throw new TokenError('process pipe token: bad end');
  return new Rendezvous(dir, new Uint8Array(key), end);
}
