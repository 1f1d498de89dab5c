/**
 * The program `Manager.start()` forks: it waits for its configuration on the
 * IPC channel (the authkey travels there, never in argv or the environment),
 * starts a {@link ManagerServer}, reports its address, and exits as soon as
 * the IPC channel closes: the starting process shut it down, exited, or was
 * killed (no orphaned server).
 */
import { rmSync } from 'node:fs';
import type { Address } from '@conc/pipe';
import { registerProxies } from '../client/kinds.js';
import type { RegisteredType } from '../protocol.js';
import { ManagerServer } from './server.js';

/** The first IPC message from the starting process. */
export interface ServerConfig {
  readonly authkey: string;
  readonly address?: Address;
  readonly types: Array<[string, RegisteredType]>;
  /** The private directory the starting process made for our socket: removed when we exit. */
  readonly socketDir?: string;
}

let socketDir: string | undefined;

function exit(): never {
  // The starter may have been killed: the socket directory must not outlive both of us.
  if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  process.exit(0);
}

if (typeof process.send !== 'function') {
  process.stderr.write('@conc/manager/server is started by Manager.start(), with an IPC channel\n');
  process.exit(2);
}

registerProxies();

// The parent is gone or done with us: nothing may outlive it.
process.on('disconnect', exit);

process.once('message', (message: ServerConfig) => {
  socketDir = message.socketDir;
  void (async () => {
    let server: ManagerServer;
    try {
      server = await ManagerServer.listen({
        authkey: Buffer.from(message.authkey, 'base64'),
        address: message.address,
        types: new Map(message.types),
      });
    } catch (err) {
      process.send?.({ error: (err as Error).message });
      process.disconnect?.();
      return;
    }
    process.send?.({ address: server.address, serverId: server.serverId });
  })();
});
