import { cpSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { events, repoRoot, runCli, spawnToy, tempDirs, waitUntil } from '../fixtures/runbooks/helpers.js';
import { runDir } from '../../runbooks/engine/stateDir.js';
import { maintenanceWindowSchema } from '../../runbooks/maintenanceWindow.js';
import { rampPercents, returnSteps } from '../../runbooks/hostSteps.js';
import type { WaitForStep } from '../../runbooks/engine/types.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_SLACK_WEBHOOK: '', GAMEDAY_PARENT_RUN: '', ...env });

describe('run ids never leave the runs folder (issue 9, item 2)', () => {
  it.each(['../../victim', '..', 'a/b', '2026-11-24T20-01-02Z-ab12/../../x', ''])('refuses %j before building a path', (id) => {
    expect(() => runDir('/state', id)).toThrow(/is not a run id/);
  });

  it('status and resume of ../../victim exit 2 and leave that journal as it was', async () => {
    const stateDir = join(tmp.make(), 'state');
    const run = await cli(['runbook', 'run', 'demo-counter', '--dir', join(tmp.make(), 'demo'), '--increments', '1', '--yes'], { GAMEDAY_STATE_DIR: stateDir });
    expect(run.code, run.stderr).toBe(0);
    const victim = join(stateDir, '..', 'victim');
    mkdirSync(victim);
    const [runId] = readdirSync(join(stateDir, 'runs'));
    cpSync(join(stateDir, 'runs', runId, 'journal.jsonl'), join(victim, 'journal.jsonl'));
    const before = readFileSync(join(victim, 'journal.jsonl'), 'utf8');
    const status = await cli(['runbook', 'status', '../../victim'], { GAMEDAY_STATE_DIR: stateDir });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('"../../victim" is not a run id');
    const resume = await cli(['runbook', 'resume', '../../victim', '--retry', 'increment-1', '--yes'], { GAMEDAY_STATE_DIR: stateDir });
    expect(resume.code).toBe(2);
    expect(readFileSync(join(victim, 'journal.jsonl'), 'utf8')).toBe(before);
  });
});

describe('maintenance windows are validated whole, before anything acts (item 4)', () => {
  it.each([
    [{ blackout: '25/11/2026' }, /"25\/11\/2026" is not a date/],
    [{ blackout: '2026-13-45' }, /"2026-13-45" is not a date/],
    [{ blackout: '2026-02-30' }, /"2026-02-30" is not a date/],
    [{ blackout: '2026-12-24,yesterday' }, /"yesterday" is not a date/],
    [{ days: 'funday' }, /unknown day in "funday"/],
    [{ days: '' }, /no days given/],
    [{ hours: '02:00' }, /is not a range of hours/],
    [{ hours: '24:59-24:59' }, /"24:59" is not a time/],
    [{ hours: '03:00-03:00' }, /is empty/],
    [{ hours: '24:00-05:00' }, /starts at 24:00/],
    [{ timeZone: 'Mars/Olympus' }, /not a time zone/],
  ])('refuses %j', (fields, message) => {
    const r = maintenanceWindowSchema.safeParse(fields);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join('; ')).toMatch(message);
  });

  it('accepts what the README shows', () => {
    expect(() => maintenanceWindowSchema.parse({ days: 'mon-fri', hours: '02:00-05:00', timeZone: 'Europe/Paris', blackout: '2026-12-24, 2026-12-31' })).not.toThrow();
    expect(() => maintenanceWindowSchema.parse({ hours: '22:00-04:00' })).not.toThrow();
  });

  it('refuses a bad blackout date at the command line with exit 2 and no stack', async () => {
    const r = await cli(['runbook', 'plan', 'reboot-stale', '--max-uptime', '1d', '--blackout', '25/11/2026'], { GAMEDAY_STATE_DIR: tmp.make() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--blackout: "25/11/2026" is not a date');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ramps are validated whole and held for their time (items 5 and 10)', () => {
  it.each(['50', 'foo,100', '50,25,100', '0,100', '25,50,101', '25,,100', ' '])('refuses the ramp %j', (text) => {
    expect(rampPercents.safeParse(text).success).toBe(false);
  });

  it('accepts rising steps ending at 100', () => {
    expect(rampPercents.parse('10, 25,50,100')).toEqual([10, 25, 50, 100]);
  });

  it.each([0, 500, 1000, 1500, 3000, 30_000])('a hold of %i ms spans at least that long between its first and last sample', (holdMs) => {
    const hold = returnSteps('x', 'app-1', { maxLagMs: 1000, readySamples: 1, readyTimeoutS: 10, rampPercents: [100], rampHoldMs: holdMs }).find((s) => s.id === 'x/hold-100') as WaitForStep;
    const spans = ((hold.consecutive ?? 1) - 1) * hold.intervalMs;
    expect(spans).toBeGreaterThanOrEqual(holdMs);
    expect(spans).toBeLessThan(holdMs + 1000);
  });

  it('refuses recover-host --ramp 50 before fencing anything', async () => {
    const r = await cli(['runbook', 'run', 'recover-host', '--host', 'db-2', '--ramp', '50', '--yes'], { GAMEDAY_STATE_DIR: tmp.make(), GAMEDAY_LAB_DIR: tmp.make() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ramp: "50" must be rising percentages');
  });
});

describe('usage errors exit 2, not 1 (item 14)', () => {
  it.each([
    [['placement', 'check', 'test/fixtures/outage-rack.yaml', '--bogus'], "unknown option '--bogus'"],
    [['nosuch'], "unknown command 'nosuch'"],
    [['runbook', 'plan', 'nosuch', '--max-uptime', '1d'], 'nosuch: no such runbook'],
    [['runbook', 'run', 'nosuch'], 'nosuch: no such runbook'],
  ])('%j', async (args, message) => {
    const r = await cli(args, { GAMEDAY_STATE_DIR: tmp.make() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('help and version still exit 0', async () => {
    expect((await cli(['--help'])).code).toBe(0);
    expect((await cli(['--version'])).code).toBe(0);
    expect((await cli(['runbook', '--help'])).code).toBe(0);
  });
});

describe('a closed terminal or a reader that went away never kills a run (item 7)', () => {
  const effectsOf = (dir: string) => {
    try {
      return readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };

  it('SIGHUP stops after the current step with a stop record, like SIGTERM', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const child = spawnToy(stateDir, dir, 'at-most-once', { TOY_SLEEP_STEP: 'append-a', TOY_SLEEP_MS: '1500' });
    await waitUntil('append-a acting', () => effectsOf(dir).includes('ran append-a'));
    child.kill('SIGHUP');
    const exit = await child.exited;
    expect(exit.code).toBe(130);
    const { runId, state } = JSON.parse(exit.stdout);
    expect(state).toBe('stopped');
    expect(events(stateDir, runId, 'append-a').map((e) => e.event)).toEqual(['intent', 'succeeded']);
    expect(events(stateDir, runId).find((e) => e.data?.type === 'stopping')?.data?.reason).toBe('SIGHUP received');
  }, 30_000);

  it('finishes a run whose progress output is a closed pipe (| head)', async () => {
    const stateDir = tmp.make();
    const demo = join(tmp.make(), 'demo');
    const child = spawn(process.execPath, [join(repoRoot, 'bin/gameday.js'), 'runbook', 'run', 'demo-counter', '--dir', demo, '--increments', '3', '--yes'], {
      cwd: repoRoot,
      env: { ...process.env, GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Read one chunk of each stream, then close them, as `| head -1` does.
    child.stderr.once('data', () => child.stderr.destroy());
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(readFileSync(join(demo, 'counter'), 'utf8').trim()).toBe('3');
    const [runId] = readdirSync(join(stateDir, 'runs'));
    expect(events(stateDir, runId).at(-1)?.data).toMatchObject({ type: 'finished', state: 'succeeded' });
  }, 30_000);
});
