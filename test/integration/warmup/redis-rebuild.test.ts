import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LabContext } from '../../../lab/context.js';
import { withRedis } from '../../../drivers/redis/readiness.js';
import { keys } from '../../../drivers/notificationStore.js';
import { startLoadLoop } from '../../../chaos/load/loop.js';
import { GAMEDAY, ownLabDown, ownLabUp, rootQuery, waitFor } from '../helpers.js';

/**
 * `gameday warmup redis rebuild` after the Redis data set is lost (FLUSHALL
 * on the primary), on a small lab of its own (198.18.34.x): flushing the
 * shared lab's Redis would break the tests that run beside these.
 */
describe('warmup redis rebuild', () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-rebuild-'));
  const dir = join(root, 'lab');
  const stateDir = join(root, 'state');
  const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LAB_DIR: dir };
  const gameday = (args: string[]) => execa(process.execPath, [GAMEDAY, ...args], { reject: false, env });
  let lab: LabContext;

  const primary = () => lab.redisEndpoint(lab.hostsOf('redis').find((h) => h.role === 'primary')!);
  /** FLUSHALL on the primary; with no writers, Redis is then empty. */
  const loseRedisData = async (writersRunning = false) => {
    await withRedis(primary(), (r) => r.flushall());
    if (!writersRunning) expect(await withRedis(primary(), (r) => r.dbsize())).toBe(0);
  };
  const verifyAll = async () => {
    const v = await gameday(['warmup', 'redis', 'verify', '--all', '--json']);
    return { code: v.exitCode, result: JSON.parse(v.stdout || '{}') };
  };
  const stepResults = (run: { stdout: string }) => {
    const r = JSON.parse(run.stdout);
    return (r.steps as Array<{ id: string; status: string; result?: { changedUsers: number; notifications: number } }>).filter((s) => s.id.startsWith('users/'));
  };

  beforeAll(async () => {
    lab = await ownLabUp({ dir, octet: 34, seed: { users: 300, notificationsPerUser: 10, readPercent: 50 } });
  }, 180_000);

  afterAll(() => ownLabDown(dir), 120_000);

  it('rebuilds every user exactly (read state, unread counter, order); a second run changes nothing', async () => {
    await loseRedisData();
    // Meanwhile the app serves MariaDB's data, not the empty lists of an empty Redis (2017).
    const page = async () => {
      const proxy = lab.hostsOf('proxy')[0];
      const res = await fetch(`http://${proxy.address}:${proxy.services.http}/users/42/notifications?limit=10`, { signal: AbortSignal.timeout(5000) });
      return { source: res.headers.get('x-read-source'), body: (await res.json()) as { unread: number; notifications: unknown[] } };
    };
    const unreadOf42 = Number((await rootQuery(lab, 'db-1', 'SELECT COUNT(*) AS n FROM notifications.notifications WHERE user_id = 42 AND read_at IS NULL'))[0].n);
    const cold = await page();
    expect(cold.source).toBe('mariadb');
    expect(cold.body.notifications).toHaveLength(10);
    expect(cold.body.unread).toBe(unreadOf42);

    const run = await gameday(['warmup', 'redis', 'rebuild', '--parts', '4', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    await waitFor('reads from Redis again', async () => (await page()).source === 'redis', 10_000);
    expect((await page()).body.unread).toBe(unreadOf42);
    const steps = stepResults(run);
    expect(steps).toHaveLength(4);
    expect(steps.reduce((n, s) => n + s.result!.notifications, 0)).toBe(3000);
    expect((await verifyAll()).code).toBe(0);

    // One user by hand: the counter and the order are MariaDB's, read notifications are read.
    const truth = await rootQuery(lab, 'db-1', 'SELECT id, read_at FROM notifications.notifications WHERE user_id = 42 ORDER BY created_at, id');
    const [ids, counter, payloads] = await withRedis(primary(), async (r) => [await r.zrange(keys.ids(42), '0', '-1'), await r.get(keys.unread(42)), await r.hgetall(keys.data(42))]);
    expect(ids).toEqual(truth.map((t) => String(t.id)));
    expect(Number(counter)).toBe(truth.filter((t) => t.read_at === null).length);
    for (const t of truth) expect(JSON.parse((payloads as Record<string, string>)[String(t.id)]).readAt === null, `notification ${t.id}`).toBe(t.read_at === null);

    const again = await gameday(['warmup', 'redis', 'rebuild', '--parts', '4', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(stepResults(again).map((s) => s.result!.changedUsers)).toEqual([0, 0, 0, 0]);
  }, 120_000);

  it('is exact while the app keeps creating and marking read throughout', async () => {
    const proxies = lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http }));
    const load = startLoadLoop({ frontends: proxies, users: 300, ratePerS: 60, createPercent: 40, markReadPercent: 40 });
    const rebuilding = { from: 0, to: 0 };
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await loseRedisData(true);
      // Throttled, so that the writers run against it for several seconds.
      rebuilding.from = Date.now();
      const run = await gameday(['warmup', 'redis', 'rebuild', '--parts', '6', '--rate', '800', '--verify', 'off']);
      rebuilding.to = Date.now();
      expect(run.exitCode, run.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      const report = await load.stop();
      const during = (w: Array<{ at: number }>) => w.filter((x) => x.at >= rebuilding.from && x.at <= rebuilding.to).length;
      const failed = report.samples.filter((x) => !x.ok).length;
      expect(rebuilding.to - rebuilding.from).toBeGreaterThan(3000); // 3000 notifications at 800/s
      expect(during(report.acked.created), `creates acknowledged during the rebuild (${failed} requests failed)`).toBeGreaterThan(10);
      expect(during(report.acked.markedRead), `mark-reads acknowledged during the rebuild (${failed} requests failed)`).toBeGreaterThan(10);
    }
    // The writes made before the rebuild reached them were flushed, those after landed on top: all must agree.
    await waitFor('the app\'s repair queue drained', async () => (await verifyAll()).code === 0, 15_000).catch(() => undefined);
    const { code, result } = await verifyAll();
    expect(code, JSON.stringify(result.mismatches)).toBe(0);
  }, 120_000);

  it('killed with -9 part way: resume finishes without redoing the parts done', async () => {
    await loseRedisData();
    const child = execa(process.execPath, [GAMEDAY, 'warmup', 'redis', 'rebuild', '--parts', '6', '--rate', '150'], { reject: false, env });
    let runId = '';
    await waitFor('two parts done', async () => {
      const s = await gameday(['runbook', 'status', '--json']);
      const run = (JSON.parse(s.stdout || '{"runs":[]}').runs as Array<{ runId: string; runbook: string; state: string }>).find((r) => r.runbook === 'redis-rebuild' && r.state === 'running');
      if (!run) return false;
      runId = run.runId;
      const done = (await gameday(['runbook', 'status', run.runId, '--json'])).stdout;
      return (JSON.parse(done).steps as Array<{ id: string; status: string }>).filter((x) => x.id.startsWith('users/') && x.status === 'succeeded').length >= 2;
    }, 30_000);
    child.kill('SIGKILL');
    await child;
    const before = JSON.parse((await gameday(['runbook', 'status', runId, '--json'])).stdout).steps as Array<{ id: string; status: string }>;
    const doneBefore = before.filter((s) => s.id.startsWith('users/') && s.status === 'succeeded').map((s) => s.id);
    expect(doneBefore.length).toBeGreaterThanOrEqual(2);
    expect(doneBefore.length).toBeLessThan(6);

    const resume = await gameday(['runbook', 'resume', runId, '--json']);
    expect(resume.exitCode, resume.stderr).toBe(0);
    // Every part done before the kill ran once: one intent each in the journal.
    const journal = readFileSync(join(stateDir, 'runs', runId, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const id of doneBefore) expect(journal.filter((e) => e.stepId === id && e.event === 'intent'), id).toHaveLength(1);
    expect((await verifyAll()).code).toBe(0);
  }, 120_000);

  it('refuses bad input with one error naming the flag, and touches nothing', async () => {
    for (const [args, flag] of [
      [['--users', '50-10'], '--users'],
      [['--users', 'all'], '--users'],
      [['--rate', '-5'], '--rate'],
      [['--parts', '0'], '--parts'],
    ] as const) {
      const run = await gameday(['warmup', 'redis', 'rebuild', ...args]);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(flag);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('recover-redis-data after both Redis servers lost their data: never an empty list, exact at the end, then served from Redis', async () => {
    const lost = await gameday(['lab', 'lose-redis-data']);
    expect(lost.exitCode, lost.stderr).toBe(0);
    for (const h of lab.hostsOf('redis')) expect(await withRedis(lab.redisEndpoint(h), (r) => r.dbsize()), h.name).toBe(0);
    const truth = async (user: number) => Number((await rootQuery(lab, 'db-1', 'SELECT COUNT(*) AS n FROM notifications.notifications WHERE user_id = ? AND read_at IS NULL', [user]))[0].n);
    const unread = new Map(await Promise.all([42, 137, 299].map(async (u) => [u, await truth(u)] as const)));

    // A user's page every 100 ms through the app while the runbook works: the 2017 outage served empty lists here.
    const proxy = lab.hostsOf('proxy')[0];
    const samples: Array<{ user: number; source: string | null; count: number; unread: number }> = [];
    let reading = true;
    const reader = (async () => {
      for (let i = 0; reading; i++) {
        const user = [42, 137, 299][i % 3];
        const res = await fetch(`http://${proxy.address}:${proxy.services.http}/users/${user}/notifications?limit=10`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { unread: number; notifications: unknown[] };
        samples.push({ user, source: res.headers.get('x-read-source'), count: body.notifications.length, unread: body.unread });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const run = await gameday(['runbook', 'run', 'recover-redis-data', '--parts', '4', '--json']);
    await waitFor('reads from Redis again', async () => samples.at(-1)?.source === 'redis', 10_000);
    reading = false;
    await reader;
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).degraded).toEqual([]); // reads are back on Redis: nothing left degraded
    expect(samples.length).toBeGreaterThan(5);
    expect(samples[0].source).toBe('mariadb');
    for (const s of samples) expect([s.count, s.unread], `user ${s.user} from ${s.source}`).toEqual([10, unread.get(s.user)]);
    expect((await verifyAll()).code).toBe(0);

    // Redis is whole again: the runbook refuses, and says what to run instead.
    const again = await gameday(['runbook', 'run', 'recover-redis-data']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('was not lost');
    expect(again.stderr).toContain('--stale yes');
  }, 120_000);

  it('recover-redis-data --stale yes: a Redis back from an old dump is held cold and rebuilt to MariaDB\'s state', async () => {
    // An old dump: user 42's newest notification is missing and its counter is off.
    const newest = String((await rootQuery(lab, 'db-1', 'SELECT id FROM notifications.notifications WHERE user_id = 42 ORDER BY created_at DESC, id DESC LIMIT 1'))[0].id);
    await withRedis(primary(), async (r) => {
      await r.zrem(keys.ids(42), newest);
      await r.hdel(keys.data(42), newest);
      await r.set(keys.unread(42), '99');
    });
    expect((await verifyAll()).code).toBe(1);
    const run = await gameday(['runbook', 'run', 'recover-redis-data', '--stale', 'yes', '--parts', '2', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const steps = JSON.parse(run.stdout).steps as Array<{ id: string; status: string }>;
    expect(steps.map((s) => [s.id, s.status])).toEqual([['hold-cold', 'succeeded'], ['rebuild', 'succeeded']]);
    expect((await verifyAll()).code).toBe(0);
  }, 120_000);
});
