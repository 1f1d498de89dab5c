import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnProcess, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('conc-demo pipe', () => {
  it('Ken hands Jack a rose through a process pipe; a Python Client talks to our Listener', async () => {
    const p = spawnProcess(process.execPath, [cli, 'pipe']);
    const exit = await within(p.exited, 50_000, 'conc-demo pipe');
    expect(exit.code, p.stderr()).toBe(0);
    const lines = p
      .stdout()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    expect(lines.slice(0, 4)).toEqual([
      "== pipe: Python's multiprocessing Pipe and Listener/Client across processes",
      'Ken and Jack, two child processes, each holding one end of Pipe({ scope: "process" }):',
      "Ken (pid …): send({ gift: 'rose', from: 'Ken' })",
      'Jack (pid …): recv() -> a rose from Ken',
    ]);
    expect(lines[4]).toBe(
      'A Listener with an authkey, and a Python multiprocessing.connection.Client talking to it:',
    );
    if (hasPython) {
      expect(lines.slice(5)).toEqual([
        "Node: accept() -> a connection that proved it knows the authkey (CPython's HMAC handshake)",
        'Node: recvBytes() -> a rose, from Python',
        'Python: recv_bytes() -> thank you, from Node',
      ]);
    } else {
      expect(lines.slice(5)).toEqual(['(python3 is not installed here: skipping the Python part)']);
    }
  });
});
