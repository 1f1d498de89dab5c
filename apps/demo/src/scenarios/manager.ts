/**
 * Python's multiprocessing.Manager across child processes: the seed's counter
 * race on a shared dict, without a lock, with the manager's RLock, and with
 * the atomic `dict.add` Python lacks; then a client killed while holding the
 * RLock, whose lock passes to the next acquirer, who is told.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type DictProxy, type LockProxy, Manager, share } from '@conc/manager';

export const title = "Python's multiprocessing.Manager across child processes";

const TIMES = 300;

function child(env: NodeJS.ProcessEnv, args: unknown): ChildProcess {
  return fork(new URL('./workers/manager-counter.js', import.meta.url), [JSON.stringify(args)], { env });
}

/** How long the child's loop took (it reports it, from the barrier on: process start-up not counted). */
async function finished(c: ChildProcess): Promise<number> {
  let ms = 0;
  c.on('message', (m: { ms?: number }) => {
    ms = m.ms ?? ms;
  });
  const [code] = (await once(c, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`manager-counter exited with code ${code}`);
  return ms;
}

export async function run(out: (line: string) => void): Promise<void> {
  const authkey = randomBytes(32);
  await using m = await Manager.start({ authkey });
  // Children learn the key from their environment; tokens never carry it.
  const env = { ...process.env, CONC_MANAGER_AUTHKEY: authkey.toString('hex') };
  const counts: DictProxy<string, number> = await m.dict<string, number>();
  const lock: LockProxy = await m.rlock();

  async function race(mode: 'plain' | 'rlock' | 'add'): Promise<{ total: number; ms: number }> {
    await counts.set('n', 0);
    const start = share(await m.barrier(2));
    const common = { dict: share(counts), lock: share(lock), start, mode, times: TIMES };
    const times = await Promise.all(
      [child(env, { ...common, delta: 1 }), child(env, { ...common, delta: -1 })].map(finished),
    );
    return { total: (await counts.get('n')) ?? 0, ms: Math.max(...times) };
  }

  out('The counter race across processes: two child processes share a manager dict; one adds 1,');
  out(`the other subtracts 1, ${TIMES} times each. The total should be 0.`);
  const plain = await race('plain');
  out(
    `  without a lock: total = ${plain.total}${plain.total === 0 ? ' (no update was lost this time; run it again)' : ' (updates were lost)'}`,
  );
  const locked = await race('rlock');
  out(`  with the manager's RLock: total = ${locked.total} (${Math.round(locked.ms)} ms)`);
  const added = await race('add');
  out(
    `  with dict.add: total = ${added.total} (${Math.round(added.ms)} ms, ${(locked.ms / added.ms).toFixed(1)}x the speed of the RLock)`,
  );

  out('A client that dies: Jack takes the RLock and his process is killed (SIGKILL) while he holds it.');
  const jack = child(env, {
    dict: share(counts),
    lock: share(lock),
    start: null,
    mode: 'hold',
    delta: 0,
    times: 0,
  });
  await once(jack, 'message');
  let told = '';
  const waiting = lock.acquire({ timeout: 5000, onOwnerDied: (info) => (told = info.primitive) });
  jack.kill('SIGKILL');
  const acquired = await waiting;
  out(`  Ken: acquire() -> ${acquired}; onOwnerDied says a client died holding the ${told}`);
  if (acquired) await lock.release();
}
