// Cross-process wait/wake of @conc/shared-memory against the bare futex in C, same run.
// Rows: shm.futex.pingpong.parked.{sync,async}.p50 and .p99: a round trip between two
// processes where both sides sleep in the kernel (two wake-ups); the baseline is the same
// round trip in C (bench/c/futex-pingpong.c, compiled here when a C compiler is found).
// The process tier's "parked round trip p50 ≤ 1.2x two bare cross-process futex
// wake-ups" reads against c.futex.pingpong.parked.p50.
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { share } from '@conc/serialize';
import { SharedMemory } from '@conc/shared-memory';

const peer = fileURLToPath(new URL('./peer.mjs', import.meta.url));
const GAP_US = 200;

function next(child) {
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bench peer exited (code ${code}) before reporting`)));
  });
}

/** Round-trip samples (µs) of one ping-pong between two fresh processes. */
async function pingPong(pingRole, rounds) {
  const shm = SharedMemory.create({ size: 4096 });
  const token = JSON.stringify(share(shm));
  const pong = fork(peer, ['pong', token, String(rounds)], { stdio: 'inherit' });
  const ping = fork(peer, [pingRole, token, String(rounds), String(GAP_US)], { stdio: 'inherit' });
  try {
    await Promise.all([next(pong), next(ping)]);
    const results = Promise.all([next(ping), next(pong)]);
    pong.send('go');
    ping.send('go');
    const [{ samples }] = await results;
    return samples;
  } finally {
    ping.kill();
    pong.kill();
    shm.close();
  }
}

/** The C baseline, compiled once per run; undefined without a C compiler. */
function compileBaseline() {
  const dir = mkdtempSync(join(tmpdir(), 'conc-futex-bench-'));
  const exe = join(dir, 'futex-pingpong');
  try {
    execFileSync('cc', ['-O2', fileURLToPath(new URL('./c/futex-pingpong.c', import.meta.url)), '-o', exe], {
      stdio: 'ignore',
    });
    return { exe, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

export default async function (h) {
  const rounds = h.quick ? 2000 : 6000;
  const c = compileBaseline();
  if (!c) h.log('no C compiler: the bare-futex baseline is skipped');
  try {
    const runC = () =>
      JSON.parse(execFileSync(c.exe, [String(rounds), String(GAP_US)], { encoding: 'utf8' }));
    const ours = { sync: { p50: [], p99: [] }, async: { p50: [], p99: [] } };
    const base = { p50: [], p99: [] };
    // Interleaved, so that the machine's mood weighs on both sides alike.
    for (let i = 0; i < h.runs; i++) {
      for (const kind of ['sync', 'async']) {
        const samples = await pingPong(`ping-${kind}`, rounds);
        ours[kind].p50.push(h.percentile(samples, 50));
        ours[kind].p99.push(h.percentile(samples, 99));
      }
      if (c) {
        const r = runC();
        base.p50.push(r.p50_us);
        base.p99.push(r.p99_us);
      }
    }
    for (const kind of ['sync', 'async']) {
      for (const p of ['p50', 'p99']) {
        h.row({
          id: `shm.futex.pingpong.parked.${kind}.${p}`,
          unit: 'µs',
          value: h.median(ours[kind][p]),
          baseline: c ? { id: `c.futex.pingpong.parked.${p}`, value: h.median(base[p]) } : undefined,
          runs: h.runs,
          note:
            kind === 'sync'
              ? 'two processes, both blocking in wait(): store, wake, sleep until answered'
              : 'the pinger waits with waitAsync() on its main thread (a pool thread sleeps for it), the ponger with wait()',
        });
      }
    }
  } finally {
    c?.dispose();
  }
}
