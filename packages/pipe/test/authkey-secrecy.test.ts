/**
 * The authkey never shows (RELIABILITY 32, 28, 29): every failing path of the
 * handshake, on both sides, run in a real child that prints every error it
 * meets the way an application logs it (inspect with cause and fields; the
 * wire form that crosses processes). The key's bytes appear nowhere in its
 * output, raw, hex or base64.
 */
import { randomBytes } from 'node:crypto';
import { fixture, spawnChild, tempDir, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';

const keyLeak = fixture(import.meta.url, 'key-leak.mjs');

/** Every way the key could be written out. */
function formsOf(key: Buffer): Buffer[] {
  const forms = [
    key.toString('hex'),
    key.toString('hex').toUpperCase(),
    key.toString('base64'),
    key.toString('base64url'),
  ];
  return [key, ...forms.map((f) => Buffer.from(f))];
}

describe('the authkey never appears in errors, events or logs', () => {
  for (const as of ['bytes', 'text'] as const) {
    it(`a key given as ${as}: absent from every error of every failed handshake`, async () => {
      // Text keys: printable, so a leak through a message would show; bytes: any value.
      const key = as === 'text' ? Buffer.from(`K3y-${randomBytes(12).toString('hex')}`) : randomBytes(32);
      const dir = await tempDir();
      await using child = spawnChild(keyLeak, [], {
        env: {
          CONC_TEST_KEY_HEX: key.toString('hex'),
          CONC_TEST_KEY_TEXT: as === 'text' ? '1' : '0',
          CONC_TEST_DIR: dir,
        },
      });
      const { seen } = (await child.nextMessage(60_000)) as {
        seen: Array<{ path: string; name: string; message: string }>;
      };
      expect((await within(child.exited, 10_000, 'child exit')).code, child.stderr()).toBe(0);

      // Every path ran and failed the way it should, so there was something to leak.
      const names = (path: string) => seen.filter((s) => s.path === path).map((s) => s.name);
      const onError = seen.filter((s) => s.path === 'listener onError').map((s) => s.message);
      expect(names('client wrong key')).toEqual(['AuthenticationError']);
      for (const expected of [
        /digest received was wrong/, // wrong key, wrong MAC
        /handshake message too long or malformed \(declared 1195725856 bytes/, // garbage
        /handshake message too long or malformed \(declared 257 bytes/,
        /declared a 64-bit length/,
        /closed the connection during the handshake/, // truncated
        /did not finish within 300 ms/,
        /unsupported handshake message/,
        /refused a client to make room/,
      ]) {
        expect(
          onError.some((m) => expected.test(m)),
          String(expected),
        ).toBe(true);
      }
      for (const path of [
        'garbage',
        'truncated',
        'oversized',
        'not a challenge',
        'failure verdict',
        'wrong mac for our challenge',
        'busy',
        'silent',
      ]) {
        expect(names(`client vs ${path}`), path).toHaveLength(1);
      }
      expect(names('client vs busy')).toEqual(['ListenerBusyError']);
      expect(names('client vs silent')).toEqual(['PipeTimeoutError']);
      for (const path of [
        'listen bad option',
        'listen tls on unix',
        'client nobody listening',
        'client bad timeout',
      ]) {
        expect(names(path), path).toHaveLength(1);
      }

      const output = Buffer.concat([
        Buffer.from(child.stdout()),
        Buffer.from(child.stderr()),
        Buffer.from(JSON.stringify(seen)),
      ]);
      expect(output.length).toBeGreaterThan(10_000);
      for (const form of formsOf(key)) {
        expect(
          output.indexOf(form),
          `the key (${form.toString('latin1').slice(0, 12)}...) in the output`,
        ).toBe(-1);
      }
    });
  }
});
