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

const tsc = requireHere.resolve('typescript/bin/tsc');
const baseTsconfig = fileURLToPath(new URL('../../../../tsconfig.base.json', import.meta.url));

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

/** An example as it appears in a README, for the type check. */
export interface NamedExample {
  /** A directory name, unique among the examples checked together. */
  id: string;
  example: ReadmeExample;
}

/**
 * Type-checks every example as written (TypeScript source, `.js` names kept for
 * the `.js` blocks) with `tsc` and the repository's strictest settings
 * (tsconfig.base.json: strict, noUncheckedIndexedAccess, verbatimModuleSyntax),
 * against the built packages' declarations: esbuild only strips types, so a wrong
 * option name or argument would otherwise go unnoticed. Resolves with tsc's
 * exit code and output.
 */
export async function typecheckExamples(examples: NamedExample[], timeoutMs: number): Promise<ExampleRun> {
  await mkdir(scratchRoot, { recursive: true });
  const dir = await mkdtemp(join(scratchRoot, 'typecheck-'));
  try {
    for (const { id, example } of examples) {
      await mkdir(join(dir, id));
      for (const file of [example.main, ...example.files]) {
        const name = file.loader === 'ts' ? file.name.replace(/\.(m?)js$/, '.$1ts') : file.name;
        await writeFile(join(dir, id, name), file.code);
      }
    }
    const tsconfig = {
      extends: baseTsconfig,
      compilerOptions: { noEmit: true, allowJs: true, checkJs: true },
      include: ['**/*'],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const child = spawnProcess(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir });
    const exit = await within(child.exited, timeoutMs, `tsc over the README examples in ${dir}`);
    return { code: exit.code, signal: exit.signal, stdout: child.stdout(), stderr: child.stderr() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
