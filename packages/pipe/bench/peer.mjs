// The other side of the pipe benchmarks: a child process (argv) or a worker thread (workerData).
//   sink <n> <warm>  receive warm values and send 'warm', then receive n values and send 'done'
//   echo       send back every value received, until the other end closes
//   echo-sync  the same, blocking in recvSync (threads)
//   port-sink / port-echo: the same over a bare MessagePort (the baseline)
import { parentPort, workerData } from 'node:worker_threads';
import { attach, isConnectionClosedError } from '@conc/pipe';

const {
  role,
  token,
  n,
  warm = 0,
  port,
} = workerData ?? {
  role: process.argv[2],
  token: JSON.parse(process.argv[3]),
  n: Number(process.argv[4]),
  warm: Number(process.argv[5] ?? 0),
};

if (role === 'port-sink') {
  let seen = 0;
  port.on('message', () => {
    if (++seen === warm) port.postMessage('warm');
    else if (seen === warm + n) port.postMessage('done');
  });
  port.postMessage('ready');
} else if (role === 'port-echo') {
  port.on('message', (m) => {
    if (m === null) port.close();
    else port.postMessage(m);
  });
  port.postMessage('ready');
} else {
  const conn = attach(token);
  await conn.send('ready');
  if (role === 'sink' || role === 'sink-bytes') {
    const take = role === 'sink' ? () => conn.recv() : () => conn.recvBytes();
    for (let i = 0; i < warm; i++) await take();
    await conn.send('warm');
    for (let i = 0; i < n; i++) await take();
    await conn.send('done');
  } else if (role === 'echo') {
    for await (const m of conn) await conn.send(m);
  } else if (role === 'echo-bytes') {
    for (;;) {
      let m;
      try {
        m = await conn.recvBytes();
      } catch (err) {
        if (isConnectionClosedError(err)) break;
        throw err;
      }
      await conn.sendBytes(m);
    }
  } else if (role === 'echo-sync') {
    for (;;) {
      let m;
      try {
        m = conn.recvSync();
      } catch (err) {
        if (isConnectionClosedError(err)) break;
        throw err;
      }
      await conn.send(m);
    }
  }
  await conn.close();
  parentPort?.close();
}
