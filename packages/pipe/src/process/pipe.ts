import { newRendezvousPair } from './rendezvous.js';
import { SocketConnection, type SocketConnectionOptions } from './socket-connection.js';

/**
 * A pipe whose ends may live in different processes: two socket connections
 * that meet on first use (see `rendezvous.ts`). With `duplex` false the first
 * end only receives and the second only sends, as in Python.
 */
export function processPipe<T>(
  duplex: boolean,
  options: SocketConnectionOptions,
): [SocketConnection<T>, SocketConnection<T>] {
  const [a, b] = newRendezvousPair();
  return [
    new SocketConnection<T>({ rendezvous: a }, true, duplex, options),
    new SocketConnection<T>({ rendezvous: b }, duplex, true, options),
  ];
}
