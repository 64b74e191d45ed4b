import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { labUp } from '../../lab/up.js';
import { labDown } from '../../lab/down.js';
import { openLab } from '../../lab/context.js';
import { labStatus } from '../../lab/status.js';
import { startLoadLoop } from '../../chaos/load/loop.js';
import { GAMEDAY } from './helpers.js';

/** A full reboot cycle flips primaries, so it gets a lab of its own (127.24.x.y). */
describe('reboot-stale: every lab host goes round under load', () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-cycle-'));
  const dir = join(root, 'lab');
  const stateDir = join(root, 'state');
  afterAll(async () => {
    const lab = openLab(dir);
    if (lab) await labDown(lab);
  });

  it('reboots all 13 hosts once, one at a time in valid waves, with (almost) no failed request', async () => {
    const lab = await labUp({ dir, octet: 24, seed: { users: 1000, notificationsPerUser: 20, readPercent: 70 } });
    const loop = startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 1000, ratePerS: 20, writePercent: 20 });
    const started = Date.now();
    const run = await execa(process.execPath, [GAMEDAY, 'runbook', 'run', 'reboot-stale', '--max-uptime', '1s', '--ramp-hold', '1s', '--ready-samples', '2', '--drain-timeout', '5s'], {
      reject: false,
      env: { GAMEDAY_LAB_DIR: dir, GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn' },
    });
    const wallS = (Date.now() - started) / 1000;
    const load = await loop.stop();
    expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);

    const runId = readdirSync(join(stateDir, 'runs'))[0];
    const events = readFileSync(join(stateDir, 'runs', runId, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const plan = events.find((e) => e.data?.type === 'started').data.plan;
    // Waves: one zone each, at most one member of a tier.
    for (const wave of plan.waves as Array<{ zone: string; hosts: string[] }>) {
      const hosts = wave.hosts.map((h) => lab.inventory.hosts.find((x) => x.name === h)!);
      expect(new Set(hosts.map((h) => h.zone))).toEqual(new Set([wave.zone]));
      expect(new Set(hosts.map((h) => h.tier)).size).toBe(hosts.length);
    }
    // Every host rebooted exactly once, and never two at a time: a host's reboot starts after the previous one is back in service.
    const reboots = events.filter((e) => e.stepId.endsWith('/reboot') && e.event === 'intent');
    expect(reboots.map((e) => e.stepId.split('/')[1]).sort()).toEqual(lab.inventory.hosts.map((h) => h.name).sort());
    for (let i = 1; i < reboots.length; i++) {
      const previous = reboots[i - 1].stepId.split('/').slice(0, 2).join('/');
      const lastOfPrevious = events.filter((e) => e.stepId.startsWith(`${previous}/`) && e.event === 'succeeded').at(-1);
      expect(Date.parse(reboots[i].time)).toBeGreaterThanOrEqual(Date.parse(lastOfPrevious.time));
    }

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

    const switchover = events.find((e) => e.event === 'note' && e.data?.writesRefusedMs !== undefined);
    // Which step was running when writes paused longest.
    const pausedDuring = events.filter((e) => e.event === 'intent' || e.event === 'note' || e.event === 'succeeded').filter((e) => e.time <= (load.longestWriteGapFrom ?? '')).at(-1)?.stepId ?? 'before the first step';
    process.stderr.write(
      `reboot cycle: ${wallS.toFixed(0)} s wall; load: ${load.reads.total} reads (${load.reads.failed} failed), ${load.writes.total} writes (${load.writes.failed} failed); ` +
        `longest write pause ${load.longestWriteGapMs} ms (during ${pausedDuring}); switchover refused writes for ${switchover?.data.writesRefusedMs} ms; journal: ${events.length} events\n`,
    );
    const failed = load.reads.failed + load.writes.failed;
    expect(failed / (load.reads.total + load.writes.total)).toBeLessThan(0.01);
  }, 600_000);
});
