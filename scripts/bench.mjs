#!/usr/bin/env node
// `pnpm bench [--quick] [--only serialize,queue] [--runs N] [--no-build]`
// Runs every packages/*/bench/*.bench.mjs against the built packages, prints a
// table and writes bench-results.json at the repository root.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cachelineRoundTrip, createHarness, formatTable } from './bench-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'bench-results.json') },
  },
  allowPositionals: true,
});
const quick = values.quick;
const runs = values.runs ? Number(values.runs) : quick ? 3 : 5;
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;

if (!values['no-build']) {
  execFileSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    },
  );
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  if (only && !only.has(pkg)) continue;
  const dir = join(root, 'packages', pkg, 'bench');
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort())
    if (f.endsWith('.bench.mjs')) files.push({ pkg, dir, file: join(dir, f) });
}
if (files.length === 0) {
  console.error(`bench: no bench files found${only ? ` for ${[...only].join(', ')}` : ''}`);
  process.exit(1);
}

console.log(
  `bench: ${files.length} file(s), ${quick ? 'quick' : 'full'} mode, ${runs} interleaved runs each (medians)`,
);
const rows = [];
let failed = 0;
// Read every row against the machine: its cache-line round trip between two threads, now.
const cacheline = await cachelineRoundTrip({ rounds: quick ? 5 : 9 });
console.log(
  `machine: cache-line round trip between two threads ${cacheline.median.toFixed(0)} ns (median; lowest ${cacheline.min.toFixed(0)} ns)`,
);
rows.push({
  id: 'machine.cacheline.rtt',
  unit: 'ns',
  value: Math.round(cacheline.median),
  runs: quick ? 4 : 8,
  note: `two threads bouncing one shared word; lowest round ${Math.round(cacheline.min)} ns`,
});
for (const { pkg, dir, file } of files) {
  const name = `${pkg}/bench/${file.split('/').pop()}`;
  console.log(`\n▶ ${name}`);
  const start = rows.length;
  const t0 = Date.now();
  try {
    const mod = await import(pathToFileURL(file).href);
    const h = createHarness({ quick, runs, benchDir: dir, pkg, rows, log: (s) => console.log(`  ${s}`) });
    await mod.default(h);
    console.log(`  machine: cache-line round trip ${cacheline.median.toFixed(0)} ns`);
    console.log(formatTable(rows.slice(start)));
    console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed += 1;
    console.error(`✗ ${name} failed: ${err?.stack ?? err}`);
  }
}

// Rows of packages not run this time are kept, so `--only` refreshes part of the file.
let previous = [];
if (existsSync(values.out)) {
  try {
    previous = JSON.parse(readFileSync(values.out, 'utf8')).rows ?? [];
  } catch {
    previous = [];
  }
}
const fresh = new Set(rows.map((r) => r.id));
const merged = [...previous.filter((r) => !fresh.has(r.id)), ...rows].sort((a, b) =>
  a.id.localeCompare(b.id),
);
let python = 'unknown';
try {
  python = execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
} catch {}
const meta = {
  generatedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  runs,
  node: process.version,
  python,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  cachelineRttNs: Math.round(cacheline.median),
};
writeFileSync(values.out, `${JSON.stringify({ meta, rows: merged }, null, 2)}\n`);
console.log(
  `\nbench: ${rows.length} row(s) written to ${values.out}${failed ? `; ${failed} file(s) failed` : ''}`,
);
process.exit(failed ? 1 : 0);
