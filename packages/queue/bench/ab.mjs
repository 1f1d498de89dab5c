// A/B of two builds of @conc/queue in one run, interleaved round by round
// (the machine is shared and noisy: only same-run ratios mean anything).
//
//   cp -r packages/queue/dist packages/queue/.ab/old    # before the change, then rebuild
// (run from packages/queue: the workers resolve @conc/serialize from there)
//   cd packages/queue && node bench/ab.mjs [old dist dir=.ab/old] [rounds=7]
//
// Both builds run on the workspace's current @conc/lock and @conc/serialize.
// Each row prints the medians of each build and the median of the per-round
// ratios new/old (rates: > 1 means the new build is faster).
// Rows: sync (putSync/getSync, maxsize 1000); async (put/get); pingpong
// (maxsize 1: nearly every call waits, so the wait routine is the hot path);
// contended (3 producers and one consumer, putSync/getSync: the internal
// lock's slow path).
import { Worker } from 'node:worker_threads';

const oldDir = new URL(`../${process.argv[2] ?? '.ab/old'}/`, import.meta.url);
const newDir = new URL('../dist/', import.meta.url);
const rounds = Number(process.argv[3] ?? 7);

const body = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { Queue } = await import(workerData.dir + 'index.js');
  const { share, attach } = await import('@conc/serialize');
  const { role, n, mode } = workerData;
  const q = workerData.token ? attach(workerData.token) : new Queue({ maxsize: workerData.maxsize });
  if (!workerData.token) parentPort.postMessage({ token: share(q) });
  const go = new Int32Array(workerData.go);
  parentPort.postMessage({ ready: true });
  while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 50);
  const t0 = performance.now();
  let check = 0;
  if (role === 'put') {
    for (let i = 0; i < n; i++) {
      const item = { id: i, name: 'rose', ts: 1.5 };
      if (mode === 'async') await q.put(item);
      else q.putSync(item);
    }
  } else {
    for (let i = 0; i < n; i++) check += (mode === 'async' ? await q.get() : q.getSync()).id;
  }
  parentPort.postMessage({ ms: performance.now() - t0, check });
})();`;

function start(dir, data, go) {
  const w = new Worker(body, { eval: true, workerData: { dir: dir.href, go, ...data } });
  const messages = [];
  let wake;
  w.on('message', (m) => {
    messages.push(m);
    wake?.();
  });
  w.on('error', (err) => {
    messages.push({ error: err });
    wake?.();
  });
  const next = async () => {
    while (messages.length === 0) await new Promise((r) => (wake = r));
    const m = messages.shift();
    if (m.error) throw m.error;
    return m;
  };
  return { w, next };
}

/** Items per second through the queue: `producers` putters, one getter. */
async function run(dir, { mode, n, maxsize, producers }) {
  const go = new SharedArrayBuffer(4);
  const consumer = start(dir, { role: 'get', n, mode, maxsize }, go);
  const { token } = await consumer.next();
  const all = [consumer];
  for (let p = 0; p < producers; p++)
    all.push(start(dir, { role: 'put', n: n / producers, mode, token }, go));
  for (const x of all) await x.next();
  Atomics.store(new Int32Array(go), 0, 1);
  Atomics.notify(new Int32Array(go), 0);
  const ms = (await consumer.next()).ms;
  await Promise.all(all.slice(1).map((x) => x.next()));
  await Promise.all(all.map((x) => x.w.terminate()));
  return n / (ms / 1000);
}

const cases = [
  ['sync', { mode: 'sync', n: 300_000, maxsize: 1000, producers: 1 }],
  ['async', { mode: 'async', n: 200_000, maxsize: 1000, producers: 1 }],
  ['pingpong', { mode: 'sync', n: 60_000, maxsize: 1, producers: 1 }],
  ['contended', { mode: 'sync', n: 240_000, maxsize: 1000, producers: 3 }],
];
// AB_CASES=sync,pingpong runs only those rows.
if (process.env.AB_CASES) {
  const only = new Set(process.env.AB_CASES.split(','));
  cases.splice(0, cases.length, ...cases.filter(([id]) => only.has(id)));
}
const results = Object.fromEntries(cases.map(([id]) => [id, { old: [], new: [], ratio: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [id, c] of cases) {
    const order = r % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
    const got = {};
    for (const v of order) got[v] = await run(v === 'old' ? oldDir : newDir, c);
    results[id].old.push(got.old);
    results[id].new.push(got.new);
    results[id].ratio.push(got.new / got.old);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [id] of cases) {
  const { old, new: now, ratio } = results[id];
  console.log(
    `${id.padEnd(10)} old ${(median(old) / 1e6).toFixed(3)}M/s  new ${(median(now) / 1e6).toFixed(3)}M/s  ` +
      `median new/old ${median(ratio).toFixed(3)}  (rounds: ${ratio.map((x) => x.toFixed(2)).join(' ')})`,
  );
}
