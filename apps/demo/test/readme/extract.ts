/**
 * Finds the runnable examples in a package README.
 *
 * Conventions (documented in each README only by example):
 * - A fenced block in `ts`/`typescript`/`js`/`javascript`/`mjs` is a complete
 *   program, run as `main.js`, unless its info string says `nocheck`
 *   (an API signature or a fragment, never run).
 * - A block with `file=<name>` (e.g. ```` ```ts file=worker.ts ````) is a
 *   second file of the program above it under the same heading, written as
 *   `<name>` with `.ts` turned into `.js`; the main block reaches it as
 *   `new URL('./worker.js', import.meta.url)`.
 * - A comment `// → text` or `// prints: text` says that the program's
 *   stdout contains `text`.
 */

/** One source file of an example. */
export interface ExampleFile {
  /** The name it is written under, `.ts` already replaced by `.js`. */
  name: string;
  loader: 'ts' | 'js';
  code: string;
  /** 1-based line of the opening fence in the README. */
  line: number;
}

/** One runnable example: a main program and the files it needs. */
export interface ReadmeExample {
  /** The heading the example sits under, made unique within the README. */
  title: string;
  /** Every heading above it, outermost first (e.g. `['Usage', 'Between worker threads']`). */
  headings: string[];
  main: ExampleFile;
  files: ExampleFile[];
  /** Texts that stdout must contain, from `// → ...` and `// prints: ...` comments. */
  expected: string[];
}

const RUNNABLE = new Map<string, 'ts' | 'js'>([
  ['ts', 'ts'],
  ['typescript', 'ts'],
  ['js', 'js'],
  ['javascript', 'js'],
  ['mjs', 'js'],
]);

const EXPECTED = /\/\/\s*(?:→|prints:)\s*(.+?)\s*$/;

function outputName(name: string): string {
  return name.replace(/\.(m?)ts$/, '.$1js');
}

/** The expected-output comments of a block, in order. */
export function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    const m = EXPECTED.exec(line);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

/**
 * Splits `markdown` into its runnable examples. Throws on a malformed README
 * (an unclosed fence, a `file=` block with no program above it, two files of
 * one example with the same name), so such a README fails its test.
 */
export function extractExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  const headings: string[] = [];
  let current: ReadmeExample | undefined;
  const titles = new Map<string, number>();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heading = /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    if (heading?.[1] && heading[2] !== undefined) {
      const depth = heading[1].length;
      headings.length = Math.max(0, depth - 2); // the page title (#) is not part of the path
      if (depth >= 2) headings.push(heading[2]);
      current = undefined;
      continue;
    }
    const fence = /^(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(line);
    if (!fence?.[1]) continue;
    const marker = fence[1];
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(marker); i++) body.push(lines[i] ?? '');
    if (i >= lines.length) throw new Error(`line ${start}: unclosed code fence`);

    const loader = RUNNABLE.get((fence[2] ?? '').toLowerCase());
    const attrs = (fence[3] ?? '').split(/\s+/).filter(Boolean);
    if (!loader || attrs.includes('nocheck')) continue;
    const code = `${body.join('\n')}\n`;
    const fileAttr = attrs.find((a) => a.startsWith('file='));
    if (fileAttr) {
      if (!current) throw new Error(`line ${start}: ${fileAttr} block has no program above it`);
      const name = outputName(fileAttr.slice('file='.length));
      if (name === 'main.js' || current.files.some((f) => f.name === name)) {
        throw new Error(`line ${start}: ${fileAttr} is already a file of "${current.title}"`);
      }
      current.files.push({ name, loader, code, line: start });
      current.expected.push(...expectedOutput(code));
      continue;
    }
    const base = headings.at(-1) ?? '(no heading)';
    const seen = (titles.get(base) ?? 0) + 1;
    titles.set(base, seen);
    current = {
      title: seen === 1 ? base : `${base} (${seen})`,
      headings: [...headings],
      main: { name: 'main.js', loader, code, line: start },
      files: [],
      expected: expectedOutput(code),
    };
    examples.push(current);
  }
  return examples;
}
