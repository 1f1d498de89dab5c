/**
 * Python's multiprocessing Pipe and connection for Node: the seed's Pipe
 * example (Ken sends a rose, Jack receives it) between two child processes,
 * then a Listener that a real Python `multiprocessing.connection.Client`
 * authenticates to and talks with.
 */
import { execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Listener, Pipe, share } from '@conc/pipe';

export const title = "Python's multiprocessing Pipe and Listener/Client across processes";

/** Starts a demo child process and resolves with the one line it reports over IPC. */
async function child(name: string, token: unknown): Promise<string> {
  const p = fork(new URL(`./workers/pipe-${name}.js`, import.meta.url), [JSON.stringify(token)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [[line], [code]] = (await Promise.all([once(p, 'message'), once(p, 'exit')])) as [[string], [number]];
  if (code !== 0) throw new Error(`${name} exited with code ${code}`);
  return line;
}

/** A Python Client: authenticates with the key, sends bytes, prints what comes back. */
const PYTHON_CLIENT = `
import sys
from multiprocessing.connection import Client
with Client(sys.argv[1], authkey=sys.argv[2].encode()) as conn:
    conn.send_bytes(b"a rose, from Python")
    print("Python: recv_bytes() ->", conn.recv_bytes().decode())
`;

function python(args: string[]): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('python3', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') resolve(undefined);
      else if (err) reject(new Error(`python3 failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

export async function run(out: (line: string) => void): Promise<void> {
  out('Ken and Jack, two child processes, each holding one end of Pipe({ scope: "process" }):');
  const [kenEnd, jackEnd] = Pipe<{ gift: string; from: string }>({ scope: 'process' });
  // Each end travels as a JSON token (here in argv) and connects when first used.
  const [ken, jack] = await Promise.all([child('ken', share(kenEnd)), child('jack', share(jackEnd))]);
  out(ken.replace(/pid \d+/, 'pid …'));
  out(jack.replace(/pid \d+/, 'pid …'));

  out('A Listener with an authkey, and a Python multiprocessing.connection.Client talking to it:');
  const authkey = randomBytes(16).toString('hex');
  const listener = await Listener.listen({ authkey });
  try {
    const client = python(['-c', PYTHON_CLIENT, listener.address as string, authkey]);
    const accepted = listener.accept({ timeout: 20_000 });
    // Without python3 nobody connects, and closing the listener rejects this accept: expected.
    accepted.catch(() => {});
    const said = await Promise.race([client.then((s) => ({ absent: s === undefined })), accepted]);
    if ('absent' in said) {
      out('  (python3 is not installed here: skipping the Python part)');
      return;
    }
    const conn = said;
    out(`  Node: accept() -> a connection that proved it knows the authkey (CPython's HMAC handshake)`);
    const got = Buffer.from(await conn.recvBytes()).toString();
    out(`  Node: recvBytes() -> ${got}`);
    await conn.sendBytes(Buffer.from('thank you, from Node'));
    out(`  ${await client}`);
    await conn.close();
  } finally {
    await listener.close();
  }
}
