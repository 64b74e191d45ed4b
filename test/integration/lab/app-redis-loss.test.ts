import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { labUp } from '../../../lab/up.js';
import { labDown } from '../../../lab/down.js';
import { openLab, type LabContext } from '../../../lab/context.js';
import { powerOff, powerOn } from '../../../lab/power.js';
import { SENTINEL_MASTER_NAME } from '../../../lab/layout.js';
import { sentinelMajorityPrimary } from '../../../drivers/redis/readiness.js';
import { appRedisOptions, SentinelRedis } from '../../../lab/app/redisClient.js';
import { http, rootQuery, waitFor } from '../helpers.js';
import { startRetryingClient } from '../retryingClient.js';

/**
 * Losing the Redis primary (and a Sentinel with it) flips the primary, so
 * these get a lab of their own (198.18.32.x).
 */
describe('the app through a Redis primary loss', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gameday-app-redis-')), 'lab');
  let lab: LabContext;
  const web = (proxy: string) => `http://${lab.host(proxy).address}:${lab.host(proxy).services.http}`;
  const app = (name: string) => `http://${lab.host(name).address}:${lab.host(name).services.http}`;
  const sentinels = () => lab.hostsOf('sentinel').map((s) => lab.redisEndpoint(s));
  const redisPrimary = async () => {
    const p = await sentinelMajorityPrimary(sentinels(), SENTINEL_MASTER_NAME);
    return lab.hostsOf('redis').find((h) => h.address === p?.host)!.name;
  };
  const clientOptions = (sentinelHosts: string[]) =>
    appRedisOptions({
      sentinels: sentinelHosts.map((s) => ({ host: lab.host(s).address, port: lab.host(s).services.sentinel })),
      name: SENTINEL_MASTER_NAME,
      password: lab.state.secrets.redisPassword,
      sentinelPassword: lab.state.secrets.sentinelPassword,
    });
  /** Every app instance serves reads from Redis again, and HAProxy has them all. */
  const backOnRedis = () =>
    waitFor('every app reading from Redis', async () => {
      const seen: string[] = [];
      for (const a of lab.hostsOf('app')) {
        const res = await fetch(`${app(a.name)}/users/3/notifications?limit=1`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        const source = res.headers.get('x-read-source');
        const stats = await (await fetch(`${app(a.name)}/monitor/stats`, { signal: AbortSignal.timeout(2000) })).json().catch(() => ({}));
        seen.push(`${a.name} reads from ${source} (client ${JSON.stringify((stats as { redisClient?: unknown }).redisClient)})`);
      }
      // Thrown, so that a timeout says which app is where (waitFor reports the last error).
      if (!seen.every((s) => s.includes('reads from redis'))) throw new Error(seen.join('; '));
      return true;
    }, 40_000);

  beforeAll(async () => {
    lab = await labUp({ dir, octet: 32, seed: { users: 300, notificationsPerUser: 10, readPercent: 50 } });
  });
  afterAll(async () => {
    const l = openLab(dir);
    if (l) await labDown(l);
  });

  it('a rack with the Redis primary and a proxy dies under load: a client retrying once on the other proxy sees under a second of errors and no duplicate', async () => {
    const primary = await redisPrimary();
    const rack = lab.host(primary).rack;
    // The lab's layout puts the first Redis primary in a rack with a proxy (a2: redis-1, proxy-1).
    expect(lab.inventory.hosts.filter((h) => h.rack === rack).map((h) => h.tier).sort()).toEqual(['proxy', 'redis']);
    const client = startRetryingClient({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 300, ratePerS: 40, timeoutMs: 500, titlePrefix: `rack ${rack}` });
    await sleep(3000);
    await powerOff(lab, rack);
    let report;
    try {
      await sleep(12_000);
    } finally {
      report = await client.stop();
      await powerOn(lab, rack);
    }
    const t0 = report.samples[0].at;
    const failed = report.failed.slice(0, 8).map((f) => ({ at: f.at - t0, kind: f.kind, tries: f.tries }));
    const summary = JSON.stringify({ byKind: report.byKind, errorWindowMs: report.errorWindowMs, failed });
    process.stderr.write(`rack ${rack} (Redis primary ${primary}) under load: ${summary}\n`);
    expect(report.errorWindowMs, summary).toBeLessThanOrEqual(1000);
    expect(report.samples.filter((s) => s.source === 'mariadb').length).toBeGreaterThan(0);
    const dup = await rootQuery(lab, 'db-1', "SELECT title, COUNT(*) AS n FROM notifications.notifications WHERE title LIKE ? GROUP BY title HAVING n > 1", [`rack ${rack} %`]);
    expect(dup).toEqual([]);
    await backOnRedis();
  }, 90_000);

  it('serves every read from MariaDB, in the same JSON, while the Redis primary is gone (X-Read-Source)', async () => {
    const user = 7;
    const before = await fetch(`${web('proxy-1')}/users/${user}/notifications?limit=10`);
    expect(before.headers.get('x-read-source')).toBe('redis');
    const expected = await before.json();
    expect(expected.notifications).toHaveLength(10);

    const primary = await redisPrimary();
    await powerOff(lab, primary);
    const sources = new Map<string, number>();
    const failures: string[] = [];
    const started = Date.now();
    try {
      // Past Sentinel's down-after (5 s) and the failover: the whole time reads would have failed.
      while (Date.now() - started < 9000) {
        const proxy = sources.size % 2 === 0 ? 'proxy-1' : 'proxy-2';
        const res = await fetch(`${web(proxy)}/users/${user}/notifications?limit=10`, { signal: AbortSignal.timeout(2000) }).catch((e: Error) => e);
        if (res instanceof Error || res.status !== 200) {
          failures.push(res instanceof Error ? res.message : String(res.status));
        } else {
          const source = res.headers.get('x-read-source')!;
          sources.set(source, (sources.get(source) ?? 0) + 1);
          const body = await res.json();
          expect(body, `served from ${source}`).toEqual(expected);
        }
        await sleep(100);
      }
      expect(failures).toEqual([]);
      expect(sources.get('mariadb') ?? 0).toBeGreaterThan(10);
      await backOnRedis();
    } finally {
      await powerOn(lab, primary);
    }
  }, 60_000);

  it('reproduces the ioredis 6.0.0 dead client: disconnect() while asking a dark Sentinel ends it for good', async () => {
    await powerOff(lab, 'sentinel-1');
    try {
      const plain = new Redis(clientOptions(['sentinel-1', 'sentinel-2', 'sentinel-3']));
      plain.on('error', () => {});
      expect(plain.status).toBe('connecting');
      plain.disconnect(true); // what the app's old watchdog did: "reconnect"
      await sleep(2500);
      expect(plain.status).toBe('end');
      await expect(plain.ping()).rejects.toThrow('Connection is closed.');

      // The app's client is replaced when that happens, and serves again.
      const kept = new SentinelRedis(clientOptions(['sentinel-1', 'sentinel-2', 'sentinel-3']), () => {});
      try {
        kept.current.disconnect(true);
        await waitFor('a replaced client that answers', async () => (await kept.current.ping()) === 'PONG', 10_000);
        expect(kept.replaced).toBe(1);
        // Its own reconnect leaves a client that is still connecting alone.
        const again = new SentinelRedis(clientOptions(['sentinel-1', 'sentinel-2', 'sentinel-3']), () => {});
        again.reconnect();
        await waitFor('a client that answers', async () => (await again.current.ping()) === 'PONG', 10_000);
        expect(again.replaced).toBe(0);
        again.close();
      } finally {
        kept.close();
      }
    } finally {
      await powerOn(lab, 'sentinel-1');
    }
  }, 60_000);

  it('keeps every app instance on Redis after a dark Sentinel and a lost primary come back, and its L7 check says so', async () => {
    const primary = await redisPrimary();
    await powerOff(lab, 'sentinel-1');
    await powerOff(lab, primary);
    // Requests meanwhile, so that the watchdogs have timeouts to react to.
    const client = startRetryingClient({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 300, ratePerS: 20, timeoutMs: 1000, titlePrefix: 'dark-sentinel' });
    await sleep(20_000);
    await powerOn(lab, primary);
    await powerOn(lab, 'sentinel-1');
    await client.stop();
    await backOnRedis();
    for (const a of ['app-1', 'app-2', 'app-3']) {
      const created = await http(`${app(a)}/users/5/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: `after the dark sentinel via ${a}`, body: 'b' }) });
      expect(created.status, a).toBe(201);
      const stats = await http(`${app(a)}/monitor/stats`);
      expect(stats.body.redisClient.status, a).toBe('ready');
      expect(stats.body.redisWrites.pending, a).toBe(0);
      const l7 = await http(`${app(a)}/monitor/l7check`);
      expect([l7.status, l7.body.redis], a).toEqual([200, 'ready']);
    }
  }, 90_000);

});
