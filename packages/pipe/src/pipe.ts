import { processPipe } from './process/pipe.js';
import type { SocketConnection, SocketConnectionOptions } from './process/socket-connection.js';
import type { ThreadConnection } from './thread/connection.js';
import { threadPipe } from './thread/pipe.js';

/** Options of a thread {@link Pipe}. */
export interface ThreadPipeOptions {
  /**
   * Both ends send and receive. When false, the first end only receives and
   * the second only sends, as Python's `Pipe(duplex=False)`.
   * @default true
   */
  duplex?: boolean;
  /** Where the ends may go: `'thread'` for worker threads of this process. @default 'thread' */
  scope?: 'thread';
}

/** Options of a process {@link Pipe}. */
export interface ProcessPipeOptions extends SocketConnectionOptions {
  /** As for thread pipes. @default true */
  duplex?: boolean;
  /** `'process'`: the ends are socket connections that other processes can attach. */
  scope: 'process';
}

/**
 * Python's `multiprocessing.Pipe()`: two connected {@link Connection}s.
 *
 * - `Pipe()`: for worker threads. Values travel by structured clone over a
 *   MessagePort; hand an end to a worker with `share()` + `transferList:
 *   transferablesOf(token)`; workers can block in `recvSync`.
 * - `Pipe({ scope: 'process' })`: for processes. Each end is a socket
 *   connection made on first use; until then an end can be given to another
 *   process as a JSON-safe token (`share(end)`, then `attach(token)` there).
 *
 * @example
 * ```ts
 * const [a, b] = Pipe<string>();
 * await a.send('rose');
 * await b.recv(); // 'rose'
 *
 * const [parentEnd, childEnd] = Pipe<string>({ scope: 'process' });
 * fork(new URL('./child.js', import.meta.url), [JSON.stringify(share(childEnd))]);
 * console.log(await parentEnd.recv());
 * ```
 */
export function Pipe<T = unknown>(options?: ThreadPipeOptions): [ThreadConnection<T>, ThreadConnection<T>];
export function Pipe<T = unknown>(options: ProcessPipeOptions): [SocketConnection<T>, SocketConnection<T>];
export function Pipe<T = unknown>(
  options: ThreadPipeOptions | ProcessPipeOptions = {},
): [ThreadConnection<T>, ThreadConnection<T>] | [SocketConnection<T>, SocketConnection<T>] {
  const { duplex = true, scope = 'thread' } = options;
  if (typeof duplex !== 'boolean') throw new TypeError('Pipe: duplex must be a boolean');
  if (scope === 'thread') return threadPipe<T>(duplex);
  if (scope === 'process') return processPipe<T>(duplex, options as ProcessPipeOptions);
  throw new TypeError(`Pipe: scope must be 'thread' or 'process' (got ${JSON.stringify(scope)})`);
}
