// @conc/queue thread tier, against Python's queue.Queue and Node's MessagePort in the same run.
// Rows: queue.thread.{xfer.small, xfer.small.port, xfer.batch, xfer.64k, pingpong.*, same.small, memory.small}.
import { MessageChannel } from 'node:worker_threads';
import { Queue, SimpleQueue } from '@conc/queue';
import { share } from '@conc/serialize';

import { together as startTogether } from '../../../scripts/bench-lib.mjs';

const workerUrl = new URL('./worker.mjs', import.meta.url);

/** One worker per role, released together (see scripts/bench-lib.mjs). */
const together = (roles, env) => startTogether(workerUrl, roles, { env });

/**
 * Items per second of a producer → consumer run (the consumer's clock: it
 * finishes last), after a warm-up round of `warm` items through the same
 * queue in the same two workers (as for the baselines): the timed round
 * measures steady state. Without it, V8 compiling the put and get paths while
 * both cores are busy takes the first ~100k items (a 100k-item run measured
 * about half the steady rate).
 */
async function xfer(n, { batch, size, maxsize = 1000, warm = n } = {}) {
  const q = new Queue({ maxsize, capacityBytes: size ? 256 * 1024 * 1024 : undefined });
  const token = share(q);
  const [, consumer] = await together([
    { role: 'produce', token, n, batch, size, warm },
    { role: 'consume', token, n, batch, size, warm },
  ]);
  return n / (consumer.ms / 1000);
}

async function port(n, { batch, size, warm = n } = {}) {
  const { port1, port2 } = new MessageChannel();
  const [, consumer] = await together([
    { role: 'port-produce', port: port1, n, batch, size, warm },
    { role: 'port-consume', port: port2, n, batch, size, warm },
  ]);
  return n / (consumer.ms / 1000);
}

/** Spin settings (see wait.ts): none, every wait sleeps; long, the pinger never sleeps during a round trip. */
const SLEEPS = { ...process.env, CONC_QUEUE_SPIN_US: '0' };
const SPINS = { ...process.env, CONC_QUEUE_SPIN_US: '2000' };
/** Between two round trips of the receiver-asleep runs, ten times the longest spin of wait.ts. */
const ASLEEP_GAP_MS = 0.2;

/** Round-trip samples (µs) of a pinger and a ponger, each with its own env (default: the package's spin). */
async function pingpong(n, { ping: pingEnv, pong: pongEnv, gap } = {}) {
  const there = share(new Queue());
  const back = share(new Queue());
  const [ping] = await together([
    { role: 'ping', token: there, back, n, gap, env: pingEnv },
    { role: 'pong', token: there, back, n, env: pongEnv },
  ]);
  return ping.samples.slice(Math.floor(n / 10)); // drop the warm-up
}

/**
 * Round trips of two workers waking each other with bare Atomics.wait/notify;
 * with `spin` and a `gap`, only the ponger sleeps (one wake-up per round trip).
 */
async function futexPingpong(n, { spin = false, gap } = {}) {
  const words = new SharedArrayBuffer(8);
  const [ping] = await together([
    { role: 'futex-ping', words, n, spin, gap },
    { role: 'futex-pong', words, n },
  ]);
  return ping.samples.slice(Math.floor(n / 10)); // drop the warm-up
}

export default async function (h) {
  const n = h.quick ? 100_000 : 300_000;
  // Warm-up rounds of small items: 100k were too few for V8 to finish compiling the paths (a
  // quick run measured half the steady rate), so quick runs warm up as long as full ones.
  const warm = 300_000;
  const python = (file, ...args) => h.python(file, args);

  await h.compare({
    id: 'queue.thread.xfer.small',
    unit: 'ops/s',
    ours: () => xfer(n, { warm }),
    baseline: {
      id: 'python.queue.Queue.xfer.maxsize1000',
      run: async () => (await python('queue_xfer.py', n, 1000, warm)).ops_per_sec,
    },
    note: '1 producer worker -> 1 consumer worker, putSync/getSync, maxsize 1000; each side after an untimed round of 300k items',
  });
  await h.compare({
    id: 'queue.thread.xfer.small.port',
    unit: 'ops/s',
    ours: () => xfer(n, { warm }),
    baseline: { id: 'node.MessagePort.oneway', run: () => port(n, { warm }) },
    note: 'same job; baseline posts each message on a MessagePort',
  });
  const batched = Math.ceil((n * 4) / 256) * 256;
  await h.compare({
    id: 'queue.thread.xfer.batch',
    unit: 'ops/s',
    ours: () => xfer(batched, { batch: 256, maxsize: 4096 }),
    baseline: { id: 'node.MessagePort.oneway.batch256', run: () => port(batched, { batch: 256 }) },
    note: 'putManySync/getManySync of 256 vs posting arrays of 256',
  });
  const big = h.quick ? 5_000 : 20_000;
  await h.compare({
    id: 'queue.thread.xfer.64k',
    unit: 'ops/s',
    ours: () => xfer(big, { size: 65536, maxsize: 256 }),
    baseline: { id: 'node.MessagePort.oneway.64k', run: () => port(big, { size: 65536 }) },
    note: '64 KiB Uint8Array items (copied, not transferred)',
  });

  const rounds = h.quick ? 5_000 : 20_000;
  const asleepRounds = h.quick ? 1_000 : 4_000;
  const py = [];
  const active = [];
  const parked = [];
  const asleep = [];
  const futex = [];
  const futexOne = [];
  for (let r = 0; r < h.runs; r++) {
    py.push(await python('queue_pingpong.py', rounds));
    active.push(await pingpong(rounds));
    parked.push(await pingpong(rounds, { ping: SLEEPS, pong: SLEEPS }));
    // The pinger stays awake (busy) for ASLEEP_GAP_MS between round trips; the ponger, on the
    // package's defaults, stops spinning long before and sleeps.
    asleep.push(await pingpong(asleepRounds, { ping: SPINS, gap: ASLEEP_GAP_MS }));
    futex.push(await futexPingpong(rounds));
    futexOne.push(await futexPingpong(asleepRounds, { spin: true, gap: ASLEEP_GAP_MS }));
  }
  const pyP50 = h.median(py.map((x) => x.p50_us));
  const pyP99 = h.median(py.map((x) => x.p99_us));
  for (const [name, runs] of [
    ['active', active],
    ['parked', parked],
  ]) {
    const base = (p, v) => ({ id: `python.queue.Queue.pingpong.${p}`, value: v });
    h.row({
      id: `queue.thread.pingpong.${name}.p50`,
      unit: 'µs',
      value: h.median(runs.map((s) => h.percentile(s, 50))),
      baseline: base('p50', pyP50),
      runs: h.runs,
      note:
        name === 'active'
          ? 'both sides spin briefly before sleeping'
          : 'spin off: every wait sleeps (Atomics.wait)',
    });
    h.row({
      id: `queue.thread.pingpong.${name}.p99`,
      unit: 'µs',
      value: h.median(runs.map((s) => h.percentile(s, 99))),
      baseline: base('p99', pyP99),
      runs: h.runs,
    });
  }

  const p50 = (runs) => h.median(runs.map((s) => h.percentile(s, 50)));
  const vsFutex = (id, ours, baselineId, floor, note) =>
    h.row({
      id,
      unit: 'µs',
      value: p50(ours),
      baseline: { id: baselineId, value: p50(floor) },
      runs: h.runs,
      note,
    });
  vsFutex(
    'queue.thread.pingpong.parked.p50.vs-futex',
    parked,
    'node.Atomics.wait-notify.pingpong.p50',
    futex,
    'the sleeping round trip against two bare Atomics.wait/notify wake-ups: the floor on this machine',
  );
  vsFutex(
    'queue.thread.pingpong.asleep.p50.vs-futex',
    asleep,
    'node.Atomics.wait-notify.oneway-wake.p50',
    futexOne,
    'the receiver sleeps (defaults; 0.2 ms between round trips) and the sender spins for the answer: one wake-up per round trip, against one bare Atomics.wait/notify wake-up',
  );

  const same = h.quick ? 200_000 : 1_000_000;
  await h.compare({
    id: 'queue.thread.same.small',
    unit: 'ops/s',
    ours: () => {
      const q = new Queue();
      return h.opsPerSec(same, () => {
        for (let i = 0; i < same; i++) {
          q.putNowait({ id: i, name: 'rose', ts: 1.5 });
          q.getNowait();
        }
      });
    },
    baseline: {
      id: 'python.queue.Queue.same',
      run: async () => (await python('queue_same.py', same)).ops_per_sec,
    },
    note: 'put + get of one item in one thread (pairs per second)',
  });

  const q = new SimpleQueue();
  const items = 100_000;
  for (let i = 0; i < items; i++) q.putNowait({ id: i, name: 'rose', ts: 1.5 });
  const payload = q.codec.encode({ id: 50_000, name: 'rose', ts: 1.5 }).length;
  const perItem = q.usedBytes / items - payload;
  h.row({
    id: 'queue.thread.memory.small',
    unit: 'B',
    value: perItem,
    baseline: { id: 'target.64B', value: 64 },
    note: `shared memory per queued small item beyond its ${payload}-byte payload`,
  });
}
