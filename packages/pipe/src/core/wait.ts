import { isPipeTimeoutError, PipeTimeoutError } from '../errors.js';
import { type Connection, kReady, kWatch } from './connection.js';
import { checkTimeout, type WaitOptions, waitWith } from './deadline.js';

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
  checkTimeout('wait', options.timeout);
  const signal = options.signal;
  signal?.throwIfAborted();
  const ready = () => list.filter((c) => c[kReady]());
  if (list.length === 0) return [];
  const now = ready();
  if (now.length > 0) return now;
  const ms = options.timeout;
  // `0` only looks, after letting pending I/O land (as `poll(0)` does); a timeout ends with what is ready then.
  return waitWith<C[]>(
    'wait',
    ms === 0 ? { signal } : options,
    (after) => new PipeTimeoutError(`wait: nothing ready within ${after} ms`, after),
    (resolve) => {
      const stops = list.map((c) => c[kWatch](onReady));
      const immediate = ms === 0 ? setImmediate(finish) : undefined;
      const withdraw = () => {
        for (const stop of stops) stop();
        if (immediate !== undefined) clearImmediate(immediate);
      };
      // Settle a microtask later, so connections made ready by the same event are reported together.
      let scheduled = false;
      function onReady() {
        if (scheduled) return;
        scheduled = true;
        queueMicrotask(finish);
      }
      function finish() {
        withdraw();
        resolve(ready());
      }
      return withdraw;
    },
  ).catch((err: unknown) => {
    if (isPipeTimeoutError(err)) return ready();
    throw err;
  });
}
