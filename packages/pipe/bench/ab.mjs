// Interleaved A/B runs of pipe.bench.mjs rows, for changes whose effect is smaller than the
// machine's noise (a shared 2-core machine: Python's own numbers move 30 % run to run).
//
//   node packages/pipe/bench/ab.mjs snapshot <dir>
//       copies the built @conc/pipe and @conc/serialize (dist, package.json) and this bench
//       folder into <dir>, so a build can be measured after the sources have moved on.
//   node packages/pipe/bench/ab.mjs run <dirA> <dirB> [--rows a,b] [--rounds 5] [--quick]
//       each round runs every row for A, then B, then Python (the order of A and B alternates
//       between rounds) and prints the ratios; at the end, the median of each ratio.
//
// Rows are named by the end of their bench id: 64k, small.awaited, small, pingpong, thread.small.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');
const ROWS = {
  '64k': 'pipe.process.oneway.64k',
  'small.awaited': 'pipe.process.oneway.small.awaited',
  small: 'pipe.process.oneway.small',
  pingpong: 'pipe.process.pingpong',
  'thread.small': 'pipe.thread.oneway.small',
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function snapshot(dir) {
  const modules = join(resolve(dir), 'node_modules');
  rmSync(dir, { recursive: true, force: true });
  for (const pkg of ['pipe', 'serialize']) {
    const to = join(modules, '@conc', pkg);
    mkdirSync(to, { recursive: true });
    cpSync(join(packages, pkg, 'package.json'), join(to, 'package.json'));
    cpSync(join(packages, pkg, 'dist'), join(to, 'dist'), { recursive: true });
  }
  cpSync(here, join(modules, '@conc', 'pipe', 'bench'), { recursive: true });
  symlinkSync(
    realpathSync(join(packages, 'serialize', 'node_modules', 'msgpackr')),
    join(modules, 'msgpackr'),
  );
  console.log(`snapshot of the current build in ${dir}`);
}

/** One measurement in a fresh process: `side` is 'ours' or 'baseline' of row `id`, from snapshot `dir`. */
function measure(dir, id, side, quick) {
  const out = execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.url), 'one', dir, id, side, String(quick)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return Number(out.trim().split('\n').pop());
}

/** Runs inside the child: imports the snapshot's bench and runs one side of one row once. */
async function one(dir, id, side, quick) {
  const benchDir = join(resolve(dir), 'node_modules', '@conc', 'pipe', 'bench');
  const { createHarness } = await import(
    pathToFileURL(join(packages, '..', 'scripts', 'bench-lib.mjs')).href
  );
  const h = createHarness({ quick, runs: 1, benchDir, pkg: 'pipe', rows: [], log: () => {} });
  let value;
  h.compare = async (row) => {
    if (row.id !== id) return;
    value = side === 'ours' ? await row.ours(0) : await row.baseline.run(0);
  };
  const bench = await import(pathToFileURL(join(benchDir, 'pipe.bench.mjs')).href);
  await bench.default(h);
  console.log(String(value));
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'snapshot') {
  snapshot(rest[0]);
} else if (command === 'one') {
  await one(rest[0], rest[1], rest[2], rest[3] === 'true');
} else if (command === 'run') {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      rows: { type: 'string', default: '64k,small.awaited' },
      rounds: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: true },
    },
  });
  const [a, b] = positionals;
  const rows = values.rows.split(',');
  const ratios = Object.fromEntries(
    rows.flatMap((r) => [
      [`${r} A`, []],
      [`${r} B`, []],
    ]),
  );
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const row of rows) {
      const id = ROWS[row];
      const order =
        round % 2 === 0
          ? [
              ['A', a],
              ['B', b],
            ]
          : [
              ['B', b],
              ['A', a],
            ];
      const got = {};
      for (const [name, dir] of order) got[name] = measure(dir, id, 'ours', values.quick);
      const base = measure(a, id, 'baseline', values.quick);
      // Latency rows are lower-is-better: the ratio is baseline / ours there, as in the harness.
      const ratio = (v) => (row === 'pingpong' ? base / v : v / base);
      ratios[`${row} A`].push(ratio(got.A));
      ratios[`${row} B`].push(ratio(got.B));
      console.log(
        `round ${round} ${row}: A ${got.A.toFixed(1)} (${ratio(got.A).toFixed(2)}x)  B ${got.B.toFixed(1)} (${ratio(got.B).toFixed(2)}x)  baseline ${base.toFixed(1)}`,
      );
    }
  }
  for (const [name, xs] of Object.entries(ratios)) {
    console.log(
      `${name}: median ratio ${median(xs).toFixed(2)}x  (${xs.map((x) => x.toFixed(2)).join(' ')})`,
    );
  }
} else {
  console.error('usage: ab.mjs snapshot <dir> | run <dirA> <dirB> [--rows 64k,small.awaited] [--rounds 5]');
  process.exit(2);
}
