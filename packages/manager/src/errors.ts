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
