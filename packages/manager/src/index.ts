// Handing proxies to other processes: re-exported so `@conc/manager` alone is enough.
export { attach, share } from '@conc/serialize';
export { AUTHKEY_ENV } from './client/authkey.js';
export {
  ArrayProxy,
  type DictKey,
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
} from './client/collections.js';
export {
  BarrierProxy,
  ConditionProxy,
  EventProxy,
  LockProxy,
  ManagerLockGuard,
  SemaphoreProxy,
} from './client/locks.js';
export { BaseProxy } from './client/proxy.js';
export { QueueProxy } from './client/queue.js';
export { RegisteredProxy, type Remote } from './client/registered.js';
export {
  isKeyError,
  isManagerUnavailableError,
  isMethodNotExposedError,
  isObjectFreedError,
  KeyError,
  ManagerUnavailableError,
  MethodNotExposedError,
  ObjectFreedError,
} from './errors.js';
export {
  Manager,
  type ManagerBarrierOptions,
  type ManagerConnectOptions,
  type StartOptions,
} from './manager.js';
export type { RegisteredType } from './protocol.js';
export type { ManagerServer, ServeOptions, ServerInfo } from './server/server.js';
export type { Typecode } from './server/types/value.js';
