import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RowDataPacket } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { labUp } from '../../../lab/up.js';
import { labDown } from '../../../lab/down.js';
import { requireLab, type LabContext } from '../../../lab/context.js';
import { rootConnection } from '../../../lab/bootstrap.js';
import { labFaultDriver } from '../../../lab/faultDriver.js';
import { resolveFaults } from '../../../chaos/faults/resolve.js';
import { pathToFileURL } from 'node:url';
import { connectMsFrom, connectOutcome, connectOutcomeFrom, egressAudit, GAMEDAY, ownLabDown, ownLabUp, rootQuery, waitFor } from '../helpers.js';
import { assertChromium, chromium } from '../../fixtures/chromium.js';

const OCTET = 31;
const tiny = { users: 300, notificationsPerUser: 5, readPercent: 50 };


/** A short scenario file for the small lab (its users, quick timings). */
/** Each check's status and detail from a report on stdout, for a failure message (the timeline alone does not say which check failed). */
function checksOf(stdout: string): string {
  try {
    return (JSON.parse(stdout).checks as Array<{ id: string; status: string; detail: string }>).map((c) => `${c.status} ${c.id}: ${c.detail}`).join('\n');
  } catch {
    return stdout.slice(0, 2000);
  }
}

function scenarioFile(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ndescription: test scenario ${name}\n${body}`);
  return file;
}

describe('game days on a small lab of their own (198.18.31.x)', () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-chaos-'));
  const dir = join(root, 'lab');
  const stateDir = join(root, 'state');
  const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LAB_DIR: dir };
  const gameday = (args: string[]) => execa(process.execPath, [GAMEDAY, ...args], { reject: false, env });
  let lab: LabContext;

  beforeAll(async () => {
    lab = await ownLabUp({ dir, octet: OCTET, seed: tiny });
  }, 180_000);

  afterAll(() => ownLabDown(dir), 120_000);

  it('each fault of the lab driver takes effect, and its undo takes it back', async () => {
    const driver = labFaultDriver(dir);
    const inv = requireLab(dir).inventory;
    const [kill, lag, split] = resolveFaults(inv, [
      { type: 'kill-process', target: { host: 'db-3' }, service: 'mysql', at: 0, id: 'kill' },
      { type: 'stop-replication', target: { host: 'db-2' }, thread: 'sql', at: 0, id: 'lag' },
      { type: 'partition', between: ['az-b', 'az-c'], at: 0, id: 'split' },
    ]);
    const db3 = lab.host('db-3');
    const sqlRunning = async () => {
      const c = await rootConnection(lab, lab.host('db-2'));
      try {
        const [rows] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
        return rows[0].Slave_SQL_Running as string;
      } finally {
        await c.end();
      }
    };

    await driver.inject(kill);
    await waitFor('db-3 to refuse connections', async () => (await connectOutcome(db3.address, db3.services.mysql, 700)) === 'refused', 5000);
    await driver.undo(kill);
    expect(await connectOutcome(db3.address, db3.services.mysql, 700)).toBe('connected');

    await driver.inject(lag);
    expect(await sqlRunning()).toBe('No');
    await driver.undo(lag);
    expect(await sqlRunning()).toBe('Yes');

    const b = lab.host('redis-2');
    const c = lab.host('proxy-2');
    await driver.inject(split);
    try {
      expect(await connectOutcomeFrom(lab, b.name, c.address, c.services.http, 700)).toBe('hung');
      // The operator's own traffic (the CLI, the probes) still reaches both sides.
      expect(await connectOutcome(c.address, c.services.http, 700)).toBe('connected');
    } finally {
      await driver.undo(split);
    }
    expect(await connectOutcomeFrom(lab, b.name, c.address, c.services.http, 700)).toBe('connected');
  }, 60_000);

  it('latency between a host and its peers: their round trips grow by the delay, others do not; the undo plugs the host back in and leaves no link of its own', async () => {
    const driver = labFaultDriver(dir);
    const [slow] = resolveFaults(requireLab(dir).inventory, [{ type: 'latency', target: { host: 'db-1' }, ms: 200, jitter: 0, peers: { host: 'db-2' }, at: 0, id: 'slow' }]);
    const db1 = lab.host('db-1');
    const rtt = (from: string) => connectMsFrom(lab, from, db1.address, db1.services.mysql);
    const before = { peer: await rtt('db-2'), other: await rtt('db-3') };
    await driver.inject(slow);
    let during: { peer: number; other: number };
    try {
      during = { peer: await rtt('db-2'), other: await rtt('db-3') };
    } finally {
      await driver.undo(slow);
    }
    const after = { peer: await rtt('db-2'), other: await rtt('db-3') };
    expect(during.peer, `db-2 -> db-1 connect: ${before.peer} ms before, ${during.peer} ms during`).toBeGreaterThanOrEqual(195);
    expect(during.peer).toBeLessThan(400);
    expect(during.other, 'db-3 is not a peer: its round trip is untouched').toBeLessThan(50);
    expect(after.peer).toBeLessThan(50);
    const links = (await execa('ip', ['-o', 'link'])).stdout;
    expect(links).not.toMatch(new RegExp(`gd${OCTET}[lm]\\d`));
    expect((await execa('ip', ['-o', 'link', 'show', 'master', lab.network.bridge])).stdout).toContain(lab.network.link('db-1'));
    // An undo of what is already gone is a no-op.
    await driver.undo(slow);
  }, 60_000);

  it('az-a cut off from az-b and az-c (two partitions at once): its primary\'s writes reach no replica until both undos, and app-2 loses redis-1 for as long as the cut lasts', async () => {
    const driver = labFaultDriver(dir);
    const inv = requireLab(dir).inventory;
    const [cutB, cutC] = resolveFaults(inv, [
      { type: 'partition', between: ['az-a', 'az-b'], at: 0, id: 'cut-b' },
      { type: 'partition', between: ['az-a', 'az-c'], at: 0, id: 'cut-c' },
    ]);
    const redis1 = lab.host('redis-1');
    const mark = `zone-cut-${Date.now()}`;
    const seen = async (host: string) => Number((await rootQuery(lab, host, 'SELECT COUNT(*) AS n FROM gameday.cut_marks WHERE mark = ?', [mark]))[0].n);
    await rootQuery(lab, 'db-1', 'CREATE TABLE IF NOT EXISTS gameday.cut_marks (mark VARCHAR(64) PRIMARY KEY)');
    await waitFor('the table on the replicas', async () => (await seen('db-2')) === 0 && (await seen('db-3')) === 0, 10_000);
    await driver.inject(cutB);
    await driver.inject(cutC);
    try {
      await rootQuery(lab, 'db-1', 'INSERT INTO gameday.cut_marks (mark) VALUES (?)', [mark]);
      expect(await connectOutcomeFrom(lab, 'app-2', redis1.address, redis1.services.redis, 700)).toBe('hung');
      await new Promise((r) => setTimeout(r, 3000));
      expect([await seen('db-1'), await seen('db-2'), await seen('db-3')]).toEqual([1, 0, 0]);
      expect(await connectOutcomeFrom(lab, 'app-2', redis1.address, redis1.services.redis, 700)).toBe('hung');
      await driver.undo(cutB);
      // Half healed: az-b hears az-a again, az-c does not.
      expect(await connectOutcomeFrom(lab, 'app-2', redis1.address, redis1.services.redis, 700)).toBe('connected');
      expect(await connectOutcomeFrom(lab, 'app-3', redis1.address, redis1.services.redis, 700)).toBe('hung');
    } finally {
      await driver.undo(cutB); // a second undo of what is gone: a no-op
      await driver.undo(cutC);
    }
    await waitFor('the row on every replica', async () => (await seen('db-2')) === 1 && (await seen('db-3')) === 1, 30_000);
  }, 90_000);

  it('a Redis data loss empties every Redis; the undo leaves them empty (the rebuild brings them back)', async () => {
    const driver = labFaultDriver(dir);
    const [wipe] = resolveFaults(requireLab(dir).inventory, [{ type: 'redis-data-loss', at: 0, id: 'wipe' }]);
    const primary = async () => {
      for (const h of lab.hostsOf('redis')) {
        const r = new Redis({ ...lab.redisEndpoint(h), lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await r.connect();
          if ((await r.info('replication')).includes('role:master')) return r;
        } catch {
          // not up yet
        }
        r.disconnect();
      }
      return undefined;
    };
    const before = await primary();
    expect(await before!.dbsize()).toBeGreaterThan(100);
    before!.disconnect();
    await driver.inject(wipe);
    const after = await waitFor('a Redis primary', primary, 30_000);
    expect(await after.dbsize()).toBeLessThan(5);
    after.disconnect();
    const rebuild = await gameday(['warmup', 'redis', 'rebuild', '--lab-dir', dir]);
    expect(rebuild.exitCode, rebuild.stdout + rebuild.stderr).toBe(0);
  }, 90_000);

  it('a rack loss under load: every check held, exit 0, reports written, the rack back on', async () => {
    const file = scenarioFile(root, 'quick-rack-b1', `load: { rate: 30, users: 300, warmup: 3s, duration: 14s }
faults:
  - { id: loss, type: power-off, target: { rack: b1 }, at: 2s, for: 7s }
# The tests check the machinery; the error budget of the issue (0.1 %) is measured by the built-in scenarios, on a quiet machine.
checks: { errorBudget: { maxFailedPercent: 2, maxP99Ms: 5000 } }
`);
    // Nothing leaves loopback and the lab's own network during the game day (load, probes, faults, the lab's hosts).
    const audit = await egressAudit(lab);
    let sentOutside: number;
    let run: Awaited<ReturnType<typeof gameday>>;
    try {
      run = await gameday(['chaos', 'run', file, '--json']);
      sentOutside = await audit.count();
    } finally {
      await audit.stop();
    }
    expect(sentOutside, 'packets sent outside loopback and the lab').toBe(0);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.verdict).toBe('passed');
    const ids = report.checks.map((c: { id: string }) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['dead-servers-leave-pools', 'writes-resume', 'one-writable-primary', 'no-lost-writes', 'error-budget']));
    const leave = report.checks.find((c: { id: string }) => c.id === 'dead-servers-leave-pools');
    expect(leave.measured.detectedMs).toBeGreaterThan(0);
    // Every check saw enough to judge: held, with its coverage, none inconclusive.
    for (const c of report.checks) expect(c.status, `${c.id}: ${c.detail}`).toBe('held');
    expect(report.load.acked.created).toBeGreaterThan(10);
    const folder = join(stateDir, 'runs', report.runId);
    for (const f of ['report.json', 'report.md', 'report.html', 'journal.jsonl', 'requests.jsonl']) expect(existsSync(join(folder, f)), f).toBe(true);
    // requests.jsonl holds every request of the load, one line each.
    expect(readFileSync(join(folder, 'requests.jsonl'), 'utf8').trim().split('\n').length).toBe(report.load.requests);
    expect(readFileSync(join(folder, 'report.md'), 'utf8')).toContain('dead-servers-leave-pools');
    // The real run's HTML, as a reader opens it: the timeline drawn, with its fault and undo.
    assertChromium();
    const dom = (await chromium(join(root, 'chromium'), pathToFileURL(join(folder, 'report.html')).href, ['--dump-dom'])).stdout;
    expect(dom).toMatch(/<svg id="timeline" data-seconds="\d+"/);
    expect((dom.match(/class="bar-ok /g) ?? []).length).toBeGreaterThan(10);
    expect(dom).toContain('class="event-marker event-fault"');
    expect(dom).toContain('class="event-marker event-undo"');
    expect(requireLab(dir).state.poweredOff).toEqual([]);
    const status = await gameday(['chaos', 'status', '--json']);
    expect(JSON.parse(status.stdout).find((r: { runId: string }) => r.runId === report.runId)).toMatchObject({ verdict: 'passed', activeFaults: [] });
  }, 90_000);

  it('killed with -9 during a fault: status shows the fault still in place, abort undoes it from the journal', async () => {
    const file = scenarioFile(root, 'long-app-loss', `load: { rate: 10, users: 300, warmup: 2s, duration: 60s }
faults:
  - { id: loss, type: power-off, target: { host: app-3 }, at: 1s, for: 50s }
`);
    const child = execa(process.execPath, [GAMEDAY, 'chaos', 'run', file], { reject: false, env });
    const app3 = lab.host('app-3');
    const runId = await waitFor('the fault to be in place', async () => {
      const s = await gameday(['chaos', 'status', '--json']);
      const live = JSON.parse(s.stdout || '[]').find((r: { scenario: string; state: string; activeFaults: unknown[] }) => r.scenario === 'long-app-loss' && r.state === 'running' && r.activeFaults.length > 0);
      return live?.runId as string | undefined;
    }, 30_000);
    await waitFor('app-3 dark', async () => (await connectOutcome(app3.address, app3.services.http, 700)) !== 'connected', 10_000);
    child.kill('SIGKILL');
    await child;

    const status = await gameday(['chaos', 'status']);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toContain(`FAULT STILL IN PLACE: power-off host app-3`);
    expect(status.stdout).toContain(`gameday chaos abort ${runId}`);
    expect(await connectOutcome(app3.address, app3.services.http, 700)).toBe('hung');

    const abort = await gameday(['chaos', 'abort', runId]);
    expect(abort.exitCode, abort.stderr).toBe(0);
    expect(abort.stdout).toContain('undid 1 fault');
    expect(await connectOutcome(app3.address, app3.services.http, 700)).toBe('connected');
    const after = await gameday(['chaos', 'status', runId, '--json']);
    expect(JSON.parse(after.stdout)[0].activeFaults).toEqual([]);
    expect((await gameday(['chaos', 'abort', runId])).stdout).toContain('nothing was left in place');
  }, 90_000);

  it('SIGTERM during a fault: the fault is undone before the run exits 130 with verdict aborted', async () => {
    const file = scenarioFile(root, 'stopped-app-loss', `load: { rate: 10, users: 300, warmup: 2s, duration: 60s }
faults:
  - { id: loss, type: power-off, target: { host: app-2 }, at: 1s, for: 50s }
`);
    const child = execa(process.execPath, [GAMEDAY, 'chaos', 'run', file, '--json'], { reject: false, env });
    await waitFor('the fault to be in place', async () => requireLab(dir).state.poweredOff.includes('app-2'), 30_000);
    child.kill('SIGTERM');
    const done = await child;
    expect(done.exitCode, done.stderr).toBe(130);
    expect(JSON.parse(done.stdout).verdict).toBe('aborted');
    expect(requireLab(dir).state.poweredOff).toEqual([]);
    const app2 = lab.host('app-2');
    expect(await connectOutcome(app2.address, app2.services.http, 700)).toBe('connected');
  }, 90_000);

  it('the primary\'s rack lost under load: failover-db promotes a replica, rejoin-db takes the old primary back; no write fails or is lost', async () => {
    const file = scenarioFile(root, 'quick-primary-rack', `load: { rate: 30, users: 300, warmup: 3s, duration: 22s }
faults:
  - { id: loss, type: power-off, target: { rack: a1 }, at: 2s, for: 8s }
responses:
  - { after: loss, on: detected, runbook: failover-db, params: { primary: $lost-primary } }
  - { after: loss, on: undo, delay: 1s, runbook: rejoin-db, params: { host: $lost-primary, ramp: '50,100', rampHold: 1s } }
checks: { writesResume: { within: 6s }, errorBudget: { maxFailedPercent: 2, maxP99Ms: 5000 } }
`);
    const run = await gameday(['chaos', 'run', file, '--json']);
    expect(run.exitCode, `${run.stderr}\n${checksOf(run.stdout)}`).toBe(0);
    const report = JSON.parse(run.stdout);
    const responses = report.events.filter((e: { kind: string }) => e.kind === 'response').map((e: { label: string }) => e.label);
    expect(responses).toEqual(expect.arrayContaining(['failover-db succeeded', 'rejoin-db succeeded']));
    expect(report.events.find((e: { kind: string; label: string }) => e.kind === 'failover' && e.label.startsWith('MariaDB primary is'))).toBeDefined();
    const lost = report.checks.find((c: { id: string }) => c.id === 'no-lost-writes');
    expect(lost.passed, lost.detail).toBe(true);
    // No write fails: the app holds a write while the write pool has no primary (the error budget's 2 % is for reads).
    expect(report.load.byKind.create.failed + report.load.byKind['mark-read'].failed).toBe(0);
    // Every check saw enough to judge: none inconclusive.
    for (const c of report.checks) expect(c.status, `${c.id}: ${c.detail}`).toBe('held');
    // The old primary is a replica of the new one, caught up, read-only.
    const [db1] = await rootQuery(lab, 'db-1', 'SELECT @@read_only AS ro');
    expect(Number(db1.ro)).toBe(1);
    const [slave] = await rootQuery(lab, 'db-1', 'SHOW SLAVE STATUS');
    expect(slave).toMatchObject({ Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes' });
    expect(['db-2', 'db-3'].map((h) => lab.host(h).address)).toContain(slave.Master_Host);
  }, 120_000);

  it('a scenario that breaks a tier is refused before anything is touched (exit 2)', async () => {
    const file = scenarioFile(root, 'two-zones', `faults:
  - { id: a, type: power-off, target: { zone: az-a }, at: 1s, for: 5s }
  - { id: b, type: power-off, target: { zone: az-b }, at: 1s, for: 5s }
`);
    const before = (await gameday(['chaos', 'status', '--json'])).stdout;
    const run = await gameday(['chaos', 'run', file]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('PREFLIGHT_REFUSED');
    expect(run.stderr).toContain('expect: breaks');
    expect((await gameday(['chaos', 'status', '--json'])).stdout).toBe(before);
    expect(requireLab(dir).state.poweredOff).toEqual([]);
    const plan = await gameday(['chaos', 'plan', file]);
    expect(plan.exitCode).toBe(2);
    expect(plan.stdout).toContain('BREAKS');
  });

  it('a bad scenario file gets one error naming the file and the field (exit 2)', async () => {
    const file = scenarioFile(root, 'bad', `faults:\n  - { type: power-off, target: { rack: b1 }, at: soon }\n`);
    const run = await gameday(['chaos', 'run', file]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toContain('faults[0].at');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('on the outage-2017 layout the 2017 replay fails its checks (exit 1); compare shows both runs', async () => {
    const spreadRun = JSON.parse((await gameday(['chaos', 'status', '--json'])).stdout).find((r: { scenario: string }) => r.scenario === 'quick-rack-b1').runId;
    await labDown(requireLab(dir));
    lab = await labUp({ dir, octet: OCTET, seed: tiny, layout: 'outage-2017' });
    const file = scenarioFile(root, 'quick-replay-2017', `expect: breaks
load: { rate: 30, users: 300, warmup: 3s, duration: 12s }
faults:
  - { id: loss, type: power-off, target: { rack: a2 }, at: 2s, for: 6s }
`);
    const run = await gameday(['chaos', 'run', file, '--json']);
    expect(run.exitCode, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.verdict).toBe('failed');
    expect(report.target.layout).toBe('outage-2017');
    const failed = report.checks.filter((c: { passed: boolean }) => !c.passed).map((c: { id: string }) => c.id);
    expect(failed).toEqual(expect.arrayContaining(['reads-resume', 'writes-resume', 'error-budget']));
    const compare = await gameday(['chaos', 'compare', spreadRun, report.runId]);
    expect(compare.exitCode, compare.stderr).toBe(0);
    expect(compare.stdout).toMatch(/PASSED/i);
    expect(compare.stdout).toMatch(/FAILED/i);
    expect(compare.stdout).toContain('quick-replay-2017');
  }, 300_000);
});
