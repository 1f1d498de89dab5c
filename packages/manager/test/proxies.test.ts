/**
 * The proxies' behaviour beyond the queue and lock contracts: collections,
 * atomic operations, nesting, tokens across processes, proxies inside Pipe
 * messages, registered types, serve/connect over TCP.
 */
import { pathToFileURL } from 'node:url';
import { Pipe } from '@conc/pipe';
import { attach, share } from '@conc/serialize';
import { fixture, spawnChild, within } from '@conc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListProxy, Manager } from '../src/index.js';
import { AUTHKEY } from './helpers.js';

interface Counter {
  increment(by?: number): number;
  value(): number;
  fail(message: string): never;
}

Manager.register('Counter', {
  module: pathToFileURL(fixture(import.meta.url, 'counter.mjs').pathname).href,
  exportName: 'Counter',
});

let m: Manager;

beforeAll(async () => {
  m = await Manager.start({ authkey: AUTHKEY });
});

afterAll(async () => {
  await m?.shutdown();
});

function user(role: string, payload: unknown, withKey = true) {
  return spawnChild(fixture(import.meta.url, 'user.mjs'), [role, JSON.stringify(payload)], {
    env: withKey ? { CONC_MANAGER_AUTHKEY: AUTHKEY.toString('hex') } : {},
  });
}

describe('collections', () => {
  it('dict: Python’s methods and the atomic operations', async () => {
    const d = await m.dict<string, unknown>({ a: 1 });
    await d.update([
      ['b', 2],
      ['c', 3],
    ]);
    expect(await d.keys()).toEqual(['a', 'b', 'c']);
    expect(await d.size()).toBe(3);
    expect(await d.pop('c')).toBe(3);
    expect(await d.pop('c', 'gone')).toBe('gone');
    expect(await d.setdefault('e', [1])).toEqual([1]);
    expect(await d.add('a', 41)).toBe(42);
    expect(await d.add('big', 2n ** 70n)).toBe(2n ** 70n);
    expect(await d.compareAndSet('b', 3, 30)).toBe(false);
    expect(await d.compareAndSet('b', 2, 20)).toBe(true);
    expect(await d.getAndSet('b', 200)).toBe(20);
    expect(await d.compareAndSet('e', [1], 'deep-equal')).toBe(true);
    expect(await d.toObject()).toEqual({ a: 42, b: 200, e: 'deep-equal', big: 2n ** 70n });
    await expect(d.add('e', 1)).rejects.toBeInstanceOf(TypeError);
    await expect(d.set({} as never, 1)).rejects.toBeInstanceOf(TypeError);
    await d.clear();
    expect(await d.items()).toEqual([]);
  });

  it('list, value, array and namespace', async () => {
    const l = await m.list([1, 2, 3]);
    await l.append(4);
    await l.extend([5, 6]);
    await l.insert(0, 0);
    expect(await l.pop()).toBe(6);
    await l.remove(2);
    expect(await l.index(3)).toBe(2);
    await l.set(-1, 50);
    expect(await l.get(-1)).toBe(50);
    expect(await l.slice(1, 3)).toEqual([1, 3]);
    expect(await l.toArray()).toEqual([0, 1, 3, 4, 50]);
    expect(await l.length()).toBe(5);

    const v = await m.value(10);
    expect(await v.add(5)).toBe(15);
    expect(await v.compareAndSet(15, 1)).toBe(true);
    expect(await v.get()).toBe(1);

    const a = await m.array('i', [1, 2, 3]);
    await a.set(0, 2 ** 31 - 1);
    expect(await a.add(1, 40)).toBe(42);
    expect(await a.toArray()).toEqual([2 ** 31 - 1, 42, 3]);
    await expect(a.get(3)).rejects.toBeInstanceOf(RangeError);

    const ns = await m.namespace<{ x: number; y?: string }>({ x: 1 });
    await ns.set('y', 'why');
    expect(await ns.toObject()).toEqual({ x: 1, y: 'why' });
  });

  it('many atomic adds in flight from two clients lose nothing', async () => {
    const other = await Manager.connect(m.address, { authkey: AUTHKEY });
    try {
      // Made through the second connection; attached here, it is reached through the first.
      const d2 = await other.dict<string, number>();
      const d = attach(share(d2));
      expect(d._conn).not.toBe(d2._conn);
      const adds = [
        ...Array.from({ length: 500 }, () => d.add('n', 1)),
        ...Array.from({ length: 500 }, () => d2.add('n', -1)),
        ...Array.from({ length: 500 }, () => d.add('n', 2)),
      ];
      await Promise.all(adds);
      expect(await d.get('n')).toBe(1000);
    } finally {
      await other.shutdown();
    }
  });

  it('an abort withdraws the waiter on the server: the next item is not handed to it', async () => {
    const q = await m.queue<string>();
    const ac = new AbortController();
    const reason = new Error('never mind');
    const aborted = q.get({ signal: ac.signal });
    const blocked = q.qsize(); // a round trip: the get is parked on the server by now
    expect(await blocked).toBe(0);
    ac.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    // Had the getter stayed parked on the server, this put would have gone to it.
    await q.put('kept');
    expect(await q.qsize()).toBe(1);
    expect(await q.getNowait()).toBe('kept');
  });

  it('a parked call does not hold up quick calls made in the same tick', async () => {
    const q = await m.queue<string>();
    const d = await m.dict<string, number>();
    // Same tick: a get that waits, then a quick set. The set must answer while the get waits.
    const waiting = q.get({ timeout: 10_000 });
    const quick = d.set('k', 1);
    await within(quick, 5000, 'quick call behind a parked one');
    await q.put('late');
    expect(await within(waiting, 5000, 'parked get')).toBe('late');
  });
});

describe('options', () => {
  it('wrong options are refused with the messages every conc package uses, saying what was passed', async () => {
    const q = await m.queue();
    const lock = await m.lock();
    const event = await m.event();
    await expect(q.get({ timeout: '100' as never })).rejects.toThrow(
      /^get: timeout must be a number of milliseconds \(>= 0, or Infinity\), got the string "100"$/,
    );
    await expect(q.get({ timeout: '100' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(q.put(1, { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(q.put(1, { block: false, timeout: 5 })).rejects.toThrow(/cannot be given with block: false/);
    await expect(lock.acquire({ timeout: '10' as never })).rejects.toThrow(/got the string "10"$/);
    await expect(lock.acquire({ blocking: 'no' as never })).rejects.toThrow(
      /blocking must be a boolean, got the string "no"$/,
    );
    await expect(event.wait({ signal: 'stop' as never })).rejects.toThrow(
      /signal must be an AbortSignal, got the string "stop"$/,
    );
    // Nothing was queued or taken by the refused calls.
    expect(await q.qsize()).toBe(0);
    expect(await lock.acquire({ blocking: false })).toBe(true);
    await lock.release();
  });
});

describe('proxies nest and travel', () => {
  it('a dict holding a list proxy: another process appends through it', async () => {
    const d = await m.dict<string, unknown>();
    const list = await m.list<string>(['from the parent']);
    await d.set('list', list);
    const token = share(d);
    // The token names the server; it carries no key.
    expect(JSON.stringify(token)).not.toContain(AUTHKEY.toString('hex'));
    expect(JSON.stringify(token)).not.toContain(AUTHKEY.toString('base64'));
    const child = user('nested', { dict: token });
    expect(await child.nextMessage(10_000)).toEqual({ ok: true, length: 2 });
    await child.exited;
    expect(await list.toArray()).toEqual(['from the parent', 'from the child']);
    expect(await d.get('visits')).toBe(1);
    const again = await d.get('list');
    expect(again).toBeInstanceOf(ListProxy);
    expect(await (again as ListProxy<string>).length()).toBe(2);
  });

  it('a proxy inside a message through a conc Pipe is revived in the other process', async () => {
    const counter = await m.value(1);
    const [mine, theirs] = Pipe<{ counter?: unknown; note: string; after?: number }>({ scope: 'process' });
    const child = user('pipe', { conn: share(theirs) });
    try {
      await mine.send({ counter, note: 'add five' });
      expect(await mine.recv({ timeout: 10_000 })).toEqual({ after: 6, note: 'add five' });
      expect(await child.nextMessage(10_000)).toEqual({ ok: true });
      expect(await counter.get()).toBe(6);
    } finally {
      await mine.close();
      await child.exited;
    }
  });

  it('a process that does not know the authkey is told so at its first call', async () => {
    const d = await m.dict();
    const child = user('no-key', { dict: share(d) }, false);
    const reply = await child.nextMessage<{ unavailable: boolean; message: string }>(10_000);
    await child.exited;
    expect(reply.unavailable).toBe(true);
    expect(reply.message).toMatch(/authkey/);
  });
});

describe('registered types (Manager.register)', () => {
  it('exposes public methods; errors keep their class; private names are refused', async () => {
    const c = await m.create<Counter>('Counter', 10);
    expect(await c.increment()).toBe(11);
    expect(await c.increment(4)).toBe(15);
    expect(await c.value()).toBe(15);
    await expect(c.fail('too far')).rejects.toThrow(RangeError);
    await expect(c.fail('too far')).rejects.toThrow('too far');
    await expect(c.callMethod('_secret')).rejects.toMatchObject({ code: 'ERR_CONC_MANAGER_NOT_EXPOSED' });
    await expect(c.callMethod('constructor')).rejects.toMatchObject({ code: 'ERR_CONC_MANAGER_NOT_EXPOSED' });
    expect(await c.value()).toBe(15);
  });

  it('an unknown type id is refused clearly', async () => {
    await expect(m.create('Nope')).rejects.toThrow(/no type "Nope"/);
    expect(() => Manager.register('dict', { module: 'x' })).toThrow(/built-in/);
  });
});

describe('serve and connect', () => {
  it('a long-lived server over loopback TCP; clients connect with the authkey', async () => {
    await using server = await Manager.serve({ address: { host: '127.0.0.1', port: 0 }, authkey: AUTHKEY });
    const address = server.address as { host: string; port: number };
    expect(address.port).toBeGreaterThan(0);
    const a = await Manager.connect(address, { authkey: AUTHKEY });
    const b = await Manager.connect(address, { authkey: AUTHKEY });
    try {
      const d = await b.dict<string, number>();
      await d.set('x', 1);
      const seen = attach(share(d));
      expect(seen._conn).not.toBe(d._conn);
      expect(await seen.get('x')).toBe(1);
      expect(server.info().clients).toBe(2);
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });

  it('refuses to serve without an authkey, and on a public host without one', async () => {
    await expect(Manager.serve({ authkey: '' })).rejects.toThrow(/authkey/);
    await expect(Manager.serve({ address: { host: '0.0.0.0', port: 0 } } as never)).rejects.toThrow(
      /authkey/,
    );
  });
});
