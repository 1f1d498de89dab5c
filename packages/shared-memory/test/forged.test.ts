/**
 * Attach by a forged or foreign name: refused with TokenError after checking the file and
 * its header, never a crash (SIGBUS from mapping past the end of a short file), and never
 * a file removed that is not a segment of ours.
 */
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { isTokenError } from '@conc/serialize';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedMemory, sweep } from '../src/index.js';

const made: string[] = [];

/** A file under /dev/shm with a conc- name, removed after the test. */
function plant(suffix: string, bytes: Uint8Array | string, mode = 0o600): string {
  const name = `conc-test-forged-${suffix}-${process.pid}`;
  writeFileSync(`/dev/shm/${name}`, bytes, { mode });
  made.push(name);
  return name;
}

afterEach(() => {
  for (const name of made.splice(0)) rmSync(`/dev/shm/${name}`, { recursive: true, force: true });
});

function refusal(name: unknown): string {
  try {
    SharedMemory.attach(name as string).close();
  } catch (err) {
    expect(isTokenError(err), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`attach(${JSON.stringify(name)}) was not refused`);
}

/** The header page of a real segment, to alter one field at a time. */
function validHeader(size: number): Buffer {
  const shm = SharedMemory.create({ size });
  const fd = openSync(`/dev/shm/${shm.name}`, 'r');
  const page = Buffer.alloc(4096 + size);
  readSync(fd, page, 0, page.length, 0);
  closeSync(fd);
  shm.close();
  return page;
}

describe('attach refuses', () => {
  it('names that are not conc- names, or that lead out of /dev/shm', () => {
    for (const name of [
      'jobs',
      '',
      'conc-',
      '../etc/passwd',
      'conc-../../etc/passwd',
      'conc-a/b',
      '/dev/shm/conc-x',
      42,
      null,
    ]) {
      expect(refusal(name)).toMatch(/not a conc shared memory name/);
    }
  });

  it('a file with the wrong magic, and leaves it alone in a sweep', () => {
    const name = plant('magic', new Uint8Array(4096 + 64));
    expect(refusal(name)).toMatch(/wrong magic/);
    sweep();
    expect(existsSync(`/dev/shm/${name}`)).toBe(true);
  });

  it('a segment of another layout version', () => {
    const page = validHeader(64);
    page.writeUInt32LE(2, 8);
    expect(refusal(plant('version', page))).toMatch(/layout version 2/);
  });

  it('a header whose size disagrees with the file (mapping it would fault past the end)', () => {
    const page = validHeader(64);
    page.writeDoubleLE(1 << 20, 16);
    expect(refusal(plant('size', page))).toMatch(/where the header says/);
  });

  it('a file too small to hold a header', () => {
    expect(refusal(plant('small', 'conc-shm'))).toMatch(/too small/);
    expect(refusal(plant('empty', ''))).toMatch(/too small/);
  });

  it('a file another process may read (mode other than 0600)', () => {
    expect(refusal(plant('mode', validHeader(64), 0o644))).toMatch(/mode 644/);
  });

  it.runIf(process.geteuid?.() === 0)('a file of another user', () => {
    const name = plant('owner', validHeader(64));
    chownSync(`/dev/shm/${name}`, 65534, 65534);
    expect(refusal(name)).toMatch(/another user/);
  });

  it('a symlink under a conc- name, and a directory', () => {
    using real = SharedMemory.create({ size: 64 });
    const link = `conc-test-forged-link-${process.pid}`;
    symlinkSync(`/dev/shm/${real.name}`, `/dev/shm/${link}`);
    made.push(link);
    expect(refusal(link)).toMatch(/ELOOP/);
    const dir = `conc-test-forged-dir-${process.pid}`;
    mkdirSync(`/dev/shm/${dir}`);
    made.push(dir);
    expect(refusal(dir)).toMatch(/EISDIR|not a regular file/);
  });
});
