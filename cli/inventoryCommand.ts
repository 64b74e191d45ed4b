import { PROJECT_ROOT } from '../core/paths.js';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { nameSchema, parseInventory, type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { inventoryFromAnsibleText } from '../topology/ansible.js';
import { withOptions } from './options.js';
import { action } from './run.js';
import { summaryOf } from './summaries.js';

/** Where Pulumi.yaml is: the repository root. */


/**
 * The inventory in a stack's outputs (`pulumi stack output --json`), validated like any inventory.
 * `source` names where the outputs came from, for error messages.
 */
export function inventoryFromOutputs(outputs: unknown, source: string): Inventory {
  if (!outputs || typeof outputs !== 'object' || Array.isArray(outputs)) {
    throw new GamedayError('PULUMI_OUTPUTS_INVALID', 'not a JSON object of stack outputs', source, 'give the output of `pulumi stack output --json`');
  }
  const inventory = (outputs as Record<string, unknown>).inventory;
  if (inventory === undefined) {
    const keys = Object.keys(outputs);
    throw new GamedayError(
      'PULUMI_OUTPUTS_INVALID',
      `no "inventory" output (outputs: ${keys.join(', ') || 'none'})`,
      source,
      'deploy the gameday stack (Pulumi.yaml at the repository root) first; its outputs include the inventory',
    );
  }
  return parseInventory(inventory, `${source}: inventory`);
}

/** An empty path (an unset variable in a script) is refused by name, not read as "" (ENOENT, with no path to show). */
function requirePath(flag: string, file: string, hint: string): void {
  if (file.trim() === '') throw new GamedayError('BAD_FLAG', 'is empty', flag, hint);
}

export function readOutputsFile(file: string): unknown {
  requirePath('--file', file, 'give the stack outputs file, e.g. --file outputs.json (pulumi stack output --json > outputs.json)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GamedayError(
      'PULUMI_OUTPUTS_UNREADABLE',
      `cannot read the stack outputs (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      file,
      'write them with `pulumi stack output --json > outputs.json`',
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GamedayError('PULUMI_OUTPUTS_INVALID', `not valid JSON: ${(err as Error).message}`, file, 'give the output of `pulumi stack output --json`');
  }
}

/** Runs `pulumi stack output --json` for a stack of the project (the selected one when none is named). */
export function readStackOutputs(stack: string | undefined): Promise<unknown> {
  const args = ['stack', 'output', '--json', '--cwd', PROJECT_ROOT, ...(stack ? ['--stack', stack] : [])];
  const source = `pulumi stack output${stack ? ` --stack ${stack}` : ''}`;
  return new Promise((resolvePromise, reject) => {
    execFile('pulumi', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new GamedayError('PULUMI_NOT_FOUND', 'the pulumi command is not installed or not on PATH', source, 'install the Pulumi CLI, or pass --file <outputs.json> written elsewhere with `pulumi stack output --json`'));
        } else {
          reject(new GamedayError('PULUMI_FAILED', `pulumi failed: ${stderr.trim() || err.message}`, source, 'check `pulumi stack ls` and that you are logged in to the stack\'s backend'));
        }
        return;
      }
      try {
        resolvePromise(JSON.parse(stdout));
      } catch (parseErr) {
        reject(new GamedayError('PULUMI_OUTPUTS_INVALID', `pulumi printed no JSON: ${(parseErr as Error).message}`, source));
      }
    });
  });
}

/** The inventory file's text: YAML, with a header saying where it came from. */
export function renderInventoryFile(inv: Inventory, source: string, command = 'from-pulumi'): string {
  return `# gameday inventory, written by \`gameday inventory ${command}\` from ${source}\n${stringify(inv)}`;
}

function writeInventory(inv: Inventory, text: string, out: string | undefined): void {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  writeFileSync(out, text);
  const zones = new Set(inv.hosts.map((h) => h.zone)).size;
  process.stderr.write(`wrote ${out}: inventory ${inv.name}, ${inv.hosts.length} hosts in ${Object.keys(inv.tiers).length} tiers over ${zones} zone(s)\n`);
}

export interface FromPulumiOptions {
  stack?: string;
  file?: string;
}

/** The validated inventory of a stack, from saved outputs (--file) or from pulumi (--stack). */
export async function inventoryFromPulumi(opts: FromPulumiOptions): Promise<{ inv: Inventory; source: string }> {
  if (opts.stack !== undefined && opts.file !== undefined) {
    throw new GamedayError('USAGE', 'give --stack or --file, not both', '--stack/--file', '--file reads saved outputs; --stack asks pulumi');
  }
  const source = opts.file ?? `stack ${opts.stack ?? '(selected)'}`;
  const outputs = opts.file !== undefined ? readOutputsFile(opts.file) : await readStackOutputs(opts.stack);
  return { inv: inventoryFromOutputs(outputs, source), source };
}

export function registerInventory(program: Command): void {
  const inventory = program.command('inventory').description(summaryOf('inventory'));
  const fromPulumi = inventory
    .command('from-pulumi')
    .description("Write the gameday Pulumi stack's inventory output as an inventory file (for placement check and every runbook)")
    .option('--stack <name>', 'the stack to read with `pulumi stack output` (default: the selected stack)')
    .option('--file <outputs.json>', 'read saved `pulumi stack output --json` instead of running pulumi');
  withOptions(fromPulumi, 'out')
    .action(
      action(async (opts: FromPulumiOptions & { out?: string }) => {
        const { inv, source } = await inventoryFromPulumi(opts);
        writeInventory(inv, renderInventoryFile(inv, source), opts.out);
      }),
    );
  const fromAnsible = inventory
    .command('from-ansible')
    .description('Write an Ansible inventory (INI or YAML) as a gameday inventory: failure domains from host or group variables zone and rack, tier (default: the host\'s first group), role, kind, ansible_host')
    .argument('<ansible-inventory>', 'the Ansible inventory file (hosts.ini, inventory.yml, …)')
    .option('--name <name>', 'the inventory\'s name', 'ansible');
  withOptions(fromAnsible, 'out')
    .action(
      action(async (file: string, opts: { name: string; out?: string }) => {
        requirePath('<ansible-inventory>', file, 'give the path of an Ansible inventory file, e.g. hosts.ini');
        const named = nameSchema.safeParse(opts.name);
        if (!named.success) throw new GamedayError('BAD_FLAG', `"${opts.name}": ${named.error.issues[0]!.message}`, '--name', 'e.g. --name bookstore');
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new GamedayError('ANSIBLE_UNREADABLE', `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, file, 'give the path of an Ansible inventory file');
        }
        const inv = inventoryFromAnsibleText(text, opts.name, file);
        writeInventory(inv, renderInventoryFile(inv, file, 'from-ansible') + '# Ansible has no load-balancer pools: add them under pools: (see README "The inventory")\n', opts.out);
      }),
    );
}
