import { stepRunningAt } from '../../../engine/runState.js';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { labUp } from '../../../lab/up.js';
import { labDown } from '../../../lab/down.js';
import { openLab, type LabContext } from '../../../lab/context.js';
import { labStatus } from '../../../lab/status.js';
import { startLoadLoop } from '../../../chaos/load/loop.js';
import { checkAckedWrites, describeAckedWrites } from '../../../chaos/load/ackedWrites.js';
import { watchRedisPrimaries } from '../../../chaos/probes/redisPrimaries.js';
import { labFleetEnv } from '../../../cli/wiring/labFleetEnv.js';
import { openNotificationStores } from '../../../runbooks/steps/consistencyCheck.js';
import { usersToVerify, verifyNotifications } from '../../../warmup/redis/verify.js';
import { GAMEDAY } from '../helpers.js';


/**
 * A full reboot cycle flips primaries, so it gets a lab of its own. `power`: the lab's own driver, or
 * gameday's ssh driver against every host's sshd (lab up --power ssh), as on a fleet; `afterCycle` adds
 * what one target alone can show.
 */
export function rebootCycleSuite(octet: number, power: 'lab' | 'ssh', afterCycle: (lab: LabContext, runStartedAt: number) => Promise<void> = async () => {}): void {
describe(`reboot-stale: every lab host goes round under load (power ${power})`, () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-cycle-'));
  const dir = join(root, 'lab');
  const stateDir = join(root, 'state');
  afterAll(async () => {
    const lab = openLab(dir);
    if (lab) await labDown(lab);
  });

  it('reboots all 13 hosts once, a wave\'s hosts side by side (--concurrency 5), under 40 writes/s, losing no acknowledged write, with at most 0.1 % failed requests', async () => {
    const lab = await labUp({ dir, octet, power, seed: { users: 1000, notificationsPerUser: 20, readPercent: 70 } });
    // Write-heavy: 80 requests/s, a quarter creates and a quarter mark-reads (40 writes/s), for the whole cycle.
    const loop = startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 1000, ratePerS: 80, createPercent: 25, markReadPercent: 25, timeoutMs: 1000 });
    const redisRoles = watchRedisPrimaries(lab.hostsOf('redis').map((h) => ({ name: h.name, ...lab.redisEndpoint(h) })));
    const started = Date.now();
    const run = await execa(process.execPath, [GAMEDAY, 'runbook', 'run', 'reboot-stale', '--max-uptime', '1s', '--ramp-hold', '1s', '--ready-samples', '2', '--drain-timeout', '5s', '--verify', 'all', '--concurrency', '5'], {
      reject: false,
      env: { GAMEDAY_LAB_DIR: dir, GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn' },
    });
    const wallS = (Date.now() - started) / 1000;
    const load = await loop.stop();
    const split = await redisRoles.stop();
    expect(run.exitCode, run.stdout.slice(-3000) + run.stderr.slice(-2000)).toBe(0);

    const runId = readdirSync(join(stateDir, 'runs'))[0];
    const events = readFileSync(join(stateDir, 'runs', runId, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const plan = events.find((e) => e.data?.type === 'started').data.plan;
    // Waves: one zone each, at most one member of a tier.
    for (const wave of plan.waves as Array<{ zone: string; hosts: string[] }>) {
      const hosts = wave.hosts.map((h) => lab.inventory.hosts.find((x) => x.name === h)!);
      expect(new Set(hosts.map((h) => h.zone))).toEqual(new Set([wave.zone]));
      expect(new Set(hosts.map((h) => h.tier)).size).toBe(hosts.length);
    }
    // Every host rebooted exactly once; a wave's hosts side by side, and a wave only once the one before is done.
    const reboots = events.filter((e) => e.stepId.endsWith('/reboot') && e.event === 'intent');
    expect(reboots.map((e) => e.stepId.split('/')[1]).sort()).toEqual(lab.inventory.hosts.map((h) => h.name).sort());
    const waveOf = (e: { stepId: string }) => e.stepId.split('/')[0];
    const timeOf = (e: { time: string }) => Date.parse(e.time);
    for (let w = 2; w <= plan.waves.length; w++) {
      const lastOfPrevious = events.filter((e) => waveOf(e) === `wave-${w - 1}` && e.event === 'succeeded').at(-1);
      const firstOfThis = events.find((e) => waveOf(e) === `wave-${w}` && e.event === 'intent');
      expect(timeOf(firstOfThis)).toBeGreaterThanOrEqual(timeOf(lastOfPrevious));
    }
    const wave1 = reboots.filter((e) => waveOf(e) === 'wave-1');
    const backOf = (host: string) => events.find((e) => e.stepId === `wave-1/${host}/back` && e.event === 'succeeded');
    const overlapping = wave1.filter((r, i) => wave1.some((o, j) => j !== i && timeOf(o) <= timeOf(r) && timeOf(backOf(o.stepId.split('/')[1])) > timeOf(r)));
    expect(overlapping.length, 'wave 1 rebooted its hosts one after another').toBeGreaterThan(0);

    // The fleet is whole again: every pool server UP at full weight where its health check allows.
    const status = await labStatus(openLab(dir)!); // fresh state: the run restarted every process
    expect(Object.values(status.live.hosts).every((h) => h.state === 'up')).toBe(true);
    const roles = lab.hostsOf('db').map((h) => status.live.hosts[h.name].role);
    expect(roles.filter((r) => r === 'primary')).toHaveLength(1);
    for (const views of Object.values(status.live.haproxy)) {
      expect(views.filter((v) => v.backend === 'web').map((v) => [v.status, v.weight])).toEqual([['UP', 100], ['UP', 100], ['UP', 100]]);
      expect(views.filter((v) => v.backend === 'db_read' && v.status === 'UP')).toHaveLength(2);
      expect(views.filter((v) => v.backend === 'db_write' && v.status === 'UP')).toHaveLength(1);
    }

    // The run checked every user's Redis data against MariaDB and said so.
    const verified = events.find((e) => e.stepId === 'verify-notifications' && e.event === 'note');
    expect(verified.data.consistency.usersChecked).toBe(1000);
    expect(verified.data.consistency.usersMismatched).toBe(0);
    expect(run.stdout).toContain('Redis agrees with MariaDB');

    // Never two Redis servers taking writes at one sample (every 100 ms through the run).
    expect(split.samples).toBeGreaterThan(wallS * 5);
    expect(split.twoWritable).toEqual([]);

    // Every acknowledged write is in both stores, and a full check of our own agrees with the run's.
    const stores = await openNotificationStores(labFleetEnv(dir), lab.inventory);
    try {
      const acked = await checkAckedWrites(load.acked, stores.db, stores.redis);
      expect(acked.created).toBeGreaterThan(wallS * 15);
      expect(acked.markedRead).toBeGreaterThan(wallS * 10);
      expect([acked.createsLostInDb, acked.createsLostInRedis, acked.readsLostInDb, acked.readsLostInRedis]).toEqual([[], [], [], []]);
      const full = await verifyNotifications(stores.db, stores.redis, await usersToVerify(stores.db, { all: true }));
      expect(full.users).toEqual([]);
      process.stderr.write(`reboot cycle: ${describeAckedWrites(acked)}\n`);
    } finally {
      await stores.close();
    }

    const switchover = events.find((e) => e.event === 'note' && e.data?.writesRefusedMs !== undefined);
    const redisPauses = events.filter((e) => e.event === 'note' && e.data?.writePauseMs !== undefined).map((e) => `${e.stepId.split('/')[1]} ${e.data.writePauseMs} ms`);
    // Which step was running when writes paused longest.
    const pausedDuring = events.filter((e) => e.event === 'intent' || e.event === 'note' || e.event === 'succeeded').filter((e) => e.time <= (load.longestWriteGapFrom ?? '')).at(-1)?.stepId ?? 'before the first step';
    process.stderr.write(
      `reboot cycle: ${wallS.toFixed(0)} s wall; load: ${load.reads.total} reads (${load.reads.failed} failed), ${load.writes.total} writes (${load.writes.failed} failed); ` +
        `longest write pause ${load.longestWriteGapMs} ms (during ${pausedDuring}); switchover refused writes for ${switchover?.data.writesRefusedMs} ms; ` +
        `Redis hand-offs paused writes: ${redisPauses.join(', ')}; role samples ${split.samples}, longest with no writable Redis ${split.longestUnwritableMs} ms; journal: ${events.length} events\n`,
    );
    // What the user notices first: nothing lost (above, exact). Failed requests are a budget, not zero: a request
    // that waited more than the client's 1 s timeout on both proxies of a busy 2-core machine is timing, not loss.
    for (const f of load.failures) process.stderr.write(`reboot cycle: failed ${f.kind} at ${f.at} (status ${f.status || 'no answer'}) during ${stepRunningAt(events, f.at)}\n`);
    expect(load.failures.length).toBeLessThanOrEqual(Math.max(1, (load.reads.total + load.writes.total) * 0.001));
    await afterCycle(openLab(dir)!, started);
  }, 600_000);
});
}
