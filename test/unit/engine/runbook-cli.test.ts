import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

/** The CLI with a temporary state folder, no terminal on stdin, quiet logs. */
function cli(stateDir: string, args: string[]) {
  return runCli(['runbook', ...args], { GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_SLACK_WEBHOOK: '', GAMEDAY_PARENT_RUN: '' });
}

describe('gameday runbook (CLI)', () => {
  it('plan changes nothing; run without a terminal stops at the approval (exit 3) and resume --yes finishes it', async () => {
    const stateDir = tmp.make();
    const demo = join(tmp.make(), 'demo');

    const plan = await cli(stateDir, ['plan', 'demo-counter', '--dir', demo, '--increments', '2', '--approve']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('plan for demo-counter (dry run: nothing was changed)');
    expect(plan.stdout).toContain(`consequence: counter 0 -> 1`);
    expect(existsSync(demo)).toBe(false);
    expect(existsSync(stateDir) ? readdirSync(stateDir) : []).toEqual([]);

    const run = await cli(stateDir, ['run', 'demo-counter', '--dir', demo, '--increments', '2', '--approve']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('approval needed at step approve: Add 2 to');
    const runId = readdirSync(join(stateDir, 'runs'))[0];
    expect(run.stderr).toContain(`gameday runbook resume ${runId} --yes`);
    expect(run.stdout).toContain(`run ${runId}: demo-counter waiting-approval`);
    expect(existsSync(join(demo, 'counter'))).toBe(false);

    const status = await cli(stateDir, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${runId}\\s+demo-counter\\s+waiting-approval`));

    const resumed = await cli(stateDir, ['resume', runId, '--yes']);
    expect(resumed.code).toBe(0);
    expect(readFileSync(join(demo, 'counter'), 'utf8').trim()).toBe('2');
    expect(resumed.stdout).toMatch(/increment-2\s+Add one to the counter \(2 of 2\)\s+succeeded/);
    expect(resumed.stderr).toContain('[1/7] Read the counter: already succeeded');

    const one = await cli(stateDir, ['status', runId, '--json']);
    const json = JSON.parse(one.stdout);
    expect(json).toMatchObject({ runId, runbook: 'demo-counter', state: 'succeeded' });
    expect(json.steps.map((s: { status: string }) => s.status)).toEqual(Array(7).fill('succeeded'));
  }, 30_000);

  it('bad parameters and unknown names give one clear error, exit 2, and no run', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const [bad, dur, unknown, wait, hook] = await Promise.all([
      cli(stateDir, ['run', 'demo-counter', '--dir', dir, '--increments', 'lots']),
      cli(stateDir, ['plan', 'demo-counter', '--dir', dir, '--settle', 'soon']),
      cli(stateDir, ['run', 'reboot-everything']),
      cli(stateDir, ['run', 'demo-counter', '--dir', dir, '--wait-lock', 'a while']),
      cli(stateDir, ['run', 'demo-counter', '--dir', dir, '--slack-webhook', 'not-a-url/secret']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')[0]).toBe('error BAD_PARAM: --increments: not a number: "lots"');
    expect(dur.code).toBe(2);
    expect(dur.stderr).toContain('error BAD_PARAM: --settle: not a duration: "soon"');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error UNKNOWN_RUNBOOK: reboot-everything: no such runbook');
    expect(wait.stderr).toContain('error BAD_FLAG: --wait-lock: not a duration');
    expect(hook.stderr).toContain('error BAD_WEBHOOK: --slack-webhook: not an http(s) URL');
    expect(hook.stderr).not.toContain('secret');
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(stateDir, 'runs'))).toBe(false);
  }, 30_000);

  it('list, show and docs --out describe the runbooks', async () => {
    const stateDir = tmp.make();
    const out = join(tmp.make(), 'RUNBOOKS.md');
    const [list, show, docs] = await Promise.all([cli(stateDir, ['list']), cli(stateDir, ['show', 'demo-counter']), cli(stateDir, ['docs', '--out', out])]);
    expect(list.stdout).toMatch(/^demo-counter\s+Shows the engine at work/m);
    expect(show.stdout).toContain('### Parameters');
    expect(docs.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('# Runbooks');
  }, 30_000);
});

describe('driver flags of a run', () => {
  it('are kept in its start record and used again by its resume', async () => {
    const stateDir = tmp.make();
    const demo = join(tmp.make(), 'demo');
    const labDir = join(tmp.make(), 'no-lab'); // no lab there: the fleet drivers come from the inventory and the flags
    const run = await cli(stateDir, ['run', 'demo-counter', '--dir', demo, '--increments', '1', '--approve', '--lab-dir', labDir, '--ssh-jump', 'ops@bastion.example.com', '--ssh-port', '2222']);
    expect(run.code).toBe(3);
    const runId = readdirSync(join(stateDir, 'runs'))[0];
    const journal = join(stateDir, 'runs', runId, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const start = lines.find((e) => e.data?.type === 'started');
    expect(start.data.environment.drivers).toEqual({ sshJump: 'ops@bastion.example.com', sshPort: '2222' });
    // A stored flag the resume would use, made invalid: the resume names it, so it was read.
    start.data.environment.drivers.sshPort = 'x';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(journal, lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const resumed = await cli(stateDir, ['resume', runId, '--yes']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('--ssh-port');
    const again = await cli(stateDir, ['resume', runId, '--yes', '--ssh-port', '22']);
    expect(again.code, again.stderr).toBe(0);
  }, 60_000);

  it('are used again by --resume-unfinished (the daily job\'s resume) too, unless given again', async () => {
    const stateDir = tmp.make();
    const demo = join(tmp.make(), 'demo');
    const labDir = join(tmp.make(), 'no-lab');
    const failed = await cli(stateDir, ['run', 'demo-counter', '--dir', demo, '--increments', '2', '--fail-at', '2', '--yes', '--lab-dir', labDir, '--ssh-port', '2222']);
    expect(failed.code, failed.stderr).toBe(1);
    const runId = readdirSync(join(stateDir, 'runs'))[0];
    const journal = join(stateDir, 'runs', runId, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    lines.find((e) => e.data?.type === 'started').data.environment.drivers.sshPort = 'x';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(journal, lines.map((e) => JSON.stringify(e)).join('\n') + '\n');
    // The next day's task: no driver flag given, so the stored one is used, and named when it is bad.
    const resumed = await cli(stateDir, ['run', 'demo-counter', '--dir', demo, '--resume-unfinished', '--yes']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('--ssh-port');
  }, 60_000);
});
