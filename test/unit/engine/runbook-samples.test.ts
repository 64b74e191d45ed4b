import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runbooks } from '../../../runbooks/registry.js';
import { paramSpecs, parseParams, sampleCommands } from '../../../engine/index.js';
import { runCli, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();

/** The flags of a sample command line, as the CLI would read them back. */
function flagsOf(line: string): Record<string, string> {
  const words = line.split(' ').slice(4);
  const out: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2) out[words[i]] = words[i + 1];
  return out;
}

describe("the runbooks' sample commands (runbook show, runbook docs)", () => {
  it('carry every flag their command requires, with a value, and parse', () => {
    for (const { runbook } of runbooks) {
      const specs = paramSpecs(runbook);
      for (const line of Object.values(sampleCommands(runbook))) {
        expect(line, runbook.name).not.toContain('<');
        const given = flagsOf(line);
        for (const p of specs.filter((s) => s.required)) expect(given[p.flag], `${line}: ${p.flag}`).toBeDefined();
        const raw = Object.fromEntries(specs.filter((p) => given[p.flag] !== undefined).map((p) => [p.key, given[p.flag]]));
        expect(() => parseParams(runbook, raw), line).not.toThrow();
      }
    }
  });

  it('reboot-stale shows a real example plan on the lab layout, and its sample plan command runs as printed, reaching no host', async () => {
    const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(tmp.make(), 'state'), GAMEDAY_LAB_DIR: join(tmp.make(), 'no-lab') };
    const show = await runCli(['runbook', 'show', 'reboot-stale'], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('gameday runbook plan reboot-stale --max-uptime 180d --assume-uptime 200d');
    expect(show.stdout).toContain('### Example plan');
    expect(show.stdout).toMatch(/13 to reboot in 5 waves/);
    const plan = await runCli(['runbook', 'plan', 'reboot-stale', '--max-uptime', '180d', '--assume-uptime', '200d'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('PREVIEW: uptimes from 200d assumed');
  });
});

describe('with neither a lab nor --inventory', () => {
  it("contacts none of the lab layout's addresses: a plan shows what it could not read as unknown, naming the fix", async () => {
    const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(tmp.make(), 'state'), GAMEDAY_LAB_DIR: join(tmp.make(), 'no-lab') };
    const started = Date.now();
    const plan = await runCli(['runbook', 'plan', 'recover-host', '--host', 'db-2'], env);
    expect(plan.code, plan.stderr).toBe(0);
    // Before: a TCP connect to 198.18.20.111 by the default route, ETIMEDOUT after 3 s.
    expect(plan.stdout).toContain('UNKNOWN whether db-2 is the writable primary (LAB_NOT_UP: no lab is up, so db-2 (198.18.20.111, a lab address) is not contacted)');
    expect(Date.now() - started).toBeLessThan(10_000);
    const run = await runCli(['runbook', 'run', 'recover-host', '--host', 'db-2', '--yes'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('GUARD_UNKNOWN');
  });
});
