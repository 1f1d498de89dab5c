// The harness object every packages/*/bench/*.bench.mjs receives.
// See BENCHMARKS.md: ratios against a baseline measured in the same run.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export function median(xs) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(xs, p) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

function round(v) {
  if (!Number.isFinite(v)) return v;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 1 ? 2 : 4;
  return Number(v.toFixed(digits));
}

/**
 * Starts one worker thread per role (each gets `{ ...role, go }` as workerData,
 * and the role's own `env` if it has one, else the shared one),
 * waits until every one has posted that it is ready, releases them at once
 * through the shared `go` word (workers `Atomics.wait(new Int32Array(go), 0, 0)`),
 * and returns the message each one posts when done. Workers are always terminated.
 */
export async function together(workerUrl, roles, { env } = {}) {
  const go = new SharedArrayBuffer(4);
  const workers = roles.map(
    ({ env: own, ...data }) =>
      new Worker(workerUrl, {
        workerData: { ...data, go },
        transferList: data.port ? [data.port] : [],
        env: own ?? env,
      }),
  );
  const next = (w) =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`bench worker exited (code ${code}) before reporting`)));
    });
  try {
    await Promise.all(workers.map(next));
    const done = workers.map(next);
    const flag = new Int32Array(go);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Worker of {@link cachelineRoundTrip}: role 0 pings (odd values), role 1 pongs (even values). */
const CACHELINE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const w = new Int32Array(workerData.sab);
const { role, n, rounds } = workerData;
const times = [];
for (let r = 0; r < rounds; r++) {
  Atomics.wait(w, 32 + r, 0); // released together, round by round (another cache line)
  const t0 = performance.now();
  const base = r * 2 * n;
  if (role === 0) {
    for (let i = 1; i <= n; i++) {
      Atomics.store(w, 0, base + 2 * i - 1);
      while (Atomics.load(w, 0) !== base + 2 * i);
    }
  } else {
    for (let i = 1; i <= n; i++) {
      while (Atomics.load(w, 0) !== base + 2 * i - 1);
      Atomics.store(w, 0, base + 2 * i);
    }
  }
  times.push(((performance.now() - t0) * 1e6) / n);
  parentPort.postMessage('round');
}
parentPort.postMessage(times);
`;

/**
 * The machine's cache-line round trip, in ns: two threads bounce one shared
 * word (each round trip moves its cache line there and back). Every row that
 * moves data between threads rides on it, and on a VM it changes with where
 * the hypervisor places the vCPUs, so the bench prints it with every run.
 * Returns the median and the lowest of `rounds` rounds of `n` round trips.
 */
export async function cachelineRoundTrip({ n = 200_000, rounds = 7 } = {}) {
  const sab = new SharedArrayBuffer(64 * 4 + 64 * 4);
  const flag = new Int32Array(sab);
  const workers = [0, 1].map(
    (role) => new Worker(CACHELINE_WORKER, { eval: true, workerData: { sab, role, n, rounds } }),
  );
  const messages = workers.map((w) => {
    const queue = [];
    const waiting = [];
    w.on('message', (m) => (waiting.length ? waiting.shift()(m) : queue.push(m)));
    w.once('error', (err) => {
      for (const f of waiting) f(err);
    });
    return () => new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiting.push(resolve)));
  });
  try {
    for (let r = 0; r < rounds; r++) {
      Atomics.store(flag, 32 + r, 1);
      Atomics.notify(flag, 32 + r);
      await Promise.all(messages.map((next) => next()));
    }
    const [times] = await Promise.all(messages.map((next) => next()));
    if (!Array.isArray(times)) throw times;
    const warm = times.slice(1); // the first round warms up the JIT
    return { median: median(warm), min: Math.min(...warm) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * @param {{ quick: boolean, runs: number, benchDir: string, pkg: string, rows: object[], log: (s: string) => void }} ctx
 */
export function createHarness(ctx) {
  const { quick, runs, benchDir, pkg, rows } = ctx;
  const h = {
    quick,
    runs,
    pkg,
    log: ctx.log,
    median,
    percentile,
    together,

    /** Runs python3 bench/python/<file> and parses the JSON object on the last line of its stdout. */
    python(file, args = []) {
      return new Promise((resolve, reject) => {
        execFile(
          'python3',
          [join(benchDir, 'python', file), ...args.map(String)],
          { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONHASHSEED: '0' } },
          (err, stdout, stderr) => {
            if (err) {
              reject(new Error(`python3 ${file} failed: ${err.message}\n${stderr}`));
              return;
            }
            const last = stdout.trim().split('\n').pop() ?? '';
            try {
              resolve(JSON.parse(last));
            } catch {
              reject(new Error(`python3 ${file} printed no JSON on its last line: ${last.slice(0, 200)}`));
            }
          },
        );
      });
    },

    /** Times `fn` (sync or async) doing `n` operations and returns operations per second. */
    async opsPerSec(n, fn) {
      const t0 = performance.now();
      await fn();
      const seconds = (performance.now() - t0) / 1000;
      return n / seconds;
    },

    /** Records one row. `ratio` > 1 is always better. */
    row(r) {
      const row = { id: r.id, unit: r.unit, value: round(r.value) };
      if (r.baseline) row.baseline = { id: r.baseline.id, value: round(r.baseline.value) };
      if (r.ratio !== undefined) row.ratio = round(r.ratio);
      else if (r.baseline) {
        const higher = r.higherIsBetter ?? !/(µs|us|ms|ns|B)$/.test(r.unit);
        row.ratio = round(higher ? r.value / r.baseline.value : r.baseline.value / r.value);
      }
      row.runs = r.runs ?? 1;
      if (r.note) row.note = r.note;
      rows.push(row);
      return row;
    },

    /**
     * Runs ours and the baseline interleaved `runs` times, records the medians
     * and the ratio (ours/baseline, or baseline/ours when lower is better).
     */
    async compare({ id, unit, ours, baseline, higherIsBetter = true, note }) {
      const a = [];
      const b = [];
      for (let i = 0; i < runs; i++) {
        a.push(await ours(i));
        if (baseline) b.push(await baseline.run(i));
      }
      const value = median(a);
      if (!baseline) return h.row({ id, unit, value, runs, note });
      const base = { id: baseline.id, value: median(b) };
      return h.row({ id, unit, value, baseline: base, higherIsBetter, runs, note });
    },
  };
  return h;
}

export function formatTable(rows) {
  const head = ['id', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'runs'];
  const body = rows.map((r) => [
    r.id,
    String(r.value),
    r.unit,
    r.baseline?.id ?? '',
    r.baseline ? String(r.baseline.value) : '',
    r.ratio !== undefined ? `${r.ratio}x` : '',
    String(r.runs ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 1 || i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
