import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { openLab, type LabContext } from '../../../lab/context.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { runtimeCommand } from '../../../drivers/haproxy/runtime.js';
import type { GameDayReport } from '../../../chaos/report/types.js';
import { GAMEDAY, ownLabDown, ownLabUp, rootQuery, waitFor } from '../helpers.js';

/*
 * Game days that break an invariant behind the checks' back, as a broken
 * fleet would: each must fail, and name what broke. Each of these passed
 * before the checks observed what they judge (HTTP 2xx for Redis writes,
 * the health agent's heartbeat for stale reads).
 */

const OCTET = 33;
const tiny = { users: 300, notificationsPerUser: 5, readPercent: 50 };

describe('game days that must fail (a lab of its own, 198.18.33.x)', () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-false-passes-'));
  const dir = join(root, 'lab');
  const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(root, 'state'), GAMEDAY_LAB_DIR: dir };
  let lab: LabContext;

  beforeAll(async () => {
    lab = await ownLabUp({ dir, octet: OCTET, seed: tiny });
  }, 180_000);

  afterAll(() => ownLabDown(dir), 120_000);

  /** Runs a scenario through the CLI while `meddle` breaks something; the report and the exit code. */
  async function gameDay(name: string, body: string, meddle: () => Promise<void>): Promise<{ exitCode: number; report: GameDayReport }> {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, `name: ${name}\ndescription: test scenario ${name}\n${body}`);
    const run = execa(process.execPath, [GAMEDAY, 'chaos', 'run', file, '--json'], { reject: false, env });
    await meddle();
    const done = await run;
    expect(done.exitCode, done.stderr).not.toBe(2);
    return { exitCode: done.exitCode ?? -1, report: JSON.parse(done.stdout) as GameDayReport };
  }
  const check = (r: GameDayReport, id: string) => r.checks.find((c) => c.id === id)!;
  const replica = () => lab.hostsOf('db').find((h) => h !== lab.initialDbPrimary)!.name;

  it('acknowledged creates deleted behind the app\'s back: no-lost-writes fails and counts them', async () => {
    const primary = lab.initialDbPrimary.name;
    const { exitCode, report } = await gameDay(
      'writes-deleted',
      `load: { users: 300, rate: 30, createPercent: 40, warmup: 3s, duration: 14s }\nfaults:\n  - { id: loss, type: power-off, target: { host: app-3 }, at: 2s, for: 8s }\nchecks: { noLostWrites: {} }\n`,
      async () => {
        // Once the fault is in (a mark-read of a deleted one in the warm-up would refuse the run), five of the load's creates vanish from MariaDB.
        await waitFor('app-3 powered off', async () => openLab(dir)?.state.poweredOff.includes('app-3'), 30_000);
        await waitFor('ten creates of the load', async () => Number((await rootQuery(lab, primary, "SELECT COUNT(*) AS n FROM notifications.notifications WHERE title LIKE 'loop %'"))[0].n) >= 10, 30_000);
        await rootQuery(lab, primary, "DELETE FROM notifications.notifications WHERE title LIKE 'loop %' ORDER BY id LIMIT 5");
      },
    );
    const c = check(report, 'no-lost-writes');
    expect(c.status, c.detail).toBe('failed');
    expect(c.detail).toMatch(/MariaDB lacks [1-5] creates/);
    expect(exitCode).toBe(1);
  });

  it('the apps cannot write to the new Redis primary: redis-failover fails and names the apps, though every create answered 201', async () => {
    const survivor = lab.hostsOf('redis').find((h) => h.role !== 'primary')!;
    const endpoint = lab.redisEndpoint(survivor);
    const redis = new Redis({ host: endpoint.host, port: endpoint.port, password: endpoint.password, lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      // The replica that will be promoted refuses the app's keys (notif:*) and keeps gameday's own probe key: the apps' writes only queue.
      await redis.call('ACL', 'SETUSER', 'default', 'resetkeys', '~gameday:*');
      const { exitCode, report } = await gameDay(
        'redis-writes-refused',
        `load: { users: 300, rate: 30, createPercent: 30, warmup: 3s, duration: 20s }\nfaults:\n  - { id: loss, type: power-off, target: { host: ${lab.hostsOf('redis').find((h) => h.role === 'primary')!.name} }, at: 2s, for: 16s }\nchecks: { redisFailover: {} }\n`,
        async () => undefined,
      );
      const c = check(report, 'redis-failover');
      expect(c.status, c.detail).toBe('failed');
      expect(c.detail).toMatch(/no write reached Redis after that through app-\d/);
      expect(exitCode).toBe(1);
    } finally {
      await redis.call('ACL', 'SETUSER', 'default', 'allkeys').catch(() => undefined);
      redis.disconnect();
    }
  });
  const staleScenario = `load: { users: 300, rate: 30, warmup: 3s, duration: 20s }\nfaults:\n  - { id: loss, type: power-off, target: { host: app-3 }, at: 2s, for: 8s }\nchecks: { noStaleReads: { maxLagMs: 3000 } }\n`;

  it('the same game day left alone: no-stale-reads holds on reads it observed (the control of the next one)', async () => {
    const { report } = await gameDay('stale-control', staleScenario, async () => undefined);
    const c = check(report, 'no-stale-reads');
    expect(c.status, c.detail).toBe('held');
    expect(Number(c.measured.reads)).toBeGreaterThan(100);
  });

  // Last: it leaves the replica with no replication (the lab goes down after it).
  it('a replica whose replication was removed, kept in the read pool: no-stale-reads fails and names it (the heartbeat view exempted it)', async () => {
    const host = replica();
    const { exitCode, report } = await gameDay(
      'stale-replica-in-pool',
      staleScenario,
      async () => {
        // Once the fault is in: the read pool stops checking the replica (as a broken agent would leave it UP), then its replication is removed.
        await waitFor('app-3 powered off', async () => openLab(dir)?.state.poweredOff.includes('app-3'), 30_000);
        for (const proxy of lab.hostsOf('proxy')) {
          const api = haproxyPaths(lab, proxy).socket;
          // HAProxy answers nothing on success, an error text otherwise.
          expect((await runtimeCommand(api, `disable health db_read/${host}`)).trim()).toBe('');
        }
        await rootQuery(lab, host, 'STOP SLAVE');
        await rootQuery(lab, host, 'RESET SLAVE ALL');
      },
    );
    const c = check(report, 'no-stale-reads');
    expect(c.status, c.detail).toBe('failed');
    expect(c.measured.staleServers).toBe(host);
    expect(exitCode).toBe(1);
  });
});
