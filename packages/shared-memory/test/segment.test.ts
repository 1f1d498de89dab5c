/**
 * SharedMemory in one process: names, sizes, handles, close/unlink, tokens.
 */
import { existsSync, statSync } from 'node:fs';
import { attach, isTokenError, share } from '@conc/serialize';
import { removeLeakedSegments, segmentCreator } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import {
  isSharedMemoryClosedError,
  isSharedMemoryExistsError,
  isSharedMemoryNotFoundError,
  processIdentity,
  SharedMemory,
} from '../src/index.js';

const path = (name: string) => `/dev/shm/${name}`;

describe('SharedMemory', () => {
  it('creates a zeroed segment of the size asked, a 0600 file of this user under a conc- name', () => {
    using shm = SharedMemory.create({ size: 1000 });
    expect(shm.name).toMatch(/^conc-[0-9a-f]{16}$/);
    expect(shm.size).toBe(1000);
    expect(shm.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shm.buffer.byteLength).toBe(1000);
    expect(new Uint8Array(shm.buffer).every((b) => b === 0)).toBe(true);
    const st = statSync(path(shm.name));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.geteuid?.());
    expect(shm.users()).toEqual([processIdentity()]);
  });

  it('two handles see the same bytes, and Atomics work on them', () => {
    using a = SharedMemory.create({ size: 64, name: `conc-test-same-${process.pid}` });
    using b = SharedMemory.attach(a.name);
    expect(b.size).toBe(64);
    Atomics.add(new Int32Array(a.buffer), 3, 5);
    Atomics.add(new Int32Array(b.buffer), 3, 7);
    expect(Atomics.load(new Int32Array(a.buffer), 3)).toBe(12);
    new Uint8Array(b.buffer).set([1, 2, 3], 60);
    expect([...new Uint8Array(a.buffer, 60)]).toEqual([1, 2, 3, 0]);
  });

  it('refuses a taken name (SharedMemoryExistsError) and a malformed one or size up front', () => {
    using a = SharedMemory.create({ size: 8, name: `conc-test-taken-${process.pid}` });
    const err = (() => {
      try {
        SharedMemory.create({ size: 8, name: a.name });
      } catch (e) {
        return e;
      }
    })();
    expect(isSharedMemoryExistsError(err)).toBe(true);
    expect(() => SharedMemory.create({ size: 8, name: 'jobs' })).toThrow(TypeError);
    expect(() => SharedMemory.create({ size: 8, name: 'conc-../x' })).toThrow(TypeError);
    expect(() => SharedMemory.create({ size: 0 })).toThrow(RangeError);
    expect(() => SharedMemory.create({ size: 1.5 })).toThrow(RangeError);
  });

  it('attach of a name nobody holds throws SharedMemoryNotFoundError', () => {
    let err: unknown;
    try {
      SharedMemory.attach(`conc-test-none-${process.pid}`);
    } catch (e) {
      err = e;
    }
    expect(isSharedMemoryNotFoundError(err)).toBe(true);
  });

  it('the last close of a tracked segment removes it; earlier closes do not', () => {
    const a = SharedMemory.create({ size: 8 });
    const b = SharedMemory.attach(a.name);
    const c = SharedMemory.attach(a.name);
    a.close();
    b.close();
    expect(existsSync(path(a.name))).toBe(true);
    const kept = c.buffer;
    c.close();
    expect(existsSync(path(a.name))).toBe(false);
    // A buffer taken before close stays usable; the handle's getter refuses.
    Atomics.store(new Int32Array(kept), 0, 9);
    expect(Atomics.load(new Int32Array(kept), 0)).toBe(9);
    let err: unknown;
    try {
      void c.buffer;
    } catch (e) {
      err = e;
    }
    expect(isSharedMemoryClosedError(err)).toBe(true);
    c.close(); // idempotent
  });

  it('track: false keeps the segment after its last close, until unlink()', () => {
    const a = SharedMemory.create({ size: 8, track: false });
    expect(a.tracked).toBe(false);
    a.close();
    expect(existsSync(path(a.name))).toBe(true);
    const b = SharedMemory.attach(a.name);
    expect(b.tracked).toBe(false);
    b.unlink();
    expect(existsSync(path(a.name))).toBe(false);
    b.close();
  });

  it('unlink() removes the name at once; attached handles keep the memory', () => {
    using a = SharedMemory.create({ size: 8 });
    using b = SharedMemory.attach(a.name);
    a.unlink();
    expect(existsSync(path(a.name))).toBe(false);
    Atomics.store(new Int32Array(a.buffer), 1, 4);
    expect(Atomics.load(new Int32Array(b.buffer), 1)).toBe(4);
  });

  it('unlink() never removes a newer segment that took the name', () => {
    const name = `conc-test-reused-${process.pid}`;
    const old = SharedMemory.create({ size: 8, name });
    old.unlink();
    using newer = SharedMemory.create({ size: 8, name });
    old.unlink();
    old.close();
    expect(existsSync(path(name))).toBe(true);
    expect(newer.name).toBe(name);
  });

  it('share() gives a JSON-safe token; attach() rebuilds a handle on the same memory', () => {
    using a = SharedMemory.create({ size: 16 });
    const token = JSON.parse(JSON.stringify(share(a)));
    using b = attach(token) as SharedMemory;
    expect(b).toBeInstanceOf(SharedMemory);
    expect(b.name).toBe(a.name);
    Atomics.store(new Int32Array(b.buffer), 0, 42);
    expect(Atomics.load(new Int32Array(a.buffer), 0)).toBe(42);
  });

  it('a token refuses a segment that took its name later, and a segment that is gone', () => {
    const name = `conc-test-token-${process.pid}`;
    const first = SharedMemory.create({ size: 16, name });
    const token = share(first);
    first.close();
    using second = SharedMemory.create({ size: 16, name });
    const refused = (() => {
      try {
        attach(token);
      } catch (e) {
        return e;
      }
    })();
    expect(isTokenError(refused)).toBe(true);
    expect(String(refused)).toMatch(/another segment/);
    expect(second.users()).toHaveLength(1);
    second.close();
    const gone = (() => {
      try {
        attach(token);
      } catch (e) {
        return e;
      }
    })();
    expect(isTokenError(gone)).toBe(true);
    expect(String(gone)).toMatch(/no shared memory named/);
  });

  it('malformed token data is a TokenError', () => {
    using shm = SharedMemory.create({ size: 8 });
    const base = share(shm);
    const bad = [
      null,
      7,
      {},
      { name: 'conc-x', size: 8 },
      { name: '../../etc/passwd', size: 8, nonce: 'ab' },
    ];
    for (const data of bad) {
      let err: unknown;
      try {
        attach({ ...base, data });
      } catch (e) {
        err = e;
      }
      expect(isTokenError(err), JSON.stringify(data)).toBe(true);
    }
  });
});

describe('the testkit leak check', () => {
  it('reads the creator pid where the layout puts it, and finds a segment this process left', () => {
    const shm = SharedMemory.create({ size: 8 });
    expect(segmentCreator(shm.name)).toBe(process.pid);
    expect(removeLeakedSegments(new Set())).toContain(shm.name);
    expect(existsSync(path(shm.name))).toBe(false);
    shm.close();
  });
});
