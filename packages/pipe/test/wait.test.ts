/** `wait()`: Python's select over connections of any kind. */
import { within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { Client, Listener, Pipe, wait } from './helpers.js';

describe('wait', () => {
  it('returns the ready connections, in the order given, across thread and socket connections', async () => {
    const [ta, tb] = Pipe();
    const [pa, pb] = Pipe({ scope: 'process' });
    const listener = await Listener.listen();
    const [ca, cb] = await Promise.all([Client(listener.address), listener.accept()]);
    try {
      const all = [tb, pb, cb];
      expect(await wait(all, 0)).toEqual([]);
      const waiting = wait(all);
      await pa.send('p');
      expect(await within(waiting, 10_000, 'wait')).toEqual([pb]);
      await ca.send('c');
      await ta.send('t');
      expect(await within(wait(all, 5000), 10_000, 'wait 2').then((r) => r.length > 0)).toBe(true);
      await within(
        (async () => {
          while ((await wait(all, 0)).length < 3) await new Promise((r) => setTimeout(r, 5));
        })(),
        10_000,
        'all three ready',
      );
      expect(await wait(all)).toEqual([tb, pb, cb]);
      expect([await tb.recv(), await pb.recv(), await cb.recv()]).toEqual(['t', 'p', 'c']);
      expect(await wait(all, 0)).toEqual([]);
    } finally {
      await Promise.all([ta, tb, pa, pb, ca, cb].map((c) => c.close()));
      await listener.close();
    }
  });

  it('resolves [] after its timeout, and rejects on abort', async () => {
    const [a, b] = Pipe();
    expect(await wait([b], 30)).toEqual([]);
    const controller = new AbortController();
    const waiting = wait([b], { signal: controller.signal });
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
    await Promise.all([a.close(), b.close()]);
  });

  it('counts a connection whose peer closed as ready (its recv reports the close)', async () => {
    const [a, b] = Pipe({ scope: 'process' });
    const [c, d] = Pipe();
    const waiting = wait([b, d]);
    await a.send('x');
    await within(waiting, 10_000, 'first');
    await b.recv();
    const next = wait([b, d]);
    await a.close();
    await c.close();
    expect(await within(next, 10_000, 'closed peers')).not.toHaveLength(0);
    await within(
      (async () => {
        while ((await wait([b, d], 0)).length < 2) await new Promise((r) => setTimeout(r, 5));
      })(),
      10_000,
      'both closed',
    );
    await expect(b.recv()).rejects.toMatchObject({ code: 'ERR_CONC_CONNECTION_CLOSED' });
    await expect(d.recv()).rejects.toMatchObject({ code: 'ERR_CONC_CONNECTION_CLOSED' });
    await Promise.all([b.close(), d.close()]);
  });
});
