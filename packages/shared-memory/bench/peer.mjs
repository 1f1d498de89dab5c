// One side of the cross-process futex ping-pong (futex.bench.mjs starts two of them).
//   node peer.mjs pong <token> <rounds>
//   node peer.mjs ping-sync|ping-async <token> <rounds> <gapUs>
// Words: 0 = ping, 16 = pong (their own cache lines). The pinger stays busy `gapUs` before
// each round so the ponger is asleep, then sleeps itself until the answer: both sides parked.
import { attach } from '@conc/serialize';
import { wait, waitAsync, wake } from '@conc/shared-memory';

const [role, token, roundsArg, gapArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const gapUs = Number(gapArg ?? 0);
const shm = attach(JSON.parse(token));
const words = new Int32Array(shm.buffer);
const PING = 0;
const PONG = 16;

process.send({ ready: true });
await new Promise((resolve) => process.once('message', resolve));

if (role === 'pong') {
  for (let i = 1; i <= rounds; i++) {
    while (Atomics.load(words, PING) !== i) wait(words, PING, i - 1, 1000);
    Atomics.store(words, PONG, i);
    wake(words, PONG, 1);
  }
  process.send({ done: true });
} else {
  const samples = new Float64Array(rounds);
  const async = role === 'ping-async';
  for (let i = 1; i <= rounds; i++) {
    for (const until = performance.now() + gapUs / 1000; performance.now() < until; ) {}
    const t0 = performance.now();
    Atomics.store(words, PING, i);
    wake(words, PING, 1);
    while (Atomics.load(words, PONG) !== i) {
      if (async) await waitAsync(words, PONG, i - 1, 1000);
      else wait(words, PONG, i - 1, 1000);
    }
    samples[i - 1] = (performance.now() - t0) * 1000;
  }
  process.send({ samples: [...samples.subarray(Math.floor(rounds / 10))] });
}
shm.close();
process.disconnect();
