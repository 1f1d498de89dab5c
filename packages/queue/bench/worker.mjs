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

parentPort.postMessage('ready');
Atomics.wait(go, 0, 0);
const t0 = performance.now();
let check = 0;
const samples = [];

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
    await new Promise((resolve) => {
      let got = 0;
      port.on('message', (m) => {
        for (const x of batch ? m : [m]) {
          check += size ? x[0] : x.id;
          got++;
        }
        if (got >= n) resolve();
      });
    });
    port.close();
    break;
  case 'ping':
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      q.putSync(small(i));
      back.getSync();
      samples.push((performance.now() - s) * 1000);
    }
    break;
  case 'pong':
    for (let i = 0; i < n; i++) back.putSync(q.getSync());
    break;
}
parentPort.postMessage({ ms: performance.now() - t0, check, samples });
