import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/commands.js';
import { DRIVER_OPTIONS, SHARED_OPTIONS } from '../../../cli/options.js';
import { RESERVED } from '../../../cli/runbookCommand.js';
import { runbooks } from '../../../runbooks/registry.js';
import { paramSpecs } from '../../../engine/index.js';

/** The whole command tree, every top-level command registered. */
async function program(): Promise<Command> {
  const root = new Command('gameday');
  for (const c of COMMANDS) (await c.register())(root);
  return root;
}

function* walk(cmd: Command, path: string[] = []): Generator<{ path: string; cmd: Command }> {
  for (const sub of cmd.commands) {
    const here = [...path, sub.name()];
    yield { path: here.join(' '), cmd: sub };
    yield* walk(sub, here);
  }
}

/** The runbook a command runs or plans ("runbook run reboot-stale", "ramp", ...), if any. */
function runbookOf(path: string) {
  const name = /^runbook (plan|run) /.test(path) ? path.split(' ')[2] : { ramp: 'ramp', 'warmup mysql': 'warmup-mysql', 'warmup redis rebuild': 'redis-rebuild' }[path];
  return runbooks.find((r) => r.runbook.name === name);
}

/** The option keys that are the runbook's parameters (their flags are the runbook's to word). */
function paramKeysOf(path: string): Set<string> {
  const entry = runbookOf(path);
  return new Set(entry ? paramSpecs(entry.runbook).map((s) => s.key) : []);
}

describe('the shared options table (cli/options.ts)', () => {
  it('keys each flag by the name commander gives its value', () => {
    for (const [key, spec] of Object.entries(SHARED_OPTIONS)) expect(new Option(spec.flags).attributeName(), spec.flags).toBe(key);
    for (const key of DRIVER_OPTIONS) expect(SHARED_OPTIONS[key].flags).toMatch(/^--(ssh|aws)-/);
  });

  it('gives a shared flag one spelling and one wording in every command', async () => {
    const byLong = new Map(Object.values(SHARED_OPTIONS).map((spec) => [new Option(spec.flags).long, spec]));
    let uses = 0;
    for (const { path, cmd } of walk(await program())) {
      const params = paramKeysOf(path);
      for (const option of cmd.options) {
        const spec = byLong.get(option.long);
        if (!spec || params.has(option.attributeName())) continue;
        uses += 1;
        expect({ path, flags: option.flags, description: option.description }).toEqual({ path, flags: spec.flags, description: spec.description });
      }
    }
    expect(uses).toBeGreaterThan(100);
  });
});

describe('the options no runbook parameter may take', () => {
  it('are every option a runbook command defines itself', async () => {
    const tree = [...walk(await program())];
    const runbookCommands = tree.filter(({ path }) => /^(runbook (plan|run) [\w-]+|runbook resume|ramp|warmup mysql|warmup redis rebuild)$/.test(path));
    expect(runbookCommands.length).toBe(2 * runbooks.length + 4);
    for (const { path, cmd } of runbookCommands) {
      const params = paramKeysOf(path);
      for (const option of cmd.options) {
        const key = option.attributeName();
        if (!params.has(key)) expect(RESERVED.has(key), `${path}: ${option.flags}`).toBe(true);
      }
    }
  });

  it('still hold the names written out by hand before they came from the table', () => {
    const before = ['allSteps', 'sshUser', 'sshPort', 'sshKey', 'sshJump', 'sshTrustInventory', 'awsRegion', 'awsUptime', 'resumeUnfinished', 'inventory', 'labDir', 'json', 'stateDir', 'yes', 'waitLock', 'lockTtl', 'slackWebhook', 'help', 'allowChanged', 'assumeDone', 'retry'];
    expect([...RESERVED].sort()).toEqual([...before].sort());
  });
});
