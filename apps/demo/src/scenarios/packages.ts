/**
 * What each conc package offers: its name, version and exports, read from the
 * installed packages themselves, so the list is always true.
 */
import { createRequire } from 'node:module';
import * as lock from '@conc/lock';
import * as manager from '@conc/manager';
import * as pipe from '@conc/pipe';
import * as queue from '@conc/queue';
import * as serialize from '@conc/serialize';

export const title = 'what each package offers';

const require = createRequire(import.meta.url);

const packages: Array<[string, Record<string, unknown>]> = [
  ['@conc/serialize', serialize],
  ['@conc/pipe', pipe],
  ['@conc/lock', lock],
  ['@conc/queue', queue],
  ['@conc/manager', manager],
];

function kindOf(value: unknown): string {
  if (typeof value === 'function') {
    return /^class\s/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  }
  return typeof value;
}

export async function run(out: (line: string) => void): Promise<void> {
  for (const [name, mod] of packages) {
    const { version, description } = require(`${name}/package.json`) as {
      version: string;
      description: string;
    };
    out(`${name}@${version}: ${description}`);
    const byKind = new Map<string, string[]>();
    for (const key of Object.keys(mod).sort()) {
      const kind = kindOf(mod[key]);
      byKind.set(kind, [...(byKind.get(kind) ?? []), key]);
    }
    if (byKind.size === 0) out('  (nothing exported yet)');
    for (const [kind, names] of byKind) out(`  ${kind}: ${names.join(', ')}`);
  }
}
