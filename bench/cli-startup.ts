/**
 * Start-up of the CLI: `gameday --help` and `gameday placement check` of the
 * lab's inventory, compiled (dist/, what bin/gameday.js runs after setup) and
 * from the sources through tsx (GAMEDAY_FROM_SOURCE=1), against two floors
 * measured in the same run: Node doing nothing (`node -e ""`), and Node
 * loading commander, the one library `--help` needs. Prints medians of N runs
 * each, taken in turn, and the ratio to Node alone. Goals: --help under 300
 * ms, placement check of the lab under 500 ms. Run `npm run build` first.
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

const FLOOR = 'node, nothing else (floor)';
const commands: Record<string, { args: string[]; fromSource?: boolean }> = {
  [FLOOR]: { args: ['-e', ''] },
  'node + commander': { args: ['--input-type=module', '-e', 'await import("commander")'] },
  'gameday --help': { args: [GAMEDAY, '--help'] },
  'gameday placement check lab.yaml': { args: [GAMEDAY, 'placement', 'check', inventory] },
  'gameday --help, from the sources (tsx)': { args: [GAMEDAY, '--help'], fromSource: true },
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  for (let i = 0; i < runs; i++) {
    for (const [name, { args, fromSource }] of Object.entries(commands)) {
      const t0 = performance.now();
      execFileSync(process.execPath, args, { stdio: 'ignore', cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, GAMEDAY_FROM_SOURCE: fromSource ? '1' : '' } });
      times[name].push(performance.now() - t0);
    }
  }
  const floor = median(times[FLOOR]);
  process.stdout.write(`medians of ${runs} runs, taken in turn:\n`);
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    process.stdout.write(`  ${name.padEnd(40)} ${Math.round(m)} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))})${name === FLOOR ? '' : `, ${(m / floor).toFixed(2)}x the floor`}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
