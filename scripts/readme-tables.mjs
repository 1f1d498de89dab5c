#!/usr/bin/env node
// Writes the performance tables of the READMEs from bench-results.json, so that
// no number in a README is copied by hand (and none can drift from the last run).
//
//   node scripts/readme-tables.mjs           rewrite every generated table
//   node scripts/readme-tables.mjs --check   exit 1 if a README is not what the results give
//
// A README opts in with a marked block; the marker names which rows it shows:
//   <!-- bench:table rows="queue.*" -->        ...generated...  <!-- bench:end -->
//   <!-- bench:table rows="lock.thread.sync.uncontended queue.thread.xfer.small" -->
// `rows` is a space-separated list of row ids, where `prefix.*` takes every row
// under that prefix in the order of the results file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const results = JSON.parse(readFileSync(join(root, 'bench-results.json'), 'utf8'));
const rows = results.rows ?? [];
const meta = results.meta ?? {};

const BLOCK = /<!-- bench:table rows="([^"]*)" -->\n[\s\S]*?<!-- bench:end -->/g;

function pick(spec) {
  const chosen = [];
  for (const want of spec.split(/\s+/).filter(Boolean)) {
    const matches = want.endsWith('.*')
      ? rows.filter((r) => r.id.startsWith(want.slice(0, -1)))
      : rows.filter((r) => r.id === want);
    if (matches.length === 0) throw new Error(`no row in bench-results.json matches "${want}"`);
    for (const r of matches) if (!chosen.includes(r)) chosen.push(r);
  }
  return chosen;
}

function si(n) {
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  return `${Number(n.toPrecision(3))}`;
}

function value(v, unit) {
  if (typeof v !== 'number') return String(v);
  if (unit === 'ops/s' || unit === 'msg/s' || unit === 'items/s') return `${si(v)}/s`;
  return `${Number(v.toPrecision(3))} ${unit}`;
}

function ratio(r) {
  if (typeof r !== 'number') return '';
  return `**${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x**`;
}

function machineLine() {
  const parts = [
    meta.cpu && `${meta.cores ?? '?'}-core ${meta.cpu}`,
    meta.node && `Node ${meta.node}`,
    meta.python,
    meta.cachelineRttNs && `cache-line round trip between two cores ${meta.cachelineRttNs} ns`,
    meta.runs && `median of ${meta.runs} run${meta.runs === 1 ? '' : 's'}`,
    meta.generatedAt?.slice(0, 10),
  ].filter(Boolean);
  return `Measured by \`pnpm bench\` (${parts.join(', ')}); ratio above 1 means conc is better, against the baseline measured in the same run.`;
}

function table(spec) {
  const lines = [
    machineLine(),
    '',
    '| row | conc | baseline (same run) | ratio |',
    '| --- | --- | --- | --- |',
  ];
  for (const r of pick(spec)) {
    const base = r.baseline ? `${value(r.baseline.value, r.unit)} \`${r.baseline.id}\`` : '';
    lines.push(`| \`${r.id}\` | ${value(r.value, r.unit)} | ${base} | ${ratio(r.ratio)} |`);
  }
  return lines.join('\n');
}

const readmes = ['README.md', 'apps/demo/README.md'];
for (const dir of ['packages']) {
  const { readdirSync } = await import('node:fs');
  for (const name of readdirSync(join(root, dir))) readmes.push(`${dir}/${name}/README.md`);
}

let stale = 0;
for (const file of readmes) {
  const path = join(root, file);
  if (!existsSync(path)) continue;
  const before = readFileSync(path, 'utf8');
  const after = before.replace(
    BLOCK,
    (_, spec) => `<!-- bench:table rows="${spec}" -->\n${table(spec)}\n<!-- bench:end -->`,
  );
  if (after === before) continue;
  if (check) {
    stale++;
    console.error(`${relative(root, path)}: its performance table differs from bench-results.json`);
  } else {
    writeFileSync(path, after);
    console.log(`wrote ${relative(root, path)}`);
  }
}
if (check && stale > 0) {
  console.error('run `node scripts/readme-tables.mjs` (after `pnpm bench`) and commit the READMEs');
  process.exit(1);
}
