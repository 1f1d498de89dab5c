// Before/after comparison of two builds of @conc/serialize, for changes too small for
// `pnpm bench` on a shared machine: each build runs in its own worker thread (its own msgpackr
// and JIT state), the two alternate run by run, and each run is timed in CPU time, so time the
// machine gives to other processes does not count.
//
//   node bench/compare-builds.mjs <old dist/index.js> [jobs] [runs]
//   jobs: codec:size[,...], size = small | 64k (round trips) or dec (decode of one small message)
// Prints the median of new/old per job. Run it several times: one process's JIT luck moves
// a ratio by a few percent.
import { Worker } from 'node:worker_threads';

const [oldPath, jobList = 'msgpack:small,msgpack:dec', runArg = '21'] = process.argv.slice(2);
if (!oldPath) throw new Error('usage: node bench/compare-builds.mjs <old dist/index.js> [jobs] [runs]');
const builds = { old: oldPath, new: new URL('../dist/index.js', import.meta.url).href };
const runs = Number(runArg);
const source = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const m = await import(workerData.path);
  const DATA = new Uint8Array(65536).map((_, i) => i % 256);
  const make = { small: (i) => ({ id: i, name: 'rose', ts: 1.5 }), '64k': (i) => ({ id: i, name: 'rose', ts: 1.5, data: DATA }) };
  const loops = new Map();
  parentPort.on('message', ({ codec, size, n }) => {
    const c = m.getCodec(codec);
    const key = codec + size;
    if (!loops.has(key)) {
      loops.set(key, size === 'dec'
        ? new Function('c', 'b', 'n', 'const t = process.cpuUsage(); for (let i = 0; i < n; i++) c.decode(b); const d = process.cpuUsage(t); return n / (d.user + d.system) * 1e6;')
        : new Function('c', 'make', 'n', 'const t = process.cpuUsage(); for (let i = 0; i < n; i++) c.decode(c.encode(make(i))); const d = process.cpuUsage(t); return n / (d.user + d.system) * 1e6;'));
    }
    const loop = loops.get(key);
    parentPort.postMessage(size === 'dec' ? loop(c, c.encode(make.small(1)), n) : loop(c, make[size], n));
  });
})();`;
const workers = Object.fromEntries(
  Object.entries(builds).map(([k, path]) => [k, new Worker(source, { eval: true, workerData: { path } })]),
);
const ask = (w, job) =>
  new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage(job);
  });
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const job of jobList.split(',')) {
  const [codec, size] = job.split(':');
  const n = size === '64k' ? 1000 : 60_000;
  for (const w of Object.values(workers)) await ask(w, { codec, size, n: n / 3 });
  const rates = { old: [], new: [] };
  for (let r = 0; r < runs; r++) {
    for (const k of r % 2 ? ['new', 'old'] : ['old', 'new'])
      rates[k].push(await ask(workers[k], { codec, size, n }));
  }
  const ratios = rates.new.map((v, i) => v / rates.old[i]);
  console.log(
    `${job}: old ${Math.round(median(rates.old))}/s, new ${Math.round(median(rates.new))}/s, new/old median ${median(ratios).toFixed(3)}`,
  );
}
for (const w of Object.values(workers)) await w.terminate();
