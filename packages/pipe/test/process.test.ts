/**
 * Process pipes with real child processes: ends handed over as JSON tokens,
 * the private meeting directory, ends closed or attached twice before they
 * meet, a reader killed in the middle of a big write, and what keeps a
 * process alive.
 */
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fixture, spawnChild, spawnProcess, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { attach, Pipe, PROCESS_CONNECTION_KIND, rejectionOf, share } from './helpers.js';

const pipeEnd = fixture(import.meta.url, 'pipe-end.mjs');

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('process pipe: ends in other processes', () => {
  it('Ken sends a rose to Jack: both ends in two different child processes', async () => {
    const [kenEnd, jackEnd] = Pipe({ scope: 'process' });
    const kenToken = JSON.stringify(share(kenEnd));
    const jackToken = JSON.stringify(share(jackEnd));
    await using jack = spawnChild(pipeEnd, ['recv', jackToken]);
    await using ken = spawnChild(pipeEnd, ['send', kenToken, JSON.stringify({ from: 'Ken', gift: 'rose' })]);
    expect(await jack.nextMessage(20_000)).toEqual({ got: { from: 'Ken', gift: 'rose' } });
    expect((await ken.exited).code).toBe(0);
    expect((await jack.exited).code).toBe(0);
  });

  it('an end given to a child over IPC (process.send) works like one given in argv', async () => {
    const [mine, theirs] = Pipe<{ n: number }>({ scope: 'process' });
    await using child = spawnChild(pipeEnd, ['via-ipc']);
    await child.send({ token: share(theirs) });
    for (let n = 0; n < 50; n++) void mine.send({ n });
    for (let n = 0; n < 50; n++) expect(await within(mine.recv(), 10_000, 'echo')).toEqual({ n });
    await mine.close();
    expect((await child.exited).code).toBe(0);
  });

  it('a pipe end sent inside a message through another pipe is rebuilt on the other side', async () => {
    const [mine, theirs] = Pipe({ scope: 'process' });
    await using child = spawnChild(pipeEnd, ['reply-on', JSON.stringify(share(theirs))]);
    const [back, reply] = Pipe<string>({ scope: 'process' });
    // The unused end travels as a token in the message and is attached by the codec on arrival.
    await mine.send({ reply });
    expect(reply.closed).toBe(true);
    expect(await within(back.recv(), 15_000, 'reply')).toBe(`hello from ${child.pid}`);
    expect((await child.exited).code).toBe(0);
    await Promise.all([mine.close(), back.close()]);
  });

  it('meets in a private 0700 directory that is gone once the ends are connected', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const token = share(b);
    expect(token.kind).toBe(PROCESS_CONNECTION_KIND);
    expect(JSON.parse(JSON.stringify(token))).toEqual(token);
    const { dir } = token.data as { dir: string };
    const polled = a.poll(30_000);
    // a listens (the other end is not attached yet): the directory exists, private.
    const st = await (async () => {
      for (;;) {
        try {
          return await stat(`${dir}/pipe.sock`).then(() => stat(dir));
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    })();
    expect(st.mode & 0o777).toBe(0o700);
    const b2 = attach(token);
    await b2.send('hi');
    expect(await within(polled, 10_000, 'poll')).toBe(true);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    await Promise.all([a.close(), b2.close()]);
  });

  it('an end closed before the ends met makes the other end fail with ConnectionClosedError', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const token = share(b);
    await a.close();
    await using child = spawnChild(pipeEnd, ['recv', JSON.stringify(token)]);
    const exit = await child.exited;
    expect(exit.code).not.toBe(0);
    expect(child.stderr()).toContain('ConnectionClosedError');
    expect(child.stderr()).toContain('closed before the two ends connected');
  });

  it('closing an end whose peer never attached rejects its pending sends instead of waiting forever', async () => {
    const [a, b] = Pipe<string>({ scope: 'process' });
    const token = share(b); // handed to a process that dies before attaching it
    const pending = rejectionOf(a.send('a rose nobody will take'));
    await within(a.close(), 10_000, 'close with a send waiting for a peer that never comes');
    const err = await within(pending, 10_000, 'the pending send');
    expect(err.code).toBe('ERR_CONC_CONNECTION_CLOSED');
    expect(err.message).toContain('before the other end of the pipe was attached');
    // The closed end left a marker for its peer; the peer closing too removes the directory.
    await attach(token).close();
  });

  it('a process whose pipe end was never attached exits once it closes its own end', async () => {
    const script = [
      "import { Pipe } from '@conc/pipe';",
      "import { attach, share } from '@conc/serialize';",
      "const [a, b] = Pipe({ scope: 'process' });",
      'const token = share(b);',
      "const sent = a.send('x').catch((e) => e.code);",
      'await a.close();',
      'console.log(await sent);',
      'await attach(token).close();',
    ].join('\n');
    const p = spawnProcess(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir });
    const exit = await within(p.exited, 15_000, 'the process exits');
    expect(exit.code, p.stderr()).toBe(0);
    expect(p.stdout().trim()).toBe('ERR_CONC_CONNECTION_CLOSED');
  });

  it('an end closed while the other listens wakes it with ConnectionClosedError', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const token = share(b);
    const waiting = rejectionOf(a.recv());
    // Let a start listening, then close the attached copy of b before it ever connects.
    await new Promise((r) => setTimeout(r, 50));
    await attach(token).close();
    const err = await within(waiting, 10_000, 'woken');
    expect(err.code).toBe('ERR_CONC_CONNECTION_CLOSED');
    await a.close();
  });

  it('refuses the same end attached twice; the real pair still works', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const token = share(b);
    const first = attach(token);
    const twin = attach(token);
    const sent = first.send('one');
    expect(await within(a.recv(), 10_000, 'first pair')).toBe('one');
    await sent;
    const err = await within(rejectionOf(twin.recv()), 15_000, 'twin');
    expect(err.code).toBe('ERR_CONC_CONNECTION_CLOSED');
    await Promise.all([a.close(), first.close(), twin.close()]);
  });

  it('refuses to share an end once either end has been used here', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    void a.poll(0);
    expect(() => share(b)).toThrow(/before either end is used/);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('process pipe: failures', () => {
  it('a reader killed during a multi-MiB write: the pending sends reject, nothing hangs', async () => {
    const [mine, theirs] = Pipe({ scope: 'process' });
    await using child = spawnChild(pipeEnd, ['sink', JSON.stringify(share(theirs))]);
    expect(await within(mine.recv(), 15_000, 'ready')).toBe('ready');
    // 64 MiB: far more than the child buffers before it stops reading (8 MiB) plus the kernel's share.
    const chunk = new Uint8Array(4 * 1024 * 1024);
    const sends = Array.from({ length: 16 }, () => mine.sendBytes(chunk));
    await child.kill('SIGKILL');
    const outcomes = await within(Promise.allSettled(sends), 5000, 'pending sends after the kill');
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const o of rejected) expect((o.reason as { code?: string }).code).toBe('ERR_CONC_CONNECTION_CLOSED');
    // Sends resolve in order: once one failed, every later one failed too.
    const firstFailed = outcomes.findIndex((o) => o.status === 'rejected');
    expect(outcomes.slice(firstFailed).every((o) => o.status === 'rejected')).toBe(true);
    expect((await rejectionOf(mine.recv())).code).toBe('ERR_CONC_CONNECTION_CLOSED');
    await mine.close();
  });

  it('a slow reader holds the writer back instead of buffering without bound', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const chunk = new Uint8Array(1024 * 1024);
    let resolved = 0;
    const sends = Array.from({ length: 48 }, () => a.sendBytes(chunk).then(() => resolved++));
    expect(await within(b.poll(30_000), 10_000, 'first message')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    // 48 MiB cannot all have left: the reader paused at its high-water mark.
    expect(resolved).toBeLessThan(48);
    for (let i = 0; i < 48; i++) expect((await b.recvBytes()).byteLength).toBe(chunk.byteLength);
    await Promise.all(sends);
    expect(resolved).toBe(48);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('keeping the process alive', () => {
  const keepAlive = fixture(import.meta.url, 'keep-alive.mjs');
  for (const mode of ['idle-thread', 'idle-process', 'idle-client']) {
    it(`an idle ${mode.replace('idle-', '')} connection with nothing pending lets the process exit`, async () => {
      await using child = spawnProcess(process.execPath, [keepAlive.pathname, mode]);
      const exit = await within(child.exited, 15_000, `${mode} child exit`);
      expect(child.stderr()).toBe('');
      expect(child.stdout()).toBe('idle true\n');
      expect(exit.code).toBe(0);
    });
  }

  it('a pending recv keeps the process alive until its message arrives', async () => {
    await using child = spawnProcess(process.execPath, [keepAlive.pathname, 'pending-recv']);
    const exit = await within(child.exited, 15_000, 'pending-recv child exit');
    expect(child.stderr()).toBe('');
    expect(child.stdout()).toBe('got late late too\n');
    expect(exit.code).toBe(0);
  });
});
