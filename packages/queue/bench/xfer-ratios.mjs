// Focused, interleaved measurement of the thread queue's transfer rows against
// their baselines in the same run, round by round, with the machine's
// cache-line round trip before each round (the machine is shared and a VM's
// vCPU placement moves: read ratios, not rates).
//
//   node packages/queue/bench/xfer-ratios.mjs [rounds=5] [small=300000]
//
// Rows: small (putSync/getSync, maxsize 1000) vs Python Queue(1000) and vs
// MessagePort; batch (putManySync/getManySync of 256) vs MessagePort posting
// arrays of 256; 64k (64 KiB Uint8Array items) vs MessagePort.
// With AB_ENV=NAME=VALUE, each round also runs small and batch with that
// variable set in the workers (an A/B of a tunable in the same run).
import { execFileSync } from 'node:child_process';
import { MessageChannel } from 'node:worker_threads';
import { Queue } from '@conc/queue';
import { share } from '@conc/serialize';
import { cachelineRoundTrip, median, together } from '../../../scripts/bench-lib.mjs';

const rounds = Number(process.argv[2] ?? 5);
const n = Number(process.argv[3] ?? 300_000);
const warm = 300_000;
const workerUrl = new URL('./worker.mjs', import.meta.url);
const pythonXfer = new URL('./python/queue_xfer.py', import.meta.url).pathname;

async function xfer(count, { batch, size, maxsize = 1000, warm: w = count, env } = {}) {
  const q = new Queue({ maxsize, capacityBytes: size ? 256 * 1024 * 1024 : undefined });
  const token = share(q);
  const [, consumer] = await together(
    workerUrl,
    [
      { role: 'produce', token, n: count, batch, size, warm: w },
      { role: 'consume', token, n: count, batch, size, warm: w },
    ],
    { env },
  );
  return count / (consumer.ms / 1000);
}

async function port(count, { batch, size, warm: w = count } = {}) {
  const { port1, port2 } = new MessageChannel();
  const [, consumer] = await together(workerUrl, [
    { role: 'port-produce', port: port1, n: count, batch, size, warm: w },
    { role: 'port-consume', port: port2, n: count, batch, size, warm: w },
  ]);
  return count / (consumer.ms / 1000);
}

function python(count) {
  const out = execFileSync('python3', [pythonXfer, String(count), '1000', String(warm)], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()).ops_per_sec;
}

const batched = Math.ceil((n * 4) / 256) * 256;
const big = 10_000;
const ratios = { smallPy: [], smallPort: [], batch: [], big: [], rtt: [] };
const fmt = (x) => x.toFixed(2);
const [abName, abValue] = (process.env.AB_ENV ?? '').split('=');
const abEnv = abName ? { ...process.env, [abName]: abValue } : undefined;
const ab = { small: [], batch: [] };
for (let r = 0; r < rounds; r++) {
  const rtt = (await cachelineRoundTrip({ rounds: 3, n: 100_000 })).median;
  const py = python(n);
  const small = await xfer(n, { warm });
  const smallPort = await port(n, { warm });
  const batch = await xfer(batched, { batch: 256, maxsize: 4096 });
  const batchPort = await port(batched, { batch: 256 });
  const b64 = await xfer(big, { size: 65536, maxsize: 256 });
  const b64Port = await port(big, { size: 65536 });
  if (abEnv) {
    const smallB = await xfer(n, { warm, env: abEnv });
    const batchB = await xfer(batched, { batch: 256, maxsize: 4096, env: abEnv });
    ab.small.push(small / smallB);
    ab.batch.push(batch / batchB);
    console.log(
      `  A/B: default / ${process.env.AB_ENV}: small ${fmt(small / smallB)}x, batch ${fmt(batch / batchB)}x`,
    );
  }
  ratios.rtt.push(rtt);
  ratios.smallPy.push(small / py);
  ratios.smallPort.push(small / smallPort);
  ratios.batch.push(batch / batchPort);
  ratios.big.push(b64 / b64Port);
  console.log(
    `round ${r + 1}: cache line ${rtt.toFixed(0)} ns | small ${(small / 1e6).toFixed(2)}M/s = ${fmt(small / py)}x Python (${(py / 1e3).toFixed(0)}k), ${fmt(small / smallPort)}x port (${(smallPort / 1e3).toFixed(0)}k) | batch ${(batch / 1e6).toFixed(2)}M/s = ${fmt(batch / batchPort)}x port | 64k ${(b64 / 1e3).toFixed(1)}k/s = ${fmt(b64 / b64Port)}x port`,
  );
}
console.log(
  `median of ${rounds}: small ${fmt(median(ratios.smallPy))}x Python (min ${fmt(Math.min(...ratios.smallPy))}), ${fmt(median(ratios.smallPort))}x port (min ${fmt(Math.min(...ratios.smallPort))}); batch ${fmt(median(ratios.batch))}x port (min ${fmt(Math.min(...ratios.batch))}); 64k ${fmt(median(ratios.big))}x port (min ${fmt(Math.min(...ratios.big))}); cache line ${median(ratios.rtt).toFixed(0)} ns`,
);
if (abEnv) {
  console.log(
    `A/B median, default / ${process.env.AB_ENV}: small ${fmt(median(ab.small))}x, batch ${fmt(median(ab.batch))}x`,
  );
}
