import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inventoryFromOutputs, inventoryFromPulumi, readOutputsFile, renderInventoryFile } from '../../../cli/inventoryCommand.js';
import { loadInventory, placementCheck } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';

const fixture = fileURLToPath(new URL('../../fixtures/pulumi-outputs.json', import.meta.url));
const bin = fileURLToPath(new URL('../../../bin/gameday.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gameday-inventory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gameday(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function errorOf(fn: () => unknown): GamedayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GamedayError);
    return err as GamedayError;
  }
  throw new Error('expected a GamedayError');
}

describe('gameday inventory from-pulumi', () => {
  // Two real CLI runs: the command a user types, then placement check on what it wrote.
  it('writes the stack inventory as a file that placement check passes', { timeout: 60_000 }, async () => {
    const out = join(dir, 'aws.yaml');
    const run = await gameday(['inventory', 'from-pulumi', '--file', fixture, '--out', out]);
    expect(run.stderr).toBe(`wrote ${out}: inventory gameday-dev, 14 hosts in 4 tiers over 3 zone(s)\n`);
    expect(run.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^# gameday inventory, written by `gameday inventory from-pulumi` from .*pulumi-outputs.json\nname: gameday-dev\n/);
    expect(placementCheck(loadInventory(out)).ok).toBe(true);
    const check = await gameday(['placement', 'check', out]);
    expect(check.stdout).toContain('OK: no single rack or zone loss breaks a tier or pool.');
    expect(check.code).toBe(0);
  });

  it('renders the same inventory for stdout', async () => {
    const { inv, source } = await inventoryFromPulumi({ file: fixture });
    expect(renderInventoryFile(inv, source)).toContain('\nname: gameday-dev\n');
  });

  it('says clearly when pulumi is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      await expect(inventoryFromPulumi({ stack: 'dev' })).rejects.toThrow(GamedayError);
      const err = await inventoryFromPulumi({ stack: 'dev' }).catch((e: GamedayError) => e);
      expect((err as GamedayError).describe()).toMatch(/^error PULUMI_NOT_FOUND: pulumi stack output --stack dev: the pulumi command is not installed or not on PATH\n  hint: .*--file/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('refuses --stack with --file', async () => {
    const err = await inventoryFromPulumi({ stack: 'dev', file: fixture }).catch((e: GamedayError) => e);
    expect((err as GamedayError).describe()).toContain('error USAGE: --stack/--file: give --stack or --file, not both');
  });

  it('explains outputs without an inventory, bad JSON and a bad inventory', () => {
    expect(errorOf(() => inventoryFromOutputs({ albDnsName: 'x' }, 'out.json')).describe()).toBe(
      'error PULUMI_OUTPUTS_INVALID: out.json: no "inventory" output (outputs: albDnsName)\n' +
        '  hint: deploy the gameday stack (Pulumi.yaml at the repository root) first; its outputs include the inventory',
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    expect(errorOf(() => readOutputsFile(bad)).message).toMatch(/^not valid JSON/);
    expect(errorOf(() => readOutputsFile(join(dir, 'missing.json'))).message).toBe('cannot read the stack outputs (ENOENT)');
    const outputs = JSON.parse(readFileSync(fixture, 'utf8'));
    outputs.inventory.hosts[0].zone = undefined;
    expect(errorOf(() => inventoryFromOutputs(outputs, 'out.json')).describe()).toContain('out.json: inventory: invalid inventory:\n  - hosts[0].zone: missing');
  });
});
