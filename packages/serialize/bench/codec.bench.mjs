// Codec round trips (encode + decode) against node:v8 in the same run and
// Python's pickle. Message: { id, name: 'rose', ts: 1.5 } ("small"); "64k"
// adds 65,536 bytes (a Uint8Array in JS, bytes in Python).
import { deserialize, serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { jsonCodec, msgpackCodec, plainMsgpackCodec, v8Codec } from '@conc/serialize';
import { measure, messages, rate } from './measure.mjs';

const codecs = [msgpackCodec, plainMsgpackCodec, jsonCodec, v8Codec];
const sizes = Object.keys(messages);
const v8Roundtrip = (v) => deserialize(serialize(v));

export default async function (h) {
  const n = { small: h.quick ? 60_000 : 200_000, '64k': h.quick ? 2_000 : 6_000 };
  const pyN = { small: h.quick ? 150_000 : 400_000, '64k': h.quick ? 8_000 : 20_000 };

  const samples = new Map();
  const add = (id, v) => samples.set(id, [...(samples.get(id) ?? []), v]);
  const med = (id) => h.median(samples.get(id));
  for (const size of sizes) rate(n[size] / 4, messages[size], v8Roundtrip, `v8.${size}`);

  // One size at a time (the 64 KiB runs leave garbage that would tax small ones), jobs interleaved run by run.
  for (const size of sizes) {
    for (let run = 0; run < h.runs; run++) {
      add(`node.v8.roundtrip.${size}`, rate(n[size], messages[size], v8Roundtrip, `v8.${size}`));
      for (const c of codecs) add(`serialize.${c.name}.roundtrip.${size}`, measure(c, size, n[size]));
    }
  }
  for (let run = 0; run < h.runs; run++) {
    const py = await h.python('pickle_roundtrip.py', [pyN.small, pyN['64k']]);
    add('python.pickle.roundtrip.small', py.small);
    add('python.pickle.roundtrip.64k', py['64k']);
  }

  for (const size of sizes) {
    for (const c of codecs) {
      const id = `serialize.${c.name}.roundtrip.${size}`;
      const note =
        c.name === 'v8'
          ? 'the v8 codec is node:v8 plus checks and a private input copy: ratio = its overhead'
          : c.name === 'json' && size === '64k'
            ? 'JSON has no bytes: sent as base64, converted both ways'
            : undefined;
      h.row({
        id,
        unit: 'ops/s',
        value: med(id),
        baseline: { id: `node.v8.roundtrip.${size}`, value: med(`node.v8.roundtrip.${size}`) },
        runs: h.runs,
        note,
      });
    }
  }
  for (const size of sizes) {
    h.row({
      id: `serialize.msgpack.roundtrip.${size}.vs-pickle`,
      unit: 'ops/s',
      value: med(`serialize.msgpack.roundtrip.${size}`),
      baseline: { id: `python.pickle.roundtrip.${size}`, value: med(`python.pickle.roundtrip.${size}`) },
      runs: h.runs,
    });
  }

  // Revival of primitives must cost nothing to messages without one: the same
  // jobs in two fresh threads, one with 20 kinds (with classes) registered and
  // one with none, interleaved run by run.
  const withKinds = thread(20);
  const noKinds = thread(0);
  try {
    for (const [c, size] of [
      [msgpackCodec, 'small'],
      [msgpackCodec, '64k'],
      [jsonCodec, 'small'],
    ]) {
      const id = `serialize.${c.name}.roundtrip.${size}`;
      const job = { codec: c.name, size, n: n[size] };
      await h.compare({
        id: `${id}.with-20-kinds`,
        unit: 'ops/s',
        ours: () => withKinds.run(job),
        baseline: { id: `${id}.no-kinds`, run: () => noKinds.run(job) },
        note: 'no primitive in the message: ~1 means revival costs nothing',
      });
    }
  } finally {
    await Promise.all([withKinds.worker.terminate(), noKinds.worker.terminate()]);
  }
}

/** A measuring thread with `kinds` primitive kinds registered. */
function thread(kinds) {
  const worker = new Worker(new URL('./revival-worker.mjs', import.meta.url), { workerData: { kinds } });
  return {
    worker,
    run: (job) =>
      new Promise((resolve, reject) => {
        const fail = (err) => reject(err);
        worker.once('error', fail);
        worker.once('message', (v) => {
          worker.off('error', fail);
          resolve(v);
        });
        worker.postMessage(job);
      }),
  };
}
