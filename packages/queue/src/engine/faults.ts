/**
 * Named fault-injection points for the fault tests, which stop or stall a
 * real worker at an exact place in a queue call.
 *
 * The engine calls `faults?.hit(point)`: with no fault asked for, `faults` is
 * `undefined`, a module constant, and each point costs one check of it. A
 * fault is asked for only through a worker thread's environment:
 * - `CONC_QUEUE_CRASH_AT=<point>`: the worker posts `{ crashPoint }` to its
 *   parent and parks for good there, for the test to terminate it;
 * - `CONC_QUEUE_STALL_AT=<point>` (and `CONC_QUEUE_STALL_MS`, default 2000):
 *   the worker posts `{ stalled }` and stays there, alive, that long, once.
 */
import { isMainThread, parentPort } from 'node:worker_threads';

/** Where a fault can be injected. */
export type FaultPoint =
  /** In a put's section: its block allocated, its bytes not yet copied in. */
  | 'put.fill'
  /** In a put's section: its bytes copied in, the item not yet linked. */
  | 'put.section'
  /** Half way through copying a large item into its reserved block, outside the lock. */
  | 'put.copy'
  /** In a get's section: items unlinked, the section not committed. */
  | 'get.section'
  /** After a get's section, before the taken items are copied out. */
  | 'get.copy';

/** The fault a worker was asked for. */
export interface Faults {
  /** The point it acts at. */
  readonly point: FaultPoint;
  /** Called at each point; acts at {@link point}. */
  hit(point: FaultPoint): void;
}

function fromEnvironment(): Faults | undefined {
  if (isMainThread) return undefined;
  const crash = process.env.CONC_QUEUE_CRASH_AT as FaultPoint | undefined;
  const stall = process.env.CONC_QUEUE_STALL_AT as FaultPoint | undefined;
  if (crash) {
    return {
      point: crash,
      hit(point) {
        if (point !== crash) return;
        parentPort?.postMessage({ crashPoint: point });
        const hang = new Int32Array(new SharedArrayBuffer(4));
        for (;;) Atomics.wait(hang, 0, 0);
      },
    };
  }
  if (stall) {
    let stalled = false;
    return {
      point: stall,
      hit(point) {
        if (point !== stall || stalled) return;
        stalled = true;
        parentPort?.postMessage({ stalled: point });
        const ms = Number(process.env.CONC_QUEUE_STALL_MS ?? 2000);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      },
    };
  }
  return undefined;
}

/** The fault this thread was asked for, or `undefined` (always, on the main thread). */
export const faults: Faults | undefined = fromEnvironment();
