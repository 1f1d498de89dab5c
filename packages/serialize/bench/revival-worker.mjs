// Measures round trips of messages without a primitive in a thread that has
// `workerData.kinds` primitive kinds (with classes) registered: codec.bench.mjs
// compares a thread with 20 kinds against one with none.
import { parentPort, workerData } from 'node:worker_threads';
import { getCodec, registerKind, shareSymbol } from '@conc/serialize';
import { measure } from './measure.mjs';

for (let k = 0; k < workerData.kinds; k++) {
  const Class = class {
    [shareSymbol]() {
      return { kind: `bench.process.Kind${k}`, data: k };
    }
  };
  registerKind({ kind: `bench.process.Kind${k}`, Class, attach: () => new Class() });
}

parentPort.on('message', ({ codec, size, n }) => {
  parentPort.postMessage(measure(getCodec(codec), size, n));
});
