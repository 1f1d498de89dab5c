/**
 * `@conc/shared-memory` is an optional peer used only by `@conc/lock/process`.
 * Installs are rebuilt in a temp dir of real copies (dist + package.json) in a
 * real child process: without the native addon (no build/, no prebuilds/: what
 * a failed install leaves), and without the package at all.
 */
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess, tempDir, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../..', import.meta.url));

/** node_modules with @conc/lock, @conc/serialize and, when asked, @conc/shared-memory without its addon. */
async function install(withSharedMemory: boolean): Promise<string> {
  const root = await tempDir('conc-lock-install-');
  const scope = join(root, 'node_modules', '@conc');
  mkdirSync(scope, { recursive: true });
  const copy = (name: string): void => {
    cpSync(join(packages, name, 'dist'), join(scope, name, 'dist'), { recursive: true });
    cpSync(join(packages, name, 'package.json'), join(scope, name, 'package.json'));
  };
  copy('lock');
  symlinkSync(join(packages, 'serialize'), join(scope, 'serialize'));
  if (withSharedMemory) {
    copy('shared-memory');
    symlinkSync(
      join(packages, 'shared-memory', 'node_modules', 'node-gyp-build'),
      join(root, 'node_modules', 'node-gyp-build'),
    );
  }
  return root;
}

async function probe(cwd: string, script: string): Promise<Record<string, unknown>> {
  await using child = spawnProcess(process.execPath, ['--input-type=module', '-e', script], { cwd });
  const { code } = await within(child.exited, 20_000, 'probe');
  expect(child.stderr()).toBe('');
  expect(code).toBe(0);
  return JSON.parse(child.stdout());
}

const PROBE = `
  const out = {};
  const thread = await import('@conc/lock');
  const t = new thread.Lock();
  out.threadLock = t.acquireSync() && t.locked();
  try {
    const proc = await import('@conc/lock/process');
    try { new proc.Lock(); out.processLock = 'no error'; }
    catch (err) { out.processLock = { name: err.name, code: err.code, message: err.message }; }
  } catch (err) {
    out.processImport = { code: err.code, message: err.message };
  }
  console.log(JSON.stringify(out));
`;

describe('without @conc/shared-memory working', () => {
  it('the thread tier works; a process Lock throws SharedMemoryUnavailableError naming cause and alternative', async () => {
    const out = await probe(await install(true), PROBE);
    expect(out.threadLock).toBe(true);
    expect(out.processLock).toMatchObject({
      name: 'SharedMemoryUnavailableError',
      code: 'ERR_CONC_SHM_UNAVAILABLE',
    });
    const message = (out.processLock as { message: string }).message;
    expect(message).toMatch(/native addon did not load/);
    expect(message).toMatch(/Manager/);
  });

  it('without the package installed at all, @conc/lock still loads and only the /process import fails, naming it', async () => {
    const out = await probe(await install(false), PROBE);
    expect(out.threadLock).toBe(true);
    expect(out.processImport).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    expect((out.processImport as { message: string }).message).toMatch(/@conc\/shared-memory/);
  });
});
