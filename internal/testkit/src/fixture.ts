import { URL } from 'node:url';

/** The URL of `test/fixtures/<name>` next to the calling test file (pass `import.meta.url`). */
export function fixture(testFileUrl: string, name: string): URL {
  return new URL(`./fixtures/${name}`, testFileUrl);
}
