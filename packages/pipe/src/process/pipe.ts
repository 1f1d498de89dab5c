import { newRendezvousPair } from './rendezvous.js';
import { linkPipeEnds, SocketConnection, type SocketConnectionOptions } from './socket-connection.js';

/**
 * A pipe whose ends may live in different processes: two socket connections
 * that meet on first use (see `rendezvous.ts`). With `duplex` false the first
 * end only receives and the second only sends, as in Python.
 */
export function processPipe<T>(
  duplex: boolean,
  options: SocketConnectionOptions,
): [SocketConnection<T>, SocketConnection<T>] {
  const [ra, rb] = newRendezvousPair();
  const a = new SocketConnection<T>({ rendezvous: ra }, true, duplex, options);
  const b = new SocketConnection<T>({ rendezvous: rb }, duplex, true, options);
  linkPipeEnds(a, b);
  return [a, b];
}
