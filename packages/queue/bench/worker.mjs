// Worker programs of queue.bench.mjs: one role per worker, started before the
// clock runs and released together through a shared go word.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '@conc/serialize';
import '@conc/queue';

const { role, n, batch, size } = workerData;
const go = new Int32Array(workerData.go);
const q = workerData.token ? attach(workerData.token) : undefined;
const back = workerData.back ? attach(workerData.back) : undefined;
const port = workerData.port;

function small(i) {
  return { id: i, name: 'rose', ts: 1.5 };
}
function big(i) {
  const b = new Uint8Array(size);
  b[0] = i & 0xff;
  return b;
}
const make = size ? big : small;

/**
 * Keeps this thread busy (awake) for `ms` between two round trips, long enough
 * for the other side to stop spinning and fall asleep.
 */
function idle(ms) {
  if (!ms) return;
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** port-consume: the round in progress; one listener serves every round, so no message is missed between them. */
let inbox;
if (role === 'port-consume') {
  port.on('message', (m) => {
    for (const x of batch ? m : [m]) {
      inbox.check += size ? x[0] : x.id;
      inbox.got++;
    }
    if (inbox.got >= inbox.need) inbox.resolve(inbox.check);
  });
}

/**
 * One round of the role's job on `n` items. The first round, before the clock,
 * is the warm-up (`workerData.warm` items): the same code on the same queue or
 * port, so the timed round measures steady state, not V8 compiling it.
 */
async function round(n, samples) {
  let check = 0;
  switch (role) {
    case 'produce':
      if (batch) {
        for (let i = 0; i < n; i += batch) {
          const items = [];
          for (let k = 0; k < batch; k++) items.push(make(i + k));
          q.putManySync(items);
        }
      } else for (let i = 0; i < n; i++) q.putSync(make(i));
      break;
    case 'consume':
      if (batch)
        for (let got = 0; got < n; ) {
          for (const x of q.getManySync(batch)) {
            check += size ? x[0] : x.id;
            got++;
          }
        }
      else for (let i = 0; i < n; i++) check += size ? q.getSync()[0] : q.getSync().id;
      break;
    case 'port-produce':
      if (batch) {
        for (let i = 0; i < n; i += batch) {
          const items = [];
          for (let k = 0; k < batch; k++) items.push(make(i + k));
          port.postMessage(items);
        }
      } else for (let i = 0; i < n; i++) port.postMessage(make(i));
      break;
    case 'port-consume':
      check = await new Promise((resolve) => {
        inbox = { need: n, got: 0, check: 0, resolve };
      });
      break;
    case 'ping':
      for (let i = 0; i < n; i++) {
        idle(workerData.gap);
        const s = performance.now();
        q.putSync(small(i));
        back.getSync();
        samples.push((performance.now() - s) * 1000);
      }
      break;
    case 'pong':
      for (let i = 0; i < n; i++) back.putSync(q.getSync());
      break;
    case 'futex-ping':
    case 'futex-pong': {
      // The floor under a sleeping round trip: bare Atomics.wait/notify, no queue. With
      // `spin`, the pinger busy-waits for the answer, so only the ponger sleeps (given a `gap`).
      const w = new Int32Array(workerData.words);
      const [mine, theirs] = role === 'futex-ping' ? [0, 1] : [1, 0];
      const sleeps = !(workerData.spin && role === 'futex-ping');
      for (let i = 1; i <= n; i++) {
        if (role === 'futex-ping') idle(workerData.gap);
        const s = performance.now();
        if (role === 'futex-ping') {
          Atomics.store(w, mine, i);
          Atomics.notify(w, mine);
        }
        while (Atomics.load(w, theirs) !== i) if (sleeps) Atomics.wait(w, theirs, i - 1);
        if (role === 'futex-pong') {
          Atomics.store(w, mine, i);
          Atomics.notify(w, mine);
        } else samples.push((performance.now() - s) * 1000);
      }
      break;
    }
  }
  return check;
}

if (workerData.warm) await round(workerData.warm, []);
parentPort.postMessage('ready');
Atomics.wait(go, 0, 0);
const t0 = performance.now();
const samples = [];
const check = await round(n, samples);
parentPort.postMessage({ ms: performance.now() - t0, check, samples });
