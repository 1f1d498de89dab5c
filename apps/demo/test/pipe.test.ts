import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

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
    const { code, stderr, lines } = await runDemo('pipe');
    expect(code, stderr).toBe(0);
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
