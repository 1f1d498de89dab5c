import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Mailbox } from './mailbox.js';
import { noteSpawned, type TrackedResource, track, untrack } from './registry.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnChildOptions {
  /** Extra environment variables (added to this process's environment). */
  env?: Record<string, string>;
  /** Open an IPC channel (`process.send` in the child). @default true */
  ipc?: boolean;
  /** Working directory. */
  cwd?: string;
  /** Node flags for the child. @default [] (the test runner's own flags are not inherited) */
  execArgv?: string[];
}

/**
 * A real child process started by a test: stdout and stderr are collected,
 * IPC messages are read in order with a timeout, its exit is a promise, and
 * the leak check kills it (and fails the test) if the test leaves it running.
 */
export class TrackedChild implements TrackedResource, AsyncDisposable {
  readonly child: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<ChildExit>;
  readonly leakIfAlive = true;
  readonly #label: string;
  readonly #mailbox: Mailbox;
  #stdout = '';
  #stderr = '';
  #exit: ChildExit | undefined;

  constructor(label: string, child: ChildProcess) {
    this.#label = label;
    this.child = child;
    this.#mailbox = new Mailbox(() => this.describe());
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.#stdout += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.#stderr += s;
    });
    child.on('message', (m) => this.#mailbox.push(m));
    // A failed spawn (ENOENT) emits 'error' and may never emit 'exit'.
    const spawnFailed = new Promise<ChildExit>((resolve) => {
      child.once('error', (err) => {
        this.#stderr += `\n[spawn error] ${err.message}`;
        if (child.pid === undefined) resolve({ code: -1, signal: null });
      });
    });
    const closed = new Promise<ChildExit>((resolve) => {
      // 'close' comes after 'exit' once stdio has drained: the output is complete.
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    this.exited = Promise.race([closed, spawnFailed]).then((exit) => {
      this.#exit = exit;
      untrack(this);
      this.#mailbox.close(
        new Error(
          `${this.describe()} exited (code ${exit.code}, signal ${exit.signal})\nstderr: ${this.#stderr.slice(-2000)}`,
        ),
      );
      return exit;
    });
    track(this);
    noteSpawned(child.pid);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Everything the child wrote to stdout so far. */
  stdout(): string {
    return this.#stdout;
  }

  /** Everything the child wrote to stderr so far. */
  stderr(): string {
    return this.#stderr;
  }

  /** The next IPC message, in order; rejects after `timeoutMs` or when the child exits. */
  nextMessage<T = unknown>(timeoutMs = 10_000): Promise<T> {
    return this.#mailbox.next<T>(timeoutMs);
  }

  /** Sends an IPC message (optionally with a handle: a socket or server). */
  send(message: unknown, handle?: Parameters<ChildProcess['send']>[1]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`${this.describe()}: IPC channel is closed`));
        return;
      }
      this.child.send(message as never, handle as never, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends a signal (SIGKILL by default) and resolves once the child has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
    if (this.#exit) return this.#exit;
    this.child.kill(signal);
    return this.exited;
  }

  describe(): string {
    return `child pid ${this.child.pid ?? '?'} (${this.#label})`;
  }

  alive(): boolean {
    return this.#exit === undefined;
  }

  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill('SIGKILL');
  }
}

function pathOf(module: URL | string): string {
  return typeof module === 'string' ? module : fileURLToPath(module);
}

/** Forks a real Node child process running `module` (usually a fixture), with IPC. */
export function spawnChild(
  module: URL | string,
  args: string[] = [],
  options: SpawnChildOptions = {},
): TrackedChild {
  const path = pathOf(module);
  const { ipc = true, env, cwd, execArgv = [] } = options;
  // fork() insists on an IPC channel; without one the child is a plain `node` process.
  const child = ipc
    ? fork(path, args, {
        stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...env },
        cwd,
        execArgv,
        serialization: 'advanced',
      })
    : spawn(process.execPath, [...execArgv, path, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
        cwd,
      });
  return new TrackedChild(path.split('/').slice(-2).join('/'), child);
}

/** Starts any real program (python3, redis-server...) tracked like {@link spawnChild}. */
export function spawnProcess(
  command: string,
  args: string[] = [],
  options: Omit<SpawnChildOptions, 'ipc' | 'execArgv'> = {},
): TrackedChild {
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  });
  return new TrackedChild(`${command} ${args.join(' ')}`.slice(0, 80), child);
}
