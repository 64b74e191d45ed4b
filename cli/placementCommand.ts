import type { Command } from 'commander';
import { cellText, loadInventory, placementCheck, type Inventory, type PlacementCheck } from '../topology/index.js';
import { withOptions } from './options.js';
import { action } from './run.js';
import { textTable } from '../core/textTable.js';
import { labInventory } from '../lab/layout.js';
import { defaultLabDir, openLab } from '../lab/context.js';
import { summaryOf } from './summaries.js';

export function renderPlacementCheck(check: PlacementCheck, withHosts: boolean): string {
  const rows = check.impacts
    .filter((impact) => impact.domain.kind !== 'host' || withHosts)
    .map((impact) => [`${impact.domain.kind} ${impact.domain.name}`, ...check.columns.map((c) => cellText(impact, c))]);
  const lines = [`Blast radius of ${check.inventory}: what each tier and pool keeps when a domain is lost`, '', textTable(['domain', ...check.columns], rows)];
  const shown = check.breaks.filter((b) => withHosts || !b.startsWith('host '));
  if (shown.length > 0) lines.push('', 'Breaks:', ...shown.map((b) => `  - ${b}`));
  if (check.notes.length > 0) lines.push('', ...check.notes.map((n) => `note: ${n}`));
  if (check.violations.length > 0) lines.push('', 'Placement rules broken:', ...check.violations.map((v) => `  - ${v.message}`));
  lines.push('', check.ok ? 'OK: no single rack or zone loss breaks a tier or pool.' : 'FAIL: see above.');
  return lines.join('\n');
}

/** The inventory named on the command line, or the lab's own when none is given, and where it came from. */
export function inventoryFrom(file: string | undefined): { inventory: Inventory; source: string } {
  if (file !== undefined) return { inventory: loadInventory(file), source: file };
  const labDir = defaultLabDir();
  const lab = openLab(labDir);
  return lab
    ? { inventory: lab.inventory, source: `the running lab's inventory (${labDir})` }
    : { inventory: labInventory(), source: "the default lab layout (no file given and no lab is up)" };
}

export function registerPlacement(program: Command): void {
  const placement = program.command('placement').description(summaryOf('placement'));
  const checkCmd = placement
    .command('check')
    .description('Table of failure domains x tiers; exit 1 when losing any single rack or zone breaks a tier or pool, or a placement rule is broken')
    .argument('[inventory]', 'inventory YAML file (default: the embedded lab\'s inventory)');
  withOptions(checkCmd, 'json')
    .option('--hosts', 'also list the loss of each single host')
    .option('--survivors', 'with --json: name the hosts each tier and pool keeps (by default, counts: the lists are the size of the fleet for every domain)')
    .action(
      action(async (file: string | undefined, opts: { json?: boolean; hosts?: boolean; survivors?: boolean }) => {
        const { inventory, source } = inventoryFrom(file);
        const check = placementCheck(inventory, { survivors: opts.survivors });
        // Say which inventory was checked when none was named: a CI job with an unset variable must not pass on the lab's.
        if (file === undefined) process.stderr.write(`checking ${source}\n`);
        process.stdout.write(opts.json ? `${JSON.stringify(check, null, 2)}\n` : `${renderPlacementCheck(check, !!opts.hosts)}\n`);
        return check.ok ? 0 : 1;
      }),
    );
}
