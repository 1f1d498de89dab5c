/**
 * Vitest setup file for every conc package (`setupFiles: ['@conc/testkit/setup']`):
 * a watchdog per test that prints what is alive when a test is about to time
 * out, and a leak check after each test that fails the test if it left
 * workers, children, sockets, socket files or temp dirs behind.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { collectLeaks, type LeakBaseline, takeBaseline } from './leaks.js';
import { runningRedisServers } from './redis.js';
import { liveResourceReport } from './report.js';
import { type PrivateTmpdir, usePrivateTmpdir } from './tmp.js';

// fast-check's default size ('small') caps generated lengths at 10 whatever `maxLength` says, so
// a property over "payloads up to 2000 bytes" never saw one over 10. 'medium' lets them reach 100.
fc.configureGlobal({ baseSize: 'medium' });

let tmp: PrivateTmpdir | undefined;

beforeAll(() => {
  tmp = usePrivateTmpdir();
});

afterAll(async () => {
  // A private redis-server (startRedis) lives for its test file: one still running now was never stopped.
  const servers = runningRedisServers();
  for (const server of servers) await server.stop();
  tmp?.dispose();
  tmp = undefined;
  if (servers.length > 0) {
    throw new Error(
      `the test file left ${servers.length} redis-server(s) running (now stopped): stop them in afterAll`,
    );
  }
});

let baseline: LeakBaseline | undefined;
let watchdog: NodeJS.Timeout | undefined;

beforeEach((ctx) => {
  baseline = takeBaseline();
  const timeout = ctx.task.timeout > 0 ? ctx.task.timeout : 20_000;
  // Fire shortly before vitest's own timeout, so the report lands next to the failure.
  const at = Math.max(timeout - Math.min(1000, timeout / 10), timeout / 2);
  watchdog = setTimeout(() => {
    process.stderr.write(
      `\n[watchdog] "${ctx.task.name}" has run for ${Math.round(at)} ms of its ${timeout} ms; it looks hung.\n${liveResourceReport()}\n`,
    );
  }, at);
  watchdog.unref();
});

afterEach(async () => {
  clearTimeout(watchdog);
  if (!baseline) return;
  const leaks = await collectLeaks(baseline);
  baseline = undefined;
  if (leaks.length > 0) {
    throw new Error(`the test leaked resources (now cleaned up):\n  - ${leaks.join('\n  - ')}`);
  }
});
