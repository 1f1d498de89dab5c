import { defineConfig } from 'tsup';

// The demo is an app, not a library: ESM only, one file per entry (scenario
// workers are separate entries so they can be started as real threads/processes).
export default defineConfig({
  entry: ['src/cli.ts', 'src/workers/*.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
  splitting: false,
});
