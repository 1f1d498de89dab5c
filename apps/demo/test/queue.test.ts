import { fileURLToPath } from 'node:url';
import { spawnProcess, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('conc-demo queue', () => {
  it('shows the three orders and Ken handing Jack a rose across worker threads with join()/taskDone()', async () => {
    const p = spawnProcess(process.execPath, [cli, 'queue']);
    const exit = await within(p.exited, 50_000, 'conc-demo queue');
    expect(exit.code, p.stderr()).toBe(0);
    const lines = p
      .stdout()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    expect(lines).toEqual([
      "== queue: Python's queue module across worker threads",
      'Queue (first in, first out): 1 2 3',
      'LifoQueue (last in, first out): 3 2 1',
      "PriorityQueue (lowest first): [10,'A'] [30,'C'] [50,'B'] -> A C B",
      'Ken and Jack, two worker threads sharing one Queue:',
      'Ken: put(a rose for Jack), then join()',
      'Jack: get() -> a rose from Ken; taskDone()',
      'Ken: join() returned: Jack has the rose',
    ]);
  });
});
