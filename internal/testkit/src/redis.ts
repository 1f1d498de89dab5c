/**
 * A private `redis-server` per test file (Debian's 7.0 here): a free loopback
 * port, no persistence (`--save '' --appendonly no`), a temp dir of its own.
 * Start it in `beforeAll`, stop it in `afterAll`; the setup file's leak
 * check stops (and reports) any server a file left running.
 *
 * @example
 * ```ts
 * let redis: RedisServer;
 * beforeAll(async () => { redis = await startRedis(); });
 * afterAll(() => redis.stop());
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './time.js';

/** A running private Redis server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The server's pid (changes on restart). */
  readonly pid: number | undefined;
  /** Stops the server (SIGKILL, as a crash), then starts it again on the same port, empty. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const running = new Set<RedisServer>();

/** Servers started by this test file and not stopped: what the leak check stops and reports. */
export function runningRedisServers(): RedisServer[] {
  return [...running];
}

/** The server program: Debian's `redis-server` on the PATH (`.ci/run` installs it). */
export function redisServerPath(): string {
  return 'redis-server';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the server answers PING, or rejects after `ms`. */
async function ready(port: number, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}) while starting`,
      );
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let reply = '';
      socket.setTimeout(500);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (d) => {
        reply += d.toString();
        if (reply.includes('\r\n')) {
          socket.destroy();
          resolve(reply.startsWith('+PONG'));
        }
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms`);
}

function launch(port: number, dir: string): ChildProcess {
  const child = spawn(
    redisServerPath(),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  child.once('error', () => {});
  return child;
}

function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Starts a private Redis server (see the module comment). */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'conc-redis-'));
  let lastError: unknown;
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    let child = launch(port, dir);
    try {
      await ready(port, child, 10_000);
    } catch (err) {
      lastError = err;
      await killed(child, 'SIGKILL');
      continue;
    }
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    const server: RedisServer = {
      host: '127.0.0.1',
      port,
      url: `redis://127.0.0.1:${port}`,
      get pid() {
        return child.pid;
      },
      async restart(options) {
        await killed(child, 'SIGKILL');
        if (options?.downMs) await sleep(options.downMs);
        child = launch(port, dir);
        await ready(port, child, 10_000);
      },
      async stop() {
        running.delete(server);
        process.off('exit', onExit);
        await killed(child, 'SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
    running.add(server);
    return server;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(
    `could not start ${redisServerPath()} (is it installed? apt-get install redis-server): ${String(lastError)}`,
  );
}
