import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('conc-demo queue', () => {
  it('shows the three orders and Ken handing Jack a rose across worker threads with join()/taskDone()', async () => {
    const { code, stderr, lines } = await runDemo('queue');
    expect(code, stderr).toBe(0);
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
