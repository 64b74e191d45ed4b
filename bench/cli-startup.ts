/**
 * Start-up of the CLI: `gameday --help` and `gameday placement check` of the
 * lab's inventory, against the floor measured in the same run: Node itself
 * loading tsx and nothing else (`node --import tsx -e ""`), which any
 * TypeScript CLI run this way pays. Prints medians of N runs each, taken in
 * turn, and the ratio to the floor. The issue's goal is 300 ms for --help.
 *
 * Usage: node --import tsx bench/cli-startup.ts [runs, default 15]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { labInventory } from '../lab/layout.js';

const runs = Number(process.argv[2] ?? 15);
const GAMEDAY = fileURLToPath(new URL('../bin/gameday.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'gameday-bench-cli-'));
const inventory = join(work, 'lab.yaml');
writeFileSync(inventory, stringify(labInventory(20)));

const commands: Record<string, string[]> = {
  'node + tsx, nothing else (floor)': ['--import', 'tsx', '-e', ''],
  'gameday --help': [GAMEDAY, '--help'],
  'gameday placement check lab.yaml': [GAMEDAY, 'placement', 'check', inventory],
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(commands)) {
      const t0 = performance.now();
      execFileSync(process.execPath, args, { stdio: 'ignore', cwd: fileURLToPath(new URL('..', import.meta.url)) });
      times[name].push(performance.now() - t0);
    }
  }
  const floor = median(times['node + tsx, nothing else (floor)']);
  process.stdout.write(`medians of ${runs} runs, taken in turn:\n`);
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    process.stdout.write(`  ${name.padEnd(36)} ${Math.round(m)} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))})${name.startsWith('node') ? '' : `, ${(m / floor).toFixed(2)}x the floor`}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
