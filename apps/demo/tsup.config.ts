import { readdirSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Every src/scenarios/*.ts is a scenario; the list is baked in at build time and
// each one is bundled into dist/cli.js (esbuild's glob import), so scenario code
// reaches its worker programs with `new URL('./workers/<name>.js', import.meta.url)`.
const scenarios = readdirSync('src/scenarios')
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3));

// The demo is an app, not a library: ESM only; worker and child programs are
// separate entries so they can be started as real threads and processes.
export default defineConfig({
  entry: ['src/cli.ts', 'src/workers/*.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
  splitting: false,
  define: { __CONC_SCENARIOS__: JSON.stringify(scenarios) },
});
