// A/B of two builds of @conc/lock in one run, interleaved (the machine is
// shared and noisy: only same-run ratios mean anything).
// `node bench/ab.mjs <old dist dir> [rounds]` compares it with ../dist.
// Rows: sync uncontended acquireSync+release in a worker; 2 workers contending
// with acquireSync+release; async uncontended acquire+release in a worker.
import { Worker } from 'node:worker_threads';

const oldDir = new URL(`../${process.argv[2] ?? 'bench/.old-dist'}/`, import.meta.url);
const newDir = new URL('../dist/', import.meta.url);
const rounds = Number(process.argv[3] ?? 5);
const N = 1_000_000;

const body = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const lockMod = await import(workerData.dir + 'index.js');
  const { share, attach } = await import('@conc/serialize');
  const lock = workerData.token ? attach(workerData.token) : new lockMod.Lock();
  if (!workerData.token) parentPort.postMessage({ token: share(lock) });
  const go = new Int32Array(workerData.go);
  parentPort.postMessage({ ready: true });
  while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 50);
  const t0 = performance.now();
  if (workerData.mode === 'async') for (let i = 0; i < workerData.n; i++) { await lock.acquire(); lock.release(); }
  else for (let i = 0; i < workerData.n; i++) { lock.acquireSync(); lock.release(); }
  parentPort.postMessage({ ms: performance.now() - t0 });
})();`;

function start(dir, mode, n, go, token) {
  const w = new Worker(body, { eval: true, workerData: { dir: dir.href, mode, n, go, token } });
  const messages = [];
  let wake;
  w.on('message', (m) => {
    messages.push(m);
    wake?.();
  });
  const next = async () => {
    while (messages.length === 0) await new Promise((r) => (wake = r));
    return messages.shift();
  };
  return { w, next };
}

async function run(dir, mode, workers) {
  const go = new SharedArrayBuffer(4);
  const first = start(dir, mode, N / workers, go);
  const m = await first.next();
  const token = m.token;
  const all = [first];
  for (let i = 1; i < workers; i++) all.push(start(dir, mode, N / workers, go, token));
  if (token) await first.next();
  for (const x of all.slice(1)) await x.next();
  Atomics.store(new Int32Array(go), 0, 1);
  Atomics.notify(new Int32Array(go), 0);
  const ms = Math.max(...(await Promise.all(all.map(async (x) => (await x.next()).ms))));
  await Promise.all(all.map((x) => x.w.terminate()));
  return N / (ms / 1000);
}

const cases = [
  ['sync.uncontended', 'sync', 1],
  ['sync.contended2', 'sync', 2],
  ['async.uncontended', 'async', 1],
];
const results = Object.fromEntries(cases.map(([id]) => [id, { old: [], new: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [id, mode, workers] of cases) {
    const order = r % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
    for (const v of order) results[id][v].push(await run(v === 'old' ? oldDir : newDir, mode, workers));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [id] of cases) {
  const o = median(results[id].old);
  const n = median(results[id].new);
  console.log(
    `${id.padEnd(20)} old ${(o / 1e6).toFixed(2)}M/s  new ${(n / 1e6).toFixed(2)}M/s  new/old ${(n / o).toFixed(3)}`,
  );
}
