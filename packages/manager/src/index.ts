export { isManagerUnavailableError, ManagerUnavailableError } from './errors.js';
