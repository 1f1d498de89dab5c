// Handing ends to other threads and processes: re-exported so `@conc/pipe` alone is enough.
export { attach, share } from '@conc/serialize';
export { type BytesLike, Connection, type RecvOptions } from './core/connection.js';
export type { WaitOptions } from './core/deadline.js';
export {
  type CallOptions,
  type RpcContext,
  type RpcHandler,
  type RpcHandlers,
  RpcPeer,
  type RpcPeerOptions,
} from './core/rpc.js';
export { wait } from './core/wait.js';
export {
  AuthenticationError,
  BufferTooShortError,
  ConnectionClosedError,
  isAuthenticationError,
  isBufferTooShortError,
  isConnectionClosedError,
  isListenerBusyError,
  isPipeTimeoutError,
  isUnknownMethodError,
  ListenerBusyError,
  PipeTimeoutError,
  UnknownMethodError,
} from './errors.js';
export { Pipe, type ProcessPipeOptions, type ThreadPipeOptions } from './pipe.js';
export type { Address, ListenAddress, TcpAddress } from './process/address.js';
export { Client, type ClientOptions } from './process/client.js';
export type { DigestName } from './process/handshake.js';
export { Listener, type ListenerOptions, type ListenerRefusals } from './process/listener.js';
export {
  PROCESS_CONNECTION_KIND,
  SocketConnection,
  type SocketConnectionOptions,
} from './process/socket-connection.js';
export {
  type RecvSyncOptions,
  THREAD_CONNECTION_KIND,
  ThreadConnection,
  transferablesOf,
} from './thread/connection.js';
