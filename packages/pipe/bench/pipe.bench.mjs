// @conc/pipe against Python's multiprocessing.Pipe (processes) and Node's MessagePort (threads),
// measured in the same run. Message: { id, name: 'rose', ts: 1.5 } ("small"); "64k" adds 65,536 bytes.
// Rows: pipe.process.{oneway.small, oneway.small.awaited, pingpong, oneway.64k},
//       pipe.thread.{oneway.small, pingpong, pingpong.recvSync}.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Pipe, share, transferablesOf } from '@conc/pipe';

const peer = new URL('./peer.mjs', import.meta.url);
const small = (i) => ({ id: i, name: 'rose', ts: 1.5 });
const blob = new Uint8Array(65_536);
const with64k = (i) => ({ id: i, name: 'rose', ts: 1.5, data: blob });

/** Small messages sent before measuring, so both sides run optimized code. */
const WARM = 20_000;

/** Runs `fn` with a process pipe end whose other end is in a child process playing `role`. */
async function withChild(role, n, fn, warm = WARM) {
  const [mine, theirs] = Pipe({ scope: 'process' });
  const child = fork(peer, [role, JSON.stringify(share(theirs)), String(n), String(warm)], {
    stdio: 'inherit',
  });
  try {
    if ((await mine.recv()) !== 'ready') throw new Error('peer not ready');
    return await fn(mine);
  } finally {
    await mine.close();
    if (child.exitCode === null) await once(child, 'exit');
  }
}

/** Runs `fn` with a thread pipe end whose other end is in a worker playing `role`. */
async function withWorker(role, n, fn) {
  const [mine, theirs] = Pipe();
  const token = share(theirs);
  const worker = new Worker(peer, {
    workerData: { role, token, n, warm: WARM },
    transferList: transferablesOf(token),
  });
  try {
    if ((await mine.recv()) !== 'ready') throw new Error('peer not ready');
    return await fn(mine);
  } finally {
    await mine.close();
    await worker.terminate();
  }
}

/** Runs `fn` with a bare MessagePort whose other end is in a worker playing `role`. */
async function withPort(role, n, fn) {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(peer, {
    workerData: { role, n, warm: WARM, port: port2 },
    transferList: [port2],
  });
  try {
    await once(port1, 'message');
    return await fn(port1);
  } finally {
    port1.close();
    await worker.terminate();
  }
}

/** Sends `n` messages, awaiting every `awaitEvery`-th send, as a program pipelining its sends would. */
async function sendAll(conn, n, make, awaitEvery) {
  let sent;
  for (let i = 0; i < n; i++) {
    sent = conn.send(make(i));
    if (i % awaitEvery === awaitEvery - 1) await sent;
  }
  await sent;
}

/** Messages per second sent through `conn` to a sink that confirms the last one (after a warm-up). */
async function oneway(conn, n, make, awaitEvery, warm = WARM) {
  await sendAll(conn, warm, make, awaitEvery);
  if ((await conn.recv()) !== 'warm') throw new Error('sink did not warm up');
  const t0 = performance.now();
  await sendAll(conn, n, make, awaitEvery);
  if ((await conn.recv()) !== 'done') throw new Error('sink did not finish');
  return n / ((performance.now() - t0) / 1000);
}

/** Median round trip in microseconds through an echoing peer. */
async function roundTrips(h, conn, n) {
  for (let i = 0; i < 3000; i++) {
    await conn.send(small(i));
    await conn.recv();
  }
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await conn.send(small(i));
    await conn.recv();
    lat.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return h.percentile(lat, 50);
}

export default async function (h) {
  const q = h.quick;
  const nSmall = q ? 100_000 : 300_000;
  const nBig = q ? 5000 : 20_000;
  const nPing = q ? 2000 : 10_000;
  const nThread = q ? 100_000 : 400_000;

  // Sends are pipelined as a program would write them: a few hundred in flight, awaited in groups.
  await h.compare({
    id: 'pipe.process.oneway.small',
    unit: 'msg/s',
    ours: () => withChild('sink', nSmall, (c) => oneway(c, nSmall, small, 256)),
    baseline: {
      id: 'python.multiprocessing.Pipe.oneway.small',
      run: async () => (await h.python('pipe_oneway.py', [nSmall, 0])).ops_per_sec,
    },
    note: 'sends awaited every 256; Python send() blocks per message',
  });
  await h.compare({
    id: 'pipe.process.oneway.small.awaited',
    unit: 'msg/s',
    ours: () => withChild('sink', nSmall / 5, (c) => oneway(c, nSmall / 5, small, 1)),
    baseline: {
      id: 'python.multiprocessing.Pipe.oneway.small',
      run: async () => (await h.python('pipe_oneway.py', [nSmall / 5, 0])).ops_per_sec,
    },
    note: 'every send awaited (one write per message)',
  });
  await h.compare({
    id: 'pipe.process.pingpong',
    unit: 'µs',
    higherIsBetter: false,
    ours: () => withChild('echo', 0, (c) => roundTrips(h, c, nPing)),
    baseline: {
      id: 'python.multiprocessing.Pipe.pingpong.p50',
      run: async () => (await h.python('pipe_pingpong.py', [nPing])).p50_us,
    },
    note: 'p50 round trip',
  });
  await h.compare({
    id: 'pipe.process.oneway.64k',
    unit: 'msg/s',
    ours: () => withChild('sink', nBig, (c) => oneway(c, nBig, with64k, 16, 1000), 1000),
    baseline: {
      id: 'python.multiprocessing.Pipe.oneway.64k',
      run: async () => (await h.python('pipe_oneway.py', [nBig, 65_536])).ops_per_sec,
    },
  });

  await h.compare({
    id: 'pipe.thread.oneway.small',
    unit: 'msg/s',
    ours: () => withWorker('sink', nThread, (c) => oneway(c, nThread, small, 256)),
    baseline: {
      id: 'node.MessagePort.oneway.small',
      run: () =>
        withPort('port-sink', nThread, async (port) => {
          const warm = once(port, 'message');
          for (let i = 0; i < WARM; i++) port.postMessage(small(i));
          await warm;
          const t0 = performance.now();
          const done = once(port, 'message');
          for (let i = 0; i < nThread; i++) port.postMessage(small(i));
          await done;
          return nThread / ((performance.now() - t0) / 1000);
        }),
    },
    note: 'sends awaited every 256',
  });
  const portRoundTrips = () =>
    withPort('port-echo', 0, async (port) => {
      const lat = [];
      for (let i = 0; i < 3000 + nPing; i++) {
        const t = process.hrtime.bigint();
        const back = once(port, 'message');
        port.postMessage(small(i));
        await back;
        if (i >= 3000) lat.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      return h.percentile(lat, 50);
    });
  await h.compare({
    id: 'pipe.thread.pingpong',
    unit: 'µs',
    higherIsBetter: false,
    ours: () => withWorker('echo', 0, (c) => roundTrips(h, c, nPing)),
    baseline: { id: 'node.MessagePort.pingpong.p50', run: portRoundTrips },
    note: 'p50 round trip',
  });
  await h.compare({
    id: 'pipe.thread.pingpong.recvSync',
    unit: 'µs',
    higherIsBetter: false,
    ours: () => withWorker('echo-sync', 0, (c) => roundTrips(h, c, nPing)),
    baseline: { id: 'node.MessagePort.pingpong.p50', run: portRoundTrips },
    note: 'p50 round trip; the worker blocks in recvSync',
  });
}
