import { ConcError, defineConcError, errorGuard } from '@conc/serialize';

/**
 * The manager's server process is gone (or never answered): every pending and
 * later proxy call rejects with this within a second, instead of looping on a
 * broken pipe as Python's proxies do.
 */
export class ManagerUnavailableError extends ConcError {
  static {
    defineConcError(this, 'ManagerUnavailableError', 'ERR_CONC_MANAGER_UNAVAILABLE');
  }
}

export const isManagerUnavailableError = errorGuard(ManagerUnavailableError);

/**
 * A proxy called a method its type does not expose: a private name, a name
 * outside the type's `exposed` list, or `__proto__` / `constructor`. Nothing
 * on the server was touched.
 */
export class MethodNotExposedError extends ConcError {
  static {
    defineConcError(this, 'MethodNotExposedError', 'ERR_CONC_MANAGER_NOT_EXPOSED');
  }
}

export const isMethodNotExposedError = errorGuard(MethodNotExposedError);

/**
 * The object a proxy refers to no longer exists on the server: every
 * reference to it was dropped (the proxies were released or their processes
 * died), or it never existed there.
 */
export class ObjectFreedError extends ConcError {
  static {
    defineConcError(this, 'ObjectFreedError', 'ERR_CONC_MANAGER_OBJECT_FREED');
  }
}

export const isObjectFreedError = errorGuard(ObjectFreedError);

/**
 * Python's `KeyError`: `dict.pop(key)` without a default, or a value operation
 * on a key the dict does not hold.
 */
export class KeyError extends ConcError {
  static {
    defineConcError(this, 'KeyError', 'ERR_CONC_MANAGER_KEY');
  }
}

export const isKeyError = errorGuard(KeyError);
