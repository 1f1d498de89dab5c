// One side of the manager counter race, in a child process: adds `delta` to the shared
// dict's 'n', `times` times, the way `mode` says. The authkey comes in CONC_MANAGER_AUTHKEY.
//   plain  read, then write back: two round trips, not atomic
//   rlock  the same inside the manager's RLock (Python's way)
//   add    dict.add: one atomic round trip
//   hold   take the RLock, report 'held', and keep it until killed
import { attach, type BarrierProxy, type DictProxy, type LockProxy } from '@conc/manager';

const { dict, lock, start, mode, delta, times } = JSON.parse(process.argv[2] ?? '{}') as {
  dict: unknown;
  lock: unknown;
  start: unknown;
  mode: 'plain' | 'rlock' | 'add' | 'hold';
  delta: number;
  times: number;
};
const counts = attach(dict) as DictProxy<string, number>;
const rlock = attach(lock) as LockProxy;

if (mode === 'hold') {
  await rlock.acquire();
  process.send?.('held');
  setInterval(() => {}, 1 << 30);
} else {
  await (attach(start) as BarrierProxy).wait({ timeout: 10_000 }); // both sides start together
  const t0 = performance.now();
  for (let i = 0; i < times; i++) {
    if (mode === 'add') {
      await counts.add('n', delta);
    } else if (mode === 'rlock') {
      await rlock.withLock(async () => counts.set('n', ((await counts.get('n')) ?? 0) + delta));
    } else {
      const seen = (await counts.get('n')) ?? 0;
      await counts.set('n', seen + delta);
    }
  }
  process.send?.({ ms: performance.now() - t0 });
}
