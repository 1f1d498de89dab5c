import { isIP } from 'node:net';

/** A TCP address: host name or IP, and port (`0` picks a free port when listening). */
export interface TcpAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Where a `Listener` listens and a `Client` connects: a unix socket path (a
 * string; `\0name` is Linux's abstract namespace) or a TCP address.
 */
export type Address = string | TcpAddress;

/**
 * Where a `Listener` listens: an {@link Address}, or `{ port }` alone, which
 * listens on loopback (`127.0.0.1`): reaching beyond this machine is always
 * asked for by name.
 */
export type ListenAddress = Address | { readonly host?: undefined; readonly port: number };

/** The host a TCP listener binds when none is given. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/** A listen address with the default host filled in. */
export function withDefaultHost(address: ListenAddress): Address {
  if (typeof address !== 'object' || address === null || address.host !== undefined)
    return address as Address;
  return { host: DEFAULT_LISTEN_HOST, port: address.port };
}

/** Checks an address up front, with a message naming what is wrong. */
export function checkAddress(address: unknown, what: string): asserts address is Address {
  if (typeof address === 'string') {
    if (address.length === 0) throw new TypeError(`${what}: the socket path is empty`);
    return;
  }
  if (typeof address !== 'object' || address === null) {
    throw new TypeError(`${what}: address must be a socket path or { host, port }`);
  }
  const { host, port } = address as Partial<TcpAddress>;
  if (typeof host !== 'string' || host.length === 0)
    throw new TypeError(`${what}: address.host must be a string`);
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new RangeError(`${what}: address.port must be an integer from 0 to 65535`);
  }
}

/** True for a host that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^::ffff:127\./.test(h);
}
