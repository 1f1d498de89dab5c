import { defineConfig, type Options } from 'tsup';

/**
 * The one build configuration every published package shares: ESM + CJS with
 * `.d.ts` / `.d.cts`, one entry per subpath export.
 *
 * @param entry map of output name to source file, e.g. `{ index: 'src/index.ts', process: 'src/process/index.ts' }`
 */
export function concConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    // Entries share one copy of each module (a chunk), in CJS as in ESM: with
    // a copy per entry, `@conc/x/internal` would throw its own TokenError
    // class, which `instanceof` against the main entry's would not match.
    splitting: true,
    treeshake: true,
    ...overrides,
  });
}
