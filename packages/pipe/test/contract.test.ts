/**
 * The connection contract, run against every kind of connection this package
 * makes: thread pipes, process pipes, and Listener/Client connections over a
 * unix socket and over TCP. The remote variants put the other end in a real
 * worker thread or child process.
 */
import { fixture, pipeContract, spawnChild, startWorker } from '@conc/testkit';
import { Client, Listener, Pipe, share, transferablesOf } from './helpers.js';

const authkey = 'contract-key';

pipeContract('thread', {
  pair: async () => {
    const [a, b] = Pipe();
    return { a, b };
  },
  oneWay: async () => {
    const [a, b] = Pipe({ duplex: false });
    return { a, b };
  },
  remoteEcho: async () => {
    const [conn, theirs] = Pipe();
    const token = share(theirs);
    const w = startWorker(fixture(import.meta.url, 'echo.mjs'), {
      workerData: { conn: token },
      transferList: transferablesOf(token),
    });
    return {
      conn,
      kill: async () => void (await w.terminate()),
      dispose: async () => void (await w.terminate()),
    };
  },
});

pipeContract('process', {
  pair: async () => {
    const [a, b] = Pipe({ scope: 'process' });
    return { a, b };
  },
  oneWay: async () => {
    const [a, b] = Pipe({ scope: 'process', duplex: false });
    return { a, b };
  },
  remoteEcho: async () => {
    const [conn, theirs] = Pipe({ scope: 'process' });
    const child = spawnChild(fixture(import.meta.url, 'echo.mjs'), [JSON.stringify(share(theirs))]);
    return {
      conn,
      kill: async () => void (await child.kill('SIGKILL')),
      dispose: async () => {
        await child.exited;
      },
    };
  },
});

for (const transport of ['unix', 'tcp'] as const) {
  const listen = () =>
    Listener.listen({ authkey, address: transport === 'tcp' ? { host: '127.0.0.1', port: 0 } : undefined });
  pipeContract(`Listener/Client (${transport})`, {
    pair: async () => {
      const listener = await listen();
      const [a, b] = await Promise.all([Client(listener.address, { authkey }), listener.accept()]);
      return { a, b, dispose: () => listener.close() };
    },
    remoteEcho: async () => {
      const listener = await listen();
      const child = spawnChild(
        fixture(import.meta.url, 'echo.mjs'),
        ['client', JSON.stringify(listener.address)],
        {
          env: { CONC_TEST_AUTHKEY: authkey },
        },
      );
      const conn = await listener.accept({ timeout: 15_000 });
      await listener.close();
      return {
        conn,
        kill: async () => void (await child.kill('SIGKILL')),
        dispose: async () => {
          await child.exited;
        },
      };
    },
  });
}
