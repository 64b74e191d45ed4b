import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { repoRoot, runCli, tempDirs, waitUntil } from '../../fixtures/runbooks/helpers.js';
import { lockFile, type LockRecord } from '../../../engine/locks.js';

/*
 * The scheduled job (the daily reboot task in the Pulumi stack) runs
 * `gameday runbook run <runbook> --resume-unfinished` with its state folder on
 * shared storage (EFS): each day's task is a new process, on a new machine.
 * Here the state folder is a temporary one and each "task" a new CLI process.
 */
const tmp = tempDirs();
afterEach(() => tmp.cleanup());

const cli = (stateDir: string, args: string[]) =>
  runCli(['runbook', ...args], { GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_SLACK_WEBHOOK: '', GAMEDAY_PARENT_RUN: '' });
const counter = (demo: string) => (existsSync(join(demo, 'counter')) ? readFileSync(join(demo, 'counter'), 'utf8').trim() : '0');
const runs = (stateDir: string) => (existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')).sort() : []);

describe('the scheduled job resumes an unfinished run from the shared state folder', () => {
  it('carries on a failed run once its cause is mended, is refused while another task holds the run, and starts afresh after a finished run', async () => {
    const shared = tmp.make();
    const work = tmp.make();
    const demo = join(work, 'demo');
    const cause = join(work, 'broken');
    writeFileSync(cause, 'the cause of the failure\n');
    const job = ['run', 'demo-counter', '--dir', demo, '--increments', '3', '--fail-while', cause, '--settle', '300ms', '--yes', '--resume-unfinished'];

    // Day 1: the increments are done (at-most-once actions), then the run fails at its wait.
    const day1 = await cli(shared, job);
    expect(day1.code).toBe(1);
    const [first] = runs(shared);
    expect(day1.stdout).toContain(`run ${first}: demo-counter failed`);
    expect(counter(demo)).toBe('3');

    // Day 2, while another task (another machine) still holds the run: refused, nothing started.
    mkdirSync(join(shared, 'locks'), { recursive: true });
    const now = Date.now();
    const held: LockRecord = {
      name: `demo:${resolve(demo)}`,
      holder: first,
      pid: 4242,
      hostname: 'ip-10-40-128-99.task',
      startedAt: new Date(now - 60_000).toISOString(),
      renewedAt: new Date(now - 1000).toISOString(),
      ttlMs: 600_000,
      expiresAt: new Date(now + 600_000).toISOString(),
    };
    writeFileSync(lockFile(shared, held.name), JSON.stringify(held));
    const overlap = await cli(shared, job);
    expect(overlap.code).toBe(2);
    expect(overlap.stdout + overlap.stderr).toContain('ip-10-40-128-99.task');
    expect(runs(shared)).toEqual([first]);
    rmSync(lockFile(shared, held.name));

    // Day 3, the cause mended: the same run is resumed at its wait, not started again (no increment twice).
    rmSync(cause);
    const day3 = await cli(shared, job);
    expect(day3.code).toBe(0);
    expect(day3.stdout).toContain(`resuming ${first} (failed at counter-settled)`);
    expect(runs(shared)).toEqual([first]);
    expect(counter(demo)).toBe('3');

    // Day 4: nothing unfinished, so a new run.
    const day4 = await cli(shared, job);
    expect(day4.code).toBe(0);
    expect(day4.stdout).not.toContain('resuming');
    expect(runs(shared)).toHaveLength(2);
    expect(counter(demo)).toBe('6');
  }, 60_000);

  it('resumes a run whose task died on another machine once its locks expired unrenewed, and not while they are renewed', async () => {
    const shared = tmp.make();
    const work = tmp.make();
    const demo = join(work, 'demo');
    const cause = join(work, 'broken');
    writeFileSync(cause, '');
    const job = ['run', 'demo-counter', '--dir', demo, '--increments', '2', '--fail-while', cause, '--settle', '60s', '--yes', '--resume-unfinished'];
    // Yesterday's task: killed (-9) while it waits for the counter to settle.
    const task = spawn(process.execPath, [join(repoRoot, 'bin/gameday.js'), 'runbook', ...job], { env: { ...process.env, GAMEDAY_STATE_DIR: shared, GAMEDAY_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
    const journalFile = () => join(shared, 'runs', runs(shared)[0]!, 'journal.jsonl');
    await waitUntil('the wait to begin', () => runs(shared).length === 1 && existsSync(journalFile()) && readFileSync(journalFile(), 'utf8').includes('"stepId":"counter-settled","event":"intent"'), 20_000);
    task.kill('SIGKILL');
    await new Promise((r) => task.once('exit', r));
    // It ran on another machine, a day ago: its journal says so, and so does its lock.
    const elsewhere = 'ip-10-40-128-7.task';
    const yesterday = (t: string) => new Date(Date.parse(t) - 86_400_000).toISOString();
    const lines = readFileSync(journalFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    writeFileSync(journalFile(), lines.map((e) => JSON.stringify({ ...e, time: yesterday(e.time), ...(e.data?.hostname ? { data: { ...e.data, hostname: elsewhere } } : {}) })).join('\n') + '\n');
    const lock = lockFile(shared, `demo:${resolve(demo)}`);
    const record = JSON.parse(readFileSync(lock, 'utf8')) as LockRecord;
    const now = Date.now();

    writeFileSync(lock, JSON.stringify({ ...record, hostname: elsewhere, renewedAt: new Date(now - 1000).toISOString(), expiresAt: new Date(now + 600_000).toISOString() }));
    const stillRenewed = await cli(shared, job);
    expect(stillRenewed.code).toBe(2);
    expect(stillRenewed.stderr).toContain(`still running (pid ${record.pid} on ${elsewhere})`);

    writeFileSync(lock, JSON.stringify({ ...record, hostname: elsewhere, renewedAt: yesterday(new Date(now).toISOString()), expiresAt: new Date(now - 3_600_000).toISOString() }));
    rmSync(cause);
    const today = await cli(shared, job);
    expect(today.code, today.stderr).toBe(0);
    expect(today.stdout).toContain(`resuming ${runs(shared)[0]} (running)`);
    expect(runs(shared)).toHaveLength(1);
    expect(counter(demo)).toBe('2');
  }, 60_000);
});
