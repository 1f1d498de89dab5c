import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess, within } from '@conc/testkit';
import type { ExampleFile, ReadmeExample } from './extract.js';

/** The part of esbuild's API used here (esbuild is tsup's dependency, not ours: no types to import). */
interface Esbuild {
  transform(
    code: string,
    options: { loader: 'ts' | 'js'; format: 'esm'; target: string; sourcefile: string },
  ): Promise<{ code: string; warnings: { text: string }[] }>;
}

// esbuild comes with tsup (the build tool of every package); resolve it from there rather
// than adding a dependency to the demo.
const requireHere = createRequire(import.meta.url);
const esbuild = createRequire(requireHere.resolve('tsup/package.json'))('esbuild') as Esbuild;

/**
 * Scratch directories live inside apps/demo (git-ignored) so that the examples'
 * `@conc/*` imports resolve through apps/demo/node_modules to the built packages,
 * exactly as they would in a user's project.
 */
export const scratchRoot = fileURLToPath(new URL('../../.readme-run/', import.meta.url));

/** What one run of an example printed. */
export interface ExampleRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

async function compile(file: ExampleFile, readme: string): Promise<string> {
  // Default TypeScript semantics: imports used only as types are dropped, as `tsc`
  // does without verbatimModuleSyntax, so an example must not rely on an import's
  // side effect through a type-only use.
  const out = await esbuild.transform(file.code, {
    loader: file.loader,
    format: 'esm',
    target: 'node20',
    sourcefile: `${readme}:${file.line}`,
  });
  if (out.warnings.length > 0) {
    throw new Error(
      `${readme}:${file.line}: esbuild warnings: ${out.warnings.map((w) => w.text).join('; ')}`,
    );
  }
  return out.code;
}

/**
 * Writes the example (TypeScript turned into ESM JavaScript) into a fresh
 * directory under {@link scratchRoot}, runs `node main.js` there as a real
 * child process and removes the directory again.
 */
export async function runExample(
  example: ReadmeExample,
  readme: string,
  prefix: string,
  timeoutMs: number,
): Promise<ExampleRun> {
  await mkdir(scratchRoot, { recursive: true });
  const dir = await mkdtemp(join(scratchRoot, `${prefix}-`));
  try {
    for (const file of [example.main, ...example.files]) {
      await writeFile(join(dir, file.name), await compile(file, readme));
    }
    const child = spawnProcess(process.execPath, [join(dir, example.main.name)], { cwd: dir });
    const exit = await within(
      child.exited,
      timeoutMs,
      `${readme} "${example.title}" (node main.js in ${dir})`,
    );
    return { code: exit.code, signal: exit.signal, stdout: child.stdout(), stderr: child.stderr() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
