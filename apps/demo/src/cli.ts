#!/usr/bin/env node
/**
 * conc-demo: one CLI that shows every conc package at work.
 *
 *   conc-demo              run every scenario in order
 *   conc-demo lock queue   run the named scenarios
 *   conc-demo --list       list the scenarios
 */
import type { Scenario } from './scenario.js';

declare const __CONC_SCENARIOS__: string[];

/** The order a newcomer meets the project in; scenarios not named here run after, alphabetically. */
const ORDER = ['packages', 'serialize', 'lock', 'queue', 'pipe', 'manager', 'pipeline', 'bench'];
const available = [...__CONC_SCENARIOS__].sort((a, b) => {
  const ia = ORDER.indexOf(a);
  const ib = ORDER.indexOf(b);
  return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
});

async function load(name: string): Promise<Scenario> {
  return (await import(`./scenarios/${name}.ts`)) as Scenario;
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: conc-demo [--list] [scenario...]');
    console.log(`scenarios: ${available.join(', ')}`);
    return 0;
  }
  if (args.includes('--list')) {
    for (const name of available) console.log(`${name.padEnd(12)} ${(await load(name)).title}`);
    return 0;
  }
  const unknown = args.filter((a) => !available.includes(a));
  if (unknown.length > 0) {
    console.error(`conc-demo: unknown scenario ${unknown.join(', ')}; try one of: ${available.join(', ')}`);
    return 2;
  }
  const chosen = args.length > 0 ? args : available;
  for (const name of chosen) {
    const scenario = await load(name);
    console.log(`\n== ${name}: ${scenario.title}`);
    await scenario.run((line) => console.log(`   ${line}`));
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
