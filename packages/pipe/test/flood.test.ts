/**
 * A flood of connections that never authenticate (RELIABILITY 30 and 45): real
 * clients still get in, and every refusal is reported and says why.
 */
import { fixture, spawnChild, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { Client, isListenerBusyError, Listener } from './helpers.js';

const flood = fixture(import.meta.url, 'flood.mjs');
const KEY = 'flood-test-key';

/** `count` real clients connect at once, authenticate, and each exchanges a message. */
async function realClients(listener: Listener, count: number): Promise<string[]> {
  const serving = (async () => {
    for (let i = 0; i < count; i++) {
      const conn = await listener.accept({ timeout: 20_000 });
      void (async () => {
        await conn.send(`hello, ${await conn.recv({ timeout: 10_000 })}`);
        await conn.close();
      })();
    }
  })();
  serving.catch(() => {}); // a failure shows in the clients' results
  const replies = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const conn = await Client<string>(listener.address, { authkey: KEY, timeout: 15_000 });
      await conn.send(`client ${i}`);
      const reply = await conn.recv({ timeout: 10_000 });
      await conn.close();
      return reply;
    }),
  );
  await serving;
  return replies;
}

describe('a flood of connections that never authenticate', () => {
  for (const [mode, what, flooders, options] of [
    ['silent', 'as many as the cap (64)', 64, {}],
    ['silent', 'three times the cap', 48, { maxPendingHandshakes: 16 }],
    ['stall', 'three times the cap', 48, { maxPendingHandshakes: 16 }],
  ] as const) {
    const how = mode === 'silent' ? 'silent' : 'stalling after two bytes';
    it(`${how}, reconnecting, ${what}: real clients connect, authenticate and exchange messages`, async () => {
      const errors: Error[] = [];
      await using listener = await Listener.listen({
        authkey: KEY,
        ...options,
        onError: (e) => errors.push(e),
      });
      await using child = spawnChild(flood, [JSON.stringify(listener.address), String(flooders), mode]);
      expect(await child.nextMessage(15_000)).toEqual({ ready: true });
      const replies = await within(realClients(listener, 4), 30_000, 'real clients during the flood');
      expect(replies.sort()).toEqual([
        'hello, client 0',
        'hello, client 1',
        'hello, client 2',
        'hello, client 3',
      ]);
      await child.send('stop');
      const { opened } = (await child.nextMessage(10_000)) as { opened: number };
      await within(child.exited, 10_000, 'flood exits');
      expect(opened).toBeGreaterThanOrEqual(flooders);
      // Every refusal was reported and counted: each real client made room at least once.
      const { busy } = listener.refusals;
      expect(busy).toBeGreaterThanOrEqual(4);
      const reported = errors.filter(isListenerBusyError);
      expect(reported.length).toBe(busy);
      expect(reported[0]?.message).toMatch(/maxPendingHandshakes/);
    });
  }
});
