#!/usr/bin/env node
// What `npm run demo` and `npm test` run on a fresh machine with only Node 20+
// and npm: get the pinned pnpm (corepack cannot fetch it here), install, build,
// then run the demo or every test.
//
//   node scripts/bootstrap.mjs demo [scenario...]
//   node scripts/bootstrap.mjs test [vitest filters...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split(
  '@',
)[1];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
const [command, ...rest] = process.argv.slice(2);

function say(msg) {
  process.stderr.write(`\x1b[2m[conc] ${msg}\x1b[0m\n`);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(cmd, args) {
  const status = run(cmd, args);
  if (status !== 0) {
    say(`\`${cmd} ${args.join(' ')}\` failed with exit code ${status}`);
    process.exit(status);
  }
}

/** The pinned pnpm: the one on PATH if it is that version, else a private copy in .tools/. */
function pnpm() {
  try {
    const v = execFileSync('pnpm', ['--version'], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (v === PNPM_VERSION) return 'pnpm';
  } catch {}
  const bin = join(root, '.tools', 'node_modules', '.bin');
  const local = join(bin, 'pnpm');
  // turbo finds the package manager on PATH: put the private copy there too.
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
  if (!existsSync(local)) {
    say(`installing pnpm@${PNPM_VERSION} into .tools/ (corepack cannot fetch it here)`);
    must('npm', [
      'install',
      '--prefix',
      join(root, '.tools'),
      '--no-save',
      '--no-audit',
      '--no-fund',
      `pnpm@${PNPM_VERSION}`,
    ]);
  }
  return local;
}

if (command !== 'demo' && command !== 'test') {
  say('usage: node scripts/bootstrap.mjs demo|test [args...]');
  process.exit(2);
}

const pm = pnpm();
say('installing dependencies (pnpm install --frozen-lockfile)');
must(pm, ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent']);
say('building (turbo run build)');
must(pm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);

if (command === 'demo') {
  process.exit(run('node', [join(root, 'apps', 'demo', 'dist', 'cli.js'), ...rest]));
}

say('running every test (vitest, all workspace projects)');
const status = run(pm, [
  'exec',
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=test-results.json',
  ...rest,
]);
try {
  const r = JSON.parse(readFileSync(join(root, 'test-results.json'), 'utf8'));
  say(
    `${r.numPassedTests} passed, ${r.numFailedTests} failed (${r.numTotalTests} tests; report in test-results.json)`,
  );
} catch {}
process.exit(status);
