import { type Connection, kReady, kWatch } from './connection.js';
import { checkTimeout, type WaitOptions } from './deadline.js';

/**
 * Waits until at least one of `connections` is ready and resolves with every
 * ready one, in the order given: Python's `multiprocessing.connection.wait`.
 * A connection is ready when `recv()` would settle at once: a message is
 * buffered, the peer has closed (the `recv` then reports it), or it was closed
 * here. Resolves with `[]` after `timeout` milliseconds.
 *
 * @param timeout milliseconds, or `{ timeout, signal }`; `undefined` waits
 *   without limit, `0` only looks (after letting pending I/O land).
 *
 * @example
 * ```ts
 * for (const conn of await wait([a, b, c], 1000)) console.log(await conn.recv());
 * ```
 */
export async function wait<C extends Connection<unknown>>(
  connections: Iterable<C>,
  timeout?: number | WaitOptions,
): Promise<C[]> {
  const list = [...connections];
  const options: WaitOptions = typeof timeout === 'object' ? timeout : { timeout };
  checkTimeout(options.timeout, 'wait');
  const signal = options.signal;
  signal?.throwIfAborted();
  const ready = () => list.filter((c) => c[kReady]());
  if (list.length === 0) return [];
  const now = ready();
  if (now.length > 0) return now;
  return new Promise<C[]>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const stops: Array<() => void> = [];
    const finish = (result: C[] | undefined, error?: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      for (const stop of stops) stop();
      if (result) resolve(result);
      else reject(error);
    };
    function onAbort() {
      finish(undefined, signal?.reason);
    }
    // Settle a microtask later, so connections made ready by the same event are reported together.
    let scheduled = false;
    const onReady = () => {
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => finish(ready()));
    };
    for (const c of list) stops.push(c[kWatch](onReady));
    signal?.addEventListener('abort', onAbort, { once: true });
    const ms = options.timeout;
    if (ms === 0) {
      setImmediate(() => finish(ready()));
    } else if (ms !== undefined && ms !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => finish(ready()), ms);
    }
  });
}
