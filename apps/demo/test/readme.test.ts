// Every runnable code example in the package READMEs, run as a user would run it:
// TypeScript turned into ESM JavaScript (esbuild), written next to apps/demo's
// node_modules so `@conc/*` resolves to the built packages, then `node main.js`.
// The conventions (which blocks run, `file=`, `// → ...`) are in readme/extract.ts.
import { readFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { extractExamples } from './readme/extract.js';
import { type NamedExample, runExample, scratchRoot, typecheckExamples } from './readme/run.js';

const PACKAGES = ['serialize', 'pipe', 'lock', 'queue', 'manager'] as const;

/**
 * stderr lines that are not a failure. Empty on purpose: no example should
 * print a warning. Add a pattern here only with a comment saying why it is
 * expected and harmless.
 */
const KNOWN_STDERR: RegExp[] = [];

/** A generous bound for one example on a loaded 2-core machine; each runs well under a second alone. */
const EXAMPLE_TIMEOUT_MS = 20_000;

function unexpectedStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !KNOWN_STDERR.some((re) => re.test(line)))
    .join('\n');
}

// Each example removes its own directory; remove the (then empty) parent too, but never
// another run's directories.
afterAll(async () => {
  await rmdir(scratchRoot).catch(() => {});
});

const all: NamedExample[] = [];

for (const pkg of PACKAGES) {
  const readme = `packages/${pkg}/README.md`;
  const markdown = readFileSync(new URL(`../../../${readme}`, import.meta.url), 'utf8');
  const examples = extractExamples(markdown);
  all.push(...examples.map((example, n) => ({ id: `${pkg}-${n + 1}`, example })));

  describe(`@conc/${pkg} README`, () => {
    it('has a runnable example in its Usage section', () => {
      expect(examples.filter((e) => e.headings[0] === 'Usage').map((e) => e.title)).not.toEqual([]);
    });

    examples.forEach((example, n) => {
      it(`${pkg}: ${example.title}`, async () => {
        const run = await runExample(example, readme, `${pkg}-${n + 1}`, EXAMPLE_TIMEOUT_MS);
        const where = `${readme}:${example.main.line} "${example.title}"\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
        expect(run.signal, where).toBeNull();
        expect(run.code, where).toBe(0);
        expect(unexpectedStderr(run.stderr), where).toBe('');
        for (const text of example.expected) expect(run.stdout, where).toContain(text);
      });
    });
  });
}

describe('README examples', () => {
  it('typecheck with the strictest settings of the repository', async () => {
    const run = await typecheckExamples(all, 40_000);
    // tsc reports `<pkg>-<n>/main.ts(line,col): error ...`: <pkg>-<n> is the n-th example of that README.
    expect(run.stdout + run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});
