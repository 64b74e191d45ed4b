import { tmpdir } from 'node:os';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { runsWhen } from '../../fixtures/requirements.js';
import { events, repoRoot, runCli, spawnToy, tempDirs, waitUntil } from '../../fixtures/runbooks/helpers.js';
import { runDir } from '../../../engine/stateDir.js';
import { maintenanceWindowSchema } from '../../../runbooks/planning/maintenanceWindow.js';
import { rampPercents } from '../../../runbooks/steps/hostSteps.js';
import { lockFile, readLock, staleReason } from '../../../engine/locks.js';
import { isAncestorProcess } from '../../../engine/parentRun.js';

// Most of these run the CLI as a user would, a second or more each.
vi.setConfig({ testTimeout: 30_000 });

const tmp = tempDirs();
afterEach(() => tmp.cleanup());
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_SLACK_WEBHOOK: '', GAMEDAY_PARENT_RUN: '', ...env });

describe('run ids never leave the runs folder', () => {
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

describe('maintenance windows are validated whole, before anything acts', () => {
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

describe('ramps are validated whole and held for their time', () => {
  it.each(['50', 'foo,100', '50,25,100', '0,100', '25,50,101', '25,,100', ' '])('refuses the ramp %j', (text) => {
    expect(rampPercents.safeParse(text).success).toBe(false);
  });

  it('accepts rising steps ending at 100', () => {
    expect(rampPercents.parse('10, 25,50,100')).toEqual([10, 25, 50, 100]);
  });

  it('refuses recover-host --ramp 50 before fencing anything', async () => {
    const r = await cli(['runbook', 'run', 'recover-host', '--host', 'db-2', '--ramp', '50', '--yes'], { GAMEDAY_STATE_DIR: tmp.make(), GAMEDAY_LAB_DIR: tmp.make() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ramp: "50" must be rising percentages');
  });
});

describe('usage errors exit 2, not 1', () => {
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

describe('a closed terminal or a reader that went away never kills a run', () => {
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

/** A 64 KB tmpfs of our own (root only), to fill up on purpose; undefined where mounting is not allowed. */
function smallDisk(): { dir: string; fill: (leaveBytes: number) => void; free: () => void; done: () => void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'gameday-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill: (leave) => writeFileSync(filler, Buffer.alloc(64 * 1024 - leave)),
    free: () => rmSync(filler, { force: true }),
    done: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this machine lets the tests mount a small tmpfs (root); off CI the disk tests are skipped where not, on CI they run and fail. */
const canMount = (() => {
  const d = smallDisk();
  d?.done();
  return d !== undefined;
})();

describe('a full disk stops a run cleanly', () => {
  it.runIf(runsWhen(canMount))('one clear error naming the journal, exit 2, locks freed, no torn line; resume finishes once space is back', async () => {
    const disk = smallDisk();
    try {
      const stateDir = join(disk!.dir, 'state');
      const demo = join(tmp.make(), 'demo');
      mkdirSync(stateDir);
      disk!.fill(5 * 4096); // the start record and a few steps fit, 40 increments do not
      const run = await cli(['runbook', 'run', 'demo-counter', '--dir', demo, '--increments', '40', '--yes'], { GAMEDAY_STATE_DIR: stateDir });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/error JOURNAL_WRITE_FAILED: \S+journal\.jsonl: could not write the run's journal \(ENOSPC\)/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(join(stateDir, 'locks'))).toEqual([]);
      const [runId] = readdirSync(join(stateDir, 'runs'));
      const text = readFileSync(join(stateDir, 'runs', runId, 'journal.jsonl'), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();

      disk!.free();
      const resumed = await cli(['runbook', 'resume', runId, '--yes'], { GAMEDAY_STATE_DIR: stateDir });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(readFileSync(join(demo, 'counter'), 'utf8').trim()).toBe('40');
    } finally {
      disk!.done();
    }
  }, 60_000);
});

describe('lock records are validated; TTLs are bounded', () => {
  it.each([
    ['{"holder":"x"}', /holder|pid|name/],
    ['null', /record/],
    ['{nope', /not JSON/],
  ])('a lock file holding %s is unreadable, expired, and says why', (text, why) => {
    const stateDir = tmp.make();
    mkdirSync(join(stateDir, 'locks'));
    const file = lockFile(stateDir, 'runbook:demo-counter');
    writeFileSync(file, text);
    const rec = readLock(file)!;
    expect(rec.unreadable).toMatch(why);
    expect(rec.name).toBe('runbook:demo-counter');
    expect(staleReason(rec)).toMatch(/not a lock record/);
  });

  it('status lists such a lock without crashing, and the next run takes it', async () => {
    const stateDir = tmp.make();
    mkdirSync(join(stateDir, 'locks'));
    const demo = join(tmp.make(), 'demo');
    writeFileSync(lockFile(stateDir, `demo:${demo}`), 'null');
    const status = await cli(['runbook', 'status'], { GAMEDAY_STATE_DIR: stateDir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`demo:${demo}: not a lock record`);
    const run = await cli(['runbook', 'run', 'demo-counter', '--dir', demo, '--increments', '1', '--yes'], { GAMEDAY_STATE_DIR: stateDir });
    expect(run.code, run.stderr).toBe(0);
  });

  it.each(['0s', '5s', '999999999999d', '8d'])('refuses --lock-ttl %s with one clear error', async (ttl) => {
    const r = await cli(['runbook', 'run', 'demo-counter', '--dir', join(tmp.make(), 'demo'), '--yes', '--lock-ttl', ttl], { GAMEDAY_STATE_DIR: tmp.make() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lock-ttl: a lock TTL must be between 10.0s and 7d0h');
    expect(r.stderr).not.toMatch(/RangeError|\n\s+at /);
  });
});

describe('environment errors are one message naming the path, exit 2', () => {
  it('a state folder whose runs is a file', async () => {
    const stateDir = tmp.make();
    writeFileSync(join(stateDir, 'runs'), '');
    const r = await cli(['runbook', 'run', 'demo-counter', '--dir', join(tmp.make(), 'demo'), '--yes'], { GAMEDAY_STATE_DIR: stateDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error STATE_DIR_UNUSABLE: ${join(stateDir, 'runs')}: the state folder is a file, not a folder; nothing was done`);
    expect(existsSync(join(stateDir, 'locks')) ? readdirSync(join(stateDir, 'locks')) : []).toEqual([]);
  });

  it('a journal with no start record: status of it exits 2, and the list names it', async () => {
    const stateDir = tmp.make();
    const id = '2026-11-24T20-01-02Z-ab12';
    mkdirSync(join(stateDir, 'runs', id), { recursive: true });
    writeFileSync(join(stateDir, 'runs', id, 'journal.jsonl'), `${JSON.stringify({ time: 'x', runId: id, stepId: 'a', event: 'intent' })}\n`);
    const one = await cli(['runbook', 'status', id], { GAMEDAY_STATE_DIR: stateDir });
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('the journal has no start record');
    const all = await cli(['runbook', 'status'], { GAMEDAY_STATE_DIR: stateDir });
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`unreadable runs:\n  ${id}: the journal has no start record`);
  });

  it('a GAMEDAY_LOG_LEVEL that is not a level: one clear error, exit 2 (before: pino\'s stack trace, exit 1)', async () => {
    const r = await cli(['placement', 'check', 'test/fixtures/outage-rack.yaml'], { GAMEDAY_LOG_LEVEL: 'bogus' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error BAD_ENV: GAMEDAY_LOG_LEVEL: "bogus" is not a log level');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an empty inventory path, and a bad --name, are refused by their flag (before: "cannot read it (ENOENT)" with no path; the .ini file blamed for the name)', async () => {
    for (const [args, input] of [[['inventory', 'from-ansible', ''], '<ansible-inventory>'], [['inventory', 'from-pulumi', '--file', ''], '--file']] as const) {
      const r = await cli([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error BAD_FLAG: ${input}: is empty`);
    }
    const named = await cli(['inventory', 'from-ansible', 'test/fixtures/ansible/bookstore.ini', '--name', 'Bad Name']);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('error BAD_FLAG: --name: "Bad Name": must be lowercase letters');
  });

  it('a game day id that is not a run id points at chaos status, where game days are listed (before: runbook status alone)', async () => {
    const r = await cli(['chaos', 'report', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error BAD_RUN_ID: nope');
    expect(r.stderr).toContain('"gameday chaos status" the game days');
  });

  it('a lab state.json that is not JSON', async () => {
    const dir = tmp.make();
    writeFileSync(join(dir, 'state.json'), '{nope');
    const r = await cli(['lab', 'status', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error LAB_STATE_INVALID: ${join(dir, 'state.json')}`);
  });

  it('inventory from-pulumi --out into a folder that does not exist', async () => {
    const r = await cli(['inventory', 'from-pulumi', '--file', 'test/fixtures/pulumi-outputs.json', '--out', '/nonexistent/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error FS_ENOENT: /nonexistent/x: no such file or directory');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.runIf(runsWhen(canMount))('a read-only state folder', async () => {
    const disk = smallDisk()!;
    try {
      execFileSync('mount', ['-o', 'remount,ro', disk.dir]);
      const r = await cli(['runbook', 'run', 'demo-counter', '--dir', join(tmp.make(), 'demo'), '--yes'], { GAMEDAY_STATE_DIR: disk.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error STATE_DIR_UNUSABLE: ${disk.dir}: the state folder is on a read-only file system; nothing was done`);
    } finally {
      disk.done();
    }
  });
});

describe('a parent run is accepted only from a process it started', () => {
  it('knows its own ancestors from /proc, and nobody else', () => {
    expect(isAncestorProcess(process.ppid)).toBe(true);
    expect(isAncestorProcess(process.pid)).toBe(false);
    const sibling = spawn('sleep', ['5']);
    try {
      expect(isAncestorProcess(sibling.pid!)).toBe(false);
    } finally {
      sibling.kill();
    }
  });

  it('refuses a live run\'s id from an unrelated process, and an id of no run', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const parent = spawnToy(stateDir, dir, 'at-most-once', { TOY_SLEEP_STEP: 'append-a', TOY_SLEEP_MS: '4000' });
    try {
      await waitUntil('the parent run to start', () => existsSync(join(stateDir, 'runs')) && readdirSync(join(stateDir, 'runs')).length === 1);
      const [parentId] = readdirSync(join(stateDir, 'runs'));
      const demo = join(tmp.make(), 'demo');
      const sharing = await cli(['runbook', 'run', 'demo-counter', '--dir', demo, '--yes'], { GAMEDAY_STATE_DIR: stateDir, GAMEDAY_PARENT_RUN: parentId });
      expect(sharing.code).toBe(2);
      expect(sharing.stderr).toContain(`error BAD_PARENT_RUN: $GAMEDAY_PARENT_RUN: run ${parentId} is not a live run that started this command`);
      expect(existsSync(demo)).toBe(false);
      const nobody = await cli(['runbook', 'run', 'demo-counter', '--dir', demo, '--yes'], { GAMEDAY_STATE_DIR: stateDir, GAMEDAY_PARENT_RUN: '2026-01-01T00-00-00Z-0000' });
      expect(nobody.code).toBe(2);
      expect(nobody.stderr).toContain('no run 2026-01-01T00-00-00Z-0000 in this state folder');
    } finally {
      parent.kill('SIGKILL');
      await parent.exited;
    }
  });
});
