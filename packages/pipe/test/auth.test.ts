/**
 * CPython's authkey handshake: the protocol itself (modern and legacy
 * digests), then at the Listener and Client: mutual refusal of a wrong key,
 * fresh challenges, nothing decoded before authentication, handshake
 * deadlines and caps, defaults that refuse exposure, TLS.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defaultCodec } from '@conc/serialize';
import { tempDir, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { answerChallenge, deliverChallenge, type HandshakeIO } from '../src/process/handshake.js';
import { Client, isAuthenticationError, isListenerBusyError, Listener, rejectionOf } from './helpers.js';

const enc = new TextEncoder();

/** Two in-memory handshake channels wired to each other, recording what crosses. */
function memoryPair(tamper?: (m: Uint8Array, from: 'a' | 'b') => Uint8Array) {
  const queues = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  const waiters = { a: [] as Array<(m: Uint8Array) => void>, b: [] as Array<(m: Uint8Array) => void> };
  const log: Array<{ from: 'a' | 'b'; message: Uint8Array }> = [];
  const side = (me: 'a' | 'b'): HandshakeIO => {
    const peer = me === 'a' ? 'b' : 'a';
    return {
      read: () =>
        new Promise((resolve) => {
          const m = queues[me].shift();
          if (m) resolve(m);
          else waiters[me].push(resolve);
        }),
      write: (message) => {
        const m = tamper ? tamper(message, me) : message;
        log.push({ from: me, message: m });
        const w = waiters[peer].shift();
        if (w) w(m);
        else queues[peer].push(m);
      },
    };
  };
  return { a: side('a'), b: side('b'), log };
}

function text(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

describe('handshake protocol', () => {
  it('authenticates both ways with the same key: {sha256} challenge, prefixed answer, #WELCOME#', async () => {
    const { a, b, log } = memoryPair();
    const key = enc.encode('k');
    await Promise.all([
      (async () => {
        await deliverChallenge(a, key);
        await answerChallenge(a, key);
      })(),
      (async () => {
        await answerChallenge(b, key);
        await deliverChallenge(b, key);
      })(),
    ]);
    const challenge = log[0]?.message as Uint8Array;
    expect(text(challenge).startsWith('#CHALLENGE#{sha256}')).toBe(true);
    expect(challenge.byteLength).toBe('#CHALLENGE#{sha256}'.length + 40);
    const answer = log[1]?.message as Uint8Array;
    const expected = createHmac('sha256', key).update(challenge.subarray(11)).digest();
    expect(text(answer.subarray(0, 8))).toBe('{sha256}');
    expect(Buffer.from(answer.subarray(8)).equals(expected)).toBe(true);
    expect(text(log[2]?.message as Uint8Array)).toBe('#WELCOME#');
    for (const m of log) expect(m.message.byteLength).toBeLessThanOrEqual(256);
  });

  for (const digest of ['md5', 'sha384', 'sha3_256', 'sha3_384'] as const) {
    it(`works with the ${digest} digest, and uses it`, async () => {
      const { a, b, log } = memoryPair();
      const key = enc.encode('k');
      await Promise.all([deliverChallenge(a, key, digest), answerChallenge(b, key)]);
      const challenge = log[0]?.message as Uint8Array;
      expect(text(challenge).startsWith(`#CHALLENGE#{${digest}}`)).toBe(true);
      // The answer names the same digest and is that digest's HMAC of the challenge message.
      const answer = log[1]?.message as Uint8Array;
      const prefix = `{${digest}}`;
      expect(text(answer.subarray(0, prefix.length))).toBe(prefix);
      const hmac = createHmac(digest.replace('_', '-'), key).update(challenge.subarray(11)).digest();
      expect(Buffer.from(answer.subarray(prefix.length)).equals(hmac)).toBe(true);
      expect(text(log[2]?.message as Uint8Array)).toBe('#WELCOME#');
    });
  }

  it('answers a legacy (Python 3.11) 20-byte challenge with a bare 16-byte HMAC-MD5', async () => {
    const { a, b, log } = memoryPair();
    const key = enc.encode('legacy');
    const challenge = new Uint8Array(20).fill(7);
    const answering = answerChallenge(b, key);
    a.write(Buffer.concat([enc.encode('#CHALLENGE#'), challenge]));
    const answer = await a.read();
    expect(answer.byteLength).toBe(16);
    expect(Buffer.from(answer).equals(createHmac('md5', key).update(challenge).digest())).toBe(true);
    a.write(enc.encode('#WELCOME#'));
    await answering;
    expect(log).toHaveLength(3);
  });

  it('accepts a legacy client that answers a modern challenge with bare HMAC-MD5', async () => {
    const { a, b } = memoryPair();
    const key = enc.encode('k');
    const delivering = deliverChallenge(a, key);
    const challenge = await b.read();
    b.write(createHmac('md5', key).update(challenge.subarray(11)).digest());
    expect(text(await b.read())).toBe('#WELCOME#');
    await delivering;
  });

  it('refuses a wrong key on both sides: #FAILURE# and AuthenticationError', async () => {
    const { a, b, log } = memoryPair();
    const [server, client] = await Promise.allSettled([
      deliverChallenge(a, enc.encode('right')),
      answerChallenge(b, enc.encode('wrong')),
    ]);
    expect(server.status === 'rejected' && isAuthenticationError(server.reason)).toBe(true);
    expect(client.status === 'rejected' && isAuthenticationError(client.reason)).toBe(true);
    expect(text(log[2]?.message as Uint8Array)).toBe('#FAILURE#');
  });

  it('cannot be downgraded: a digest name swapped in the challenge breaks the MAC', async () => {
    const key = enc.encode('k');
    const { a, b } = memoryPair((m, from) =>
      from === 'a' && text(m).startsWith('#CHALLENGE#{sha256}')
        ? Buffer.concat([enc.encode('#CHALLENGE#{md5}'), m.subarray('#CHALLENGE#{sha256}'.length)])
        : m,
    );
    const [server] = await Promise.allSettled([deliverChallenge(a, key), answerChallenge(b, key)]);
    expect(server.status).toBe('rejected');
  });

  it('refuses malformed handshake messages', async () => {
    const key = enc.encode('k');
    for (const bad of ['hello', '#CHALLENGE#short', '#CHALLENGE#{nope}01234567890123456789012']) {
      const { a, b } = memoryPair();
      const answering = answerChallenge(b, key);
      a.write(enc.encode(bad));
      expect(isAuthenticationError(await rejectionOf(answering))).toBe(true);
    }
    const { a, b } = memoryPair();
    const delivering = deliverChallenge(a, key);
    await b.read();
    b.write(enc.encode('{sha256}tooshort'));
    expect(isAuthenticationError(await rejectionOf(delivering))).toBe(true);
  });
});

/** A raw socket to a listener, with what it receives collected. */
function rawClient(path: string) {
  const socket = connect({ path });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

describe('Listener and Client authentication', () => {
  it('a wrong key is refused on both sides; accept() keeps waiting and serves the next good client', async () => {
    const errors: Error[] = [];
    const listener = await Listener.listen({
      authkey: 'k3y-0f-the-listener',
      onError: (e) => errors.push(e),
    });
    try {
      const accepting = listener.accept({ timeout: 15_000 });
      const err = await rejectionOf(Client(listener.address, { authkey: 'an0ther-k3y' }));
      expect(isAuthenticationError(err)).toBe(true);
      expect(err.message).toBe('digest sent was rejected');
      const good = await Client(listener.address, { authkey: 'k3y-0f-the-listener' });
      const conn = await accepting;
      await good.send('in');
      expect(await conn.recv()).toBe('in');
      expect(errors.some(isAuthenticationError)).toBe(true);
      // The key never shows up in what is reported.
      for (const e of [err, ...errors]) expect(`${e.message} ${e.stack}`).not.toMatch(/k3y/);
      await Promise.all([good.close(), conn.close()]);
    } finally {
      await listener.close();
    }
  });

  it('keeps its own copy of the key: the caller may wipe its buffer once listening', async () => {
    const key = Buffer.from('k3y-to-be-wiped');
    const listener = await Listener.listen({ authkey: key });
    try {
      key.fill(0);
      const client = await Client(listener.address, { authkey: 'k3y-to-be-wiped' });
      const conn = await listener.accept({ timeout: 10_000 });
      await Promise.all([client.close(), conn.close()]);
    } finally {
      await listener.close();
    }
  });

  it('authentication is mutual: a listener that cannot answer our challenge is refused by the Client', async () => {
    const dir = await tempDir();
    const path = join(dir, 'fake.sock');
    // A fake listener: sends a real challenge, welcomes any answer, then answers ours with junk.
    const server = createServer((socket: Socket) => {
      const frames: Buffer[] = [];
      let buf = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          frames.push(buf.subarray(4, 4 + buf.readInt32BE(0)));
          buf = buf.subarray(4 + buf.readInt32BE(0));
          const send = (s: Buffer) => socket.write(Buffer.concat([Buffer.from([0, 0, 0, s.length]), s]));
          if (frames.length === 1) send(Buffer.from('#WELCOME#'));
          if (frames.length === 2) send(Buffer.from('{sha256}not-a-valid-mac-not-a-valid-mac!'));
        }
      });
      socket.on('error', () => {});
      const send = (s: Buffer) => socket.write(Buffer.concat([Buffer.from([0, 0, 0, s.length]), s]));
      send(Buffer.concat([Buffer.from('#CHALLENGE#{sha256}'), Buffer.alloc(40, 1)]));
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const err = await rejectionOf(Client(path, { authkey: 'k' }));
      expect(isAuthenticationError(err)).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a client that sends and closes right behind its last handshake message loses nothing', async () => {
    const key = 'k';
    const listener = await Listener.listen({ authkey: key });
    try {
      const socket = connect({ path: listener.address as string });
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      const frames: Buffer[] = [];
      const waiters: Array<() => void> = [];
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          frames.push(buf.subarray(4, 4 + buf.readInt32BE(0)));
          buf = buf.subarray(4 + buf.readInt32BE(0));
          waiters.shift()?.();
        }
      });
      const next = async () => {
        if (frames.length === 0) await new Promise<void>((r) => waiters.push(r));
        return frames.shift() as Buffer;
      };
      const frame = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
      const challenge = (await next()).subarray(11);
      socket.write(
        frame(Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', key).update(challenge).digest()])),
      );
      expect((await next()).toString()).toBe('#WELCOME#');
      const ours = Buffer.concat([Buffer.from('{sha256}'), Buffer.alloc(40, 9)]);
      socket.write(frame(Buffer.concat([Buffer.from('#CHALLENGE#'), ours])));
      const answer = await next();
      expect(answer.subarray(8).equals(createHmac('sha256', key).update(ours).digest())).toBe(true);
      // WELCOME, two messages and the end of stream, all in one write.
      socket.end(
        Buffer.concat([
          frame(Buffer.from('#WELCOME#')),
          frame(Buffer.from('one')),
          frame(Buffer.from('two')),
        ]),
      );
      const conn = await listener.accept({ timeout: 10_000 });
      expect(Buffer.from(await conn.recvBytes()).toString()).toBe('one');
      expect(Buffer.from(await conn.recvBytes()).toString()).toBe('two');
      expect((await rejectionOf(within(conn.recvBytes(), 10_000, 'end of stream'))).code).toBe(
        'ERR_CONC_CONNECTION_CLOSED',
      );
      await conn.close();
      socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('sends a fresh random challenge on every connection', async () => {
    const listener = await Listener.listen({ authkey: 'k' });
    try {
      const one = rawClient(listener.address as string);
      const two = rawClient(listener.address as string);
      await within(
        (async () => {
          while (one.received().length < 63 || two.received().length < 63)
            await new Promise((r) => setTimeout(r, 5));
        })(),
        10_000,
        'challenges',
      );
      expect(one.received().subarray(4, 23).toString()).toBe('#CHALLENGE#{sha256}');
      expect(one.received().subarray(23, 63).equals(two.received().subarray(23, 63))).toBe(false);
      one.socket.destroy();
      two.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('decodes no payload before authentication succeeds', async () => {
    let decoded = 0;
    const codec = {
      name: 'counting',
      encode: (v: unknown) => defaultCodec.encode(v),
      decode: (b: Uint8Array) => {
        decoded++;
        return defaultCodec.decode(b);
      },
    };
    const listener = await Listener.listen({ authkey: 'k', codec, handshakeTimeout: 200 });
    try {
      // An intruder skips the handshake and sends well-formed message frames.
      const intruder = rawClient(listener.address as string);
      const payload = Buffer.concat([Buffer.from([1, 0]), Buffer.from(defaultCodec.encode({ evil: true }))]);
      for (let i = 0; i < 5; i++)
        intruder.socket.write(Buffer.concat([Buffer.from([0, 0, 0, payload.length]), payload]));
      await within(intruder.closed, 10_000, 'intruder closed');
      expect(decoded).toBe(0);
      const good = await Client(listener.address, { authkey: 'k', codec });
      const conn = await listener.accept();
      await good.send({ fine: true });
      expect(await conn.recv()).toEqual({ fine: true });
      expect(decoded).toBe(1);
      await Promise.all([good.close(), conn.close()]);
    } finally {
      await listener.close();
    }
  });

  it('closes a silent (slowloris) client at the handshake deadline while serving others', async () => {
    const errors: Error[] = [];
    const listener = await Listener.listen({
      authkey: 'k',
      handshakeTimeout: 300,
      onError: (e) => errors.push(e),
    });
    try {
      const slow = rawClient(listener.address as string);
      const good = await Client(listener.address, { authkey: 'k' });
      const conn = await listener.accept();
      await good.send('served');
      expect(await conn.recv()).toBe('served');
      await within(slow.closed, 10_000, 'slow client closed');
      expect(errors.map((e) => e.message)).toContain('the handshake did not finish within 300 ms');
      await Promise.all([good.close(), conn.close()]);
    } finally {
      await listener.close();
    }
  });

  it('caps handshake messages at 256 bytes and closes a flooding client', async () => {
    const listener = await Listener.listen({ authkey: 'k' });
    try {
      const tooLong = rawClient(listener.address as string);
      tooLong.socket.write(Buffer.from([0, 0, 1, 1])); // 257 bytes announced
      await within(tooLong.closed, 10_000, 'over-long closed');
      const flood = rawClient(listener.address as string);
      const junk = Buffer.alloc(64 * 1024, 0);
      for (let i = 0; i < 4 && !flood.socket.destroyed; i++) flood.socket.write(junk);
      await within(flood.closed, 10_000, 'flood closed');
    } finally {
      await listener.close();
    }
  });

  it('at maxPendingHandshakes, a new client makes room: the one silent longest is told, closed and reported', async () => {
    const errors: Error[] = [];
    const listener = await Listener.listen({
      authkey: 'k',
      maxPendingHandshakes: 2,
      handshakeTimeout: 10_000,
      onError: (e) => errors.push(e),
    });
    try {
      const first = rawClient(listener.address as string);
      const second = rawClient(listener.address as string);
      await within(
        (async () => {
          while (first.received().length === 0 || second.received().length === 0)
            await new Promise((r) => setTimeout(r, 5));
        })(),
        10_000,
        'two handshakes started',
      );
      const third = rawClient(listener.address as string);
      await within(first.closed, 10_000, 'first (silent longest) closed');
      // Its challenge, then the refusal saying why.
      const frames = first.received();
      const challengeEnd = 4 + frames.readInt32BE(0);
      const refusal = frames.subarray(challengeEnd + 4, challengeEnd + 4 + frames.readInt32BE(challengeEnd));
      expect(refusal.toString('latin1')).toMatch(
        /^#BUSY#busy: 2 handshakes were in progress \(maxPendingHandshakes\)/,
      );
      expect(errors).toHaveLength(1);
      expect(isListenerBusyError(errors[0])).toBe(true);
      expect(errors[0]?.message).toMatch(/refused a client to make room: 2 handshakes/);
      expect(listener.refusals).toEqual({ busy: 1, deadline: 0, authentication: 0 });
      // A real client still gets in (making room again: second, now silent longest, goes).
      const good = await Client(listener.address, { authkey: 'k' });
      const conn = await listener.accept({ timeout: 10_000 });
      await good.send('in');
      expect(await conn.recv()).toBe('in');
      expect(third.socket.destroyed).toBe(false);
      expect(listener.refusals.busy).toBe(2);
      await Promise.all([good.close(), conn.close()]);
      second.socket.destroy();
      third.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it("a Client turned away by a busy listener says so: ListenerBusyError with the listener's reason", async () => {
    const dir = await tempDir();
    const path = join(dir, 'busy.sock');
    const frame = (s: string) => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s, 'latin1')]);
    // A listener at its limit (ours writes exactly this), first as the challenge, then as the verdict.
    let verdictToo = false;
    const server = createServer((socket: Socket) => {
      socket.on('error', () => {});
      if (verdictToo) {
        socket.write(frame(`#CHALLENGE#{sha256}${'x'.repeat(40)}`));
        socket.once('data', () => socket.end(frame('#BUSY#busy: 64 handshakes in progress\u0007')));
      } else {
        socket.end(frame('#BUSY#busy: 64 handshakes in progress'));
      }
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      for (const late of [false, true]) {
        verdictToo = late;
        const err = await rejectionOf(Client(path, { authkey: 'k', timeout: 10_000 }));
        expect(isListenerBusyError(err)).toBe(true);
        expect(err.code).toBe('ERR_CONC_LISTENER_BUSY');
        expect(err.message).toBe(
          `the listener refused this connection: busy: 64 handshakes in progress${late ? '?' : ''}`,
        );
      }
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('listening defaults', () => {
  it('binds loopback TCP (by default for a port alone) without an authkey, and refuses any other host without one', async () => {
    const l = await Listener.listen({ address: { host: '127.0.0.1', port: 0 } });
    expect(l.address).toMatchObject({ host: '127.0.0.1' });
    expect((l.address as { port: number }).port).toBeGreaterThan(0);
    await l.close();
    await expect(Listener.listen({ address: { host: '0.0.0.0', port: 0 } })).rejects.toThrow(
      /without an authkey/,
    );
    await expect(Listener.listen({ address: { host: '::', port: 0 } })).rejects.toThrow(/without an authkey/);
    await expect(Listener.listen({ address: { host: hostname(), port: 0 } })).rejects.toThrow(
      /without an authkey/,
    );
    // A port alone listens on loopback, with or without a key.
    for (const authkey of [undefined, 'k']) {
      const local = await Listener.listen({ address: { port: 0 }, authkey });
      expect(local.address).toMatchObject({ host: '127.0.0.1' });
      const client = await Client(local.address, { authkey });
      const conn = await local.accept({ timeout: 10_000 });
      expect(conn.remoteAddress).toMatchObject({ host: '127.0.0.1' });
      await Promise.all([client.close(), conn.close(), local.close()]);
    }
    await expect(Listener.listen({ tls: {} })).rejects.toThrow(/tls needs a TCP address/);
    await expect(Listener.listen({ authkey: '' })).rejects.toThrow(/must not be empty/);
  });

  it('makes a private 0700 directory for its socket and removes it on close', async () => {
    const { statSync, existsSync } = await import('node:fs');
    const { dirname } = await import('node:path');
    const l = await Listener.listen();
    const dir = dirname(l.address as string);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await l.close();
    expect(existsSync(dir)).toBe(false);
    expect((await rejectionOf(l.accept())).code).toBe('ERR_CONC_CONNECTION_CLOSED');
  });
});

const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('TLS', () => {
  // openssl makes the self-signed certificate; .ci/run installs it when absent.
  it('has openssl to make a test certificate', () => {
    expect(openssl, 'openssl is required for the TLS tests').toBe(true);
  });

  it('authenticates and exchanges messages over TLS with a self-signed certificate', async () => {
    const dir = await tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = { key: readFileSync(key), cert: readFileSync(cert) };
    const errors: Error[] = [];
    const listener = await Listener.listen({
      address: { host: '127.0.0.1', port: 0 },
      authkey: 'k',
      tls,
      onError: (e) => errors.push(e),
    });
    try {
      const client = await Client(listener.address, {
        authkey: 'k',
        tls: { ca: tls.cert, servername: 'localhost' },
      });
      const conn = await listener.accept();
      await client.send({ over: 'tls' });
      expect(await conn.recv()).toEqual({ over: 'tls' });
      await conn.sendBytes(Buffer.alloc(1024 * 1024, 7));
      expect((await client.recvBytes()).byteLength).toBe(1024 * 1024);
      await Promise.all([client.close(), conn.close()]);
      // A client that does not trust the certificate is refused by TLS itself.
      await expect(Client(listener.address, { authkey: 'k', tls: true })).rejects.toThrow();
      // A plain client gets no challenge it can read: refused.
      await expect(Client(listener.address, { authkey: 'k', timeout: 2000 })).rejects.toThrow();
    } finally {
      await listener.close();
    }
  });
});
