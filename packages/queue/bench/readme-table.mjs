// Writes the README's Performance table from bench-results.json (the rows of
// the last `pnpm bench` that ran the queue), between the perf:start and
// perf:end markers, so the README's numbers are never copied by hand.
//
//   node packages/queue/bench/readme-table.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);
const readme = new URL('../README.md', import.meta.url);
const { meta, rows } = JSON.parse(readFileSync(new URL('bench-results.json', root), 'utf8'));
const byId = new Map(rows.map((r) => [r.id, r]));

/** The jobs, in the README's words. */
const jobs = [
  ['queue.thread.xfer.small', '1 producer worker → 1 consumer worker, `putSync`/`getSync`, maxsize 1000'],
  ['queue.thread.xfer.small.port', 'same, against `MessagePort`'],
  ['queue.thread.xfer.batch', 'batches of 256 (`putManySync`/`getManySync`)'],
  ['queue.thread.xfer.64k', '64 KiB items'],
  ['queue.thread.pingpong.active.p50', 'round trip between two workers, p50, spinning'],
  ['queue.thread.pingpong.parked.p50', 'round trip p50, both sides asleep (spin off)'],
  ['queue.thread.pingpong.parked.p50.vs-futex', 'same, against two bare `Atomics.wait`/`notify` wake-ups'],
  ['queue.thread.same.small', 'put + get in one thread'],
  ['queue.thread.memory.small', 'shared memory per queued small item beyond its payload'],
];

const rate = (v, unit) => {
  if (unit !== 'ops/s') return `${v} ${unit}`;
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M/s` : `${(v / 1e3).toFixed(1)}k/s`;
};

const lines = ['| job | ours | baseline | ratio |', '| --- | --- | --- | --- |'];
for (const [id, words] of jobs) {
  const r = byId.get(id);
  if (!r) continue;
  const base = r.baseline ? `${r.baseline.id} ${rate(r.baseline.value, r.unit)}` : '—';
  lines.push(`| ${words} | ${rate(r.value, r.unit)} | ${base} | ${r.ratio ?? '—'} |`);
}
const rtt = byId.get('machine.cacheline.rtt');
const machine = `${meta.cpu}, ${meta.cores} vCPUs, Node ${meta.node}, ${meta.python}; ${meta.mode} run of ${meta.generatedAt.slice(0, 10)}, medians of ${meta.runs} interleaved runs${rtt ? `; cache-line round trip between two threads ${rtt.value} ns` : ''}.`;
const block = `${lines.join('\n')}\n\nMachine: ${machine}`;

const text = readFileSync(readme, 'utf8');
const start = '<!-- perf:start -->';
const end = '<!-- perf:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md has no perf:start / perf:end markers');
writeFileSync(readme, `${text.slice(0, a + start.length)}\n${block}\n${text.slice(b)}`);
console.log(`README.md: ${lines.length - 2} rows from bench-results.json (${meta.generatedAt})`);
