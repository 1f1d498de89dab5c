import { fileURLToPath } from 'node:url';
import { spawnProcess, within } from '@conc/testkit';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** What one run of the built `conc-demo` printed. */
export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's non-empty lines, trimmed. */
  lines: string[];
}

/** Runs the built CLI as a user would (`node dist/cli.js ...args`) and collects its output. */
export async function runDemo(...args: string[]): Promise<DemoRun> {
  const p = spawnProcess(process.execPath, [cli, ...args]);
  const exit = await within(p.exited, 50_000, `conc-demo ${args.join(' ')}`);
  const stdout = p.stdout();
  return {
    code: exit.code,
    stdout,
    stderr: p.stderr(),
    lines: stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  };
}
