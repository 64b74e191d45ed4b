import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clusterOf, clusterPeers, loadInventory, parseInventory, replicationClusters, type InventoryInput } from '../../../topology/index.js';
import { fleetFromEnvironment, readSecret } from '../../../cli/wiring/fleetFromEnv.js';
import { mastersWatchedBy, redisEndpoint, replicationLoginOf, sentinelEndpoints, sentinelMasterOf } from '../../../runbooks/steps/fleet.js';
import { handOffPlan } from '../../../runbooks/steps/hostSteps.js';
import { errorOf } from '../../fixtures/errorOf.js';

const FIXTURE = 'test/fixtures/inventories/bookstore-2017.yaml';
const raw = (): InventoryInput => parse(readFileSync(FIXTURE, 'utf8'));
const inv = loadInventory(FIXTURE);
const host = (name: string) => inv.hosts.find((h) => h.name === name)!;


describe('replication clusters: several MariaDB clusters and Redis groups in one inventory', () => {
  it('finds the bookstore\'s two database clusters and two Redis groups, each with its own members and Sentinel master', () => {
    const clusters = replicationClusters(inv).map((c) => ({ name: c.name, kind: c.kind, hosts: c.hosts.map((h) => h.name), master: c.sentinelMaster, sentinels: c.sentinels.length }));
    expect(clusters).toEqual([
      { name: 'main', kind: 'mariadb', hosts: ['main-db-1', 'main-db-2', 'main-db-3'], master: undefined, sentinels: 0 },
      { name: 'publishing', kind: 'mariadb', hosts: ['pub-db-1', 'pub-db-2'], master: undefined, sentinels: 0 },
      { name: 'sessions', kind: 'redis', hosts: ['session-1', 'session-2'], master: 'sessions', sentinels: 3 },
      { name: 'notifications', kind: 'redis', hosts: ['notif-1', 'notif-2', 'notif-3'], master: 'notifications', sentinels: 3 },
    ]);
    expect(clusterPeers(inv, host('pub-db-1')).map((h) => h.name)).toEqual(['pub-db-2']);
    expect(clusterOf(inv, host('web-1'))).toBeUndefined();
  });

  it('groups tiers that name the same cluster (a cluster split over two tiers)', () => {
    const input = raw();
    input.tiers['pub-db'] = { ...input.tiers['pub-db'], cluster: 'main' };
    for (const h of input.hosts) if (h.name === 'pub-db-1') h.role = 'replica';
    const merged = parseInventory(input, 'merged.yaml');
    expect(clusterPeers(merged, merged.hosts.find((h) => h.name === 'main-db-1')!).map((h) => h.name)).toEqual(['main-db-2', 'main-db-3', 'pub-db-1', 'pub-db-2']);
  });

  it('hands each cluster off inside itself, and plans no hand-off for hosts that have no role', () => {
    expect(handOffPlan(inv, host('main-db-1'))?.title).toBe("switch main's MariaDB primary away from main-db-1 if it is the primary then (the inventory names it main's primary)");
    expect(handOffPlan(inv, host('main-db-1'))?.consequence).toContain('most caught-up of main-db-2, main-db-3');
    expect(handOffPlan(inv, host('pub-db-1'))?.consequence).toContain('most caught-up of pub-db-2');
    expect(handOffPlan(inv, host('notif-2'))?.title).toContain("notifications's Redis primary (Sentinel master notifications)");
    expect(handOffPlan(inv, host('session-1'))?.consequence).toContain('(session-2)');
    expect(handOffPlan(inv, host('db-proxy-1'))?.title).toBe("move db-proxy-1's clients to the other proxies");
    for (const name of ['web-1', 'api-2', 'storage-1', 'batch-1', 'sentinel-2']) expect(handOffPlan(inv, host(name))).toBeUndefined();
  });
});

describe('cluster logins: referenced by environment variable or file, never inline, never printed', () => {
  const env = { MAIN_DB_ADMIN_PASSWORD: 'm-admin', MAIN_DB_REPL_PASSWORD: 'm-repl', PUB_DB_ADMIN_PASSWORD: 'p-admin', SESSION_REDIS_PASSWORD: 's-pass', NOTIF_REDIS_PASSWORD: 'n-pass', SENTINEL_PASSWORD: 'sen-pass', GAMEDAY_SENTINEL_MASTER: 'ignored-when-named' };

  it('gives each cluster its own Sentinel master, Sentinels, Redis password and replication login', () => {
    const f = fleetFromEnvironment(inv, env);
    expect(sentinelMasterOf(f, inv, host('session-2'))).toBe('sessions');
    expect(sentinelMasterOf(f, inv, host('notif-1'))).toBe('notifications');
    expect(mastersWatchedBy(f, inv, host('sentinel-1'))).toEqual(['sessions', 'notifications']);
    expect(sentinelEndpoints(f, inv, host('notif-1'))).toEqual([1, 3, 5].map((r) => ({ host: `10.20.${r}.29`, port: 26379, password: 'sen-pass' })));
    expect(redisEndpoint(f, host('session-1')).password).toBe('s-pass');
    expect(redisEndpoint(f, host('notif-3'))).toEqual({ host: '10.20.5.22', port: 6380, password: 'n-pass' });
    expect(replicationLoginOf(f, host('main-db-2'))).toEqual({ user: 'repl', password: 'm-repl' });
  });

  it('reads a password file, and names the variable or file (not a value) when a secret is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gd-secret-'));
    try {
      const file = join(dir, 'pub-repl.password');
      writeFileSync(file, 'p-repl\n', { mode: 0o600 });
      const allowed = { GAMEDAY_SECRET_DIRS: dir };
      expect(readSecret({ file }, 'tiers.pub-db.replication.password', allowed)).toBe('p-repl');
      const missingFile = errorOf(() => readSecret({ file: join(dir, 'nope') }, 'tiers.pub-db.replication.password', allowed));
      expect(missingFile.code).toBe('SECRET_UNREADABLE');
      expect(missingFile.input).toBe('tiers.pub-db.replication.password');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const f = fleetFromEnvironment(inv, { ...env, NOTIF_REDIS_PASSWORD: undefined });
    const missing = errorOf(() => redisEndpoint(f, host('notif-1')));
    expect(missing.code).toBe('SECRET_MISSING');
    expect(missing.message).toBe('environment variable NOTIF_REDIS_PASSWORD is not set');
    expect(missing.input).toBe('tiers.notif-redis.password');
    expect(JSON.stringify(missing)).not.toContain('s-pass');
  });

  it('takes secrets only from the allow-list: never AWS_* variables, files only in the allowed folders and readable by their owner alone (before: any variable, any file, /proc/self/environ included)', () => {
    const aws = errorOf(() => readSecret({ env: 'AWS_SECRET_ACCESS_KEY' }, 'tiers.main-db.admin.password', { AWS_SECRET_ACCESS_KEY: 'k' }));
    expect(aws.code).toBe('SECRET_NOT_ALLOWED');
    expect(aws.message).toContain('AWS_* is never allowed');
    expect(errorOf(() => readSecret({ env: 'HOME' }, 'f', { HOME: '/root' })).code).toBe('SECRET_NOT_ALLOWED');
    expect(readSecret({ env: 'HOME' }, 'f', { HOME: '/root', GAMEDAY_SECRET_ENV: 'HOME' })).toBe('/root');
    expect(errorOf(() => readSecret({ file: '/proc/self/environ' }, 'f', {})).message).toContain('outside the folders secrets may come from');
    const dir = mkdtempSync(join(tmpdir(), 'gd-secret-'));
    try {
      const loose = join(dir, 'loose.password');
      writeFileSync(loose, 'x\n', { mode: 0o644 });
      expect(errorOf(() => readSecret({ file: loose }, 'f', { GAMEDAY_SECRET_DIRS: dir })).message).toContain('readable by others than its owner (mode 644)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a password written inline, saying how to reference it', () => {
    const input = raw();
    (input.tiers['main-db'] as Record<string, unknown>).admin = { user: 'gameday', password: 'hunter2' };
    const err = errorOf(() => parseInventory(input, 'bookstore.yaml'));
    expect(err.message).toContain('tiers.main-db.admin.password');
    expect(err.message).toContain('a secret is referenced, never inline: { env: VARIABLE } or { file: /path/to/file }');
    expect(err.message).not.toContain('hunter2');
  });

  it('refuses cluster fields on tiers of the wrong kind, and two clusters watched under one master name', () => {
    const wrongKind = raw();
    wrongKind.tiers['main-db'] = { ...wrongKind.tiers['main-db'], sentinelMaster: 'main' };
    expect(errorOf(() => parseInventory(wrongKind, 'x.yaml')).message).toContain('tiers.main-db.sentinelMaster: only for redis tiers (this tier is mariadb); remove it');
    const sameMaster = raw();
    sameMaster.tiers['notif-redis'] = { ...sameMaster.tiers['notif-redis'], sentinelMaster: 'sessions' };
    expect(errorOf(() => parseInventory(sameMaster, 'x.yaml')).message).toContain('Redis clusters sessions and notifications are both watched by sentinel-1 under the master name sessions');
    const notSentinels = raw();
    notSentinels.tiers['notif-redis'] = { ...notSentinels.tiers['notif-redis'], sentinels: 'web' };
    expect(errorOf(() => parseInventory(notSentinels, 'x.yaml')).message).toContain('tiers.notif-redis.sentinels: tier "web" is http, not sentinel');
  });
});

describe('the bookstore fleet planned for its 180-day reboots', () => {
  it('plans a switchover or failover inside each of its four clusters, and a summary that names them', async () => {
    const { requireRunbook } = await import('../../../runbooks/registry.js');
    const { planRun, renderPlan } = await import('../../../engine/index.js');
    const env = { MAIN_DB_ADMIN_PASSWORD: 'x', PUB_DB_ADMIN_PASSWORD: 'x', SESSION_REDIS_PASSWORD: 'x', NOTIF_REDIS_PASSWORD: 'x', SENTINEL_PASSWORD: 'x' };
    const upFor200Days = { kind: 'ssh' as const, uptimeSeconds: async () => 200 * 86_400, reboot: async () => {}, waitUntilBack: async () => {} };
    const fleet = { ...fleetFromEnvironment(inv, env), power: () => upFor200Days };
    const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d' }, { inventory: inv, env: { fleet } });
    const handOffs = view.steps.filter((s) => s.id.endsWith('/hand-off')).map((s) => s.title);
    for (const [cluster, primary] of [['main', 'main-db-1'], ['publishing', 'pub-db-1']]) {
      expect(handOffs).toContain(`switch ${cluster}'s MariaDB primary away from ${primary} if it is the primary then (the inventory names it ${cluster}'s primary)`);
    }
    expect(handOffs).toContain("hand sessions's Redis primary (Sentinel master sessions) away from session-1 if it is the primary then (the inventory names it sessions's primary)");
    expect(handOffs).toContain("hand notifications's Redis primary (Sentinel master notifications) away from notif-1 if it is the primary then (the inventory names it notifications's primary)");
    // Web, API, storage, batch and Sentinels have no role: no hand-off step.
    expect(view.steps.filter((s) => s.id.endsWith('/hand-off') && /^(web|api|storage|batch|sentinel)-/.test(s.target ?? ''))).toEqual([]);
    // Every host is planned, none refused; one zone, one member of each stateful cluster per wave.
    const plan = view.plan as { stale: string[]; refused: unknown[]; waves: Array<{ hosts: string[] }> };
    expect(plan.stale).toHaveLength(inv.hosts.length);
    expect(plan.refused).toEqual([]);
    for (const w of plan.waves) for (const c of replicationClusters(inv)) expect(w.hosts.filter((h) => c.hosts.some((x) => x.name === h)).length).toBeLessThanOrEqual(1);
    const text = renderPlan(view);
    expect(text).toContain(`${inv.hosts.length} hosts checked: ${inv.hosts.length} up 180d or longer`);
    expect(text).toContain('main-db-1: switch main\'s MariaDB primary away from main-db-1');
    expect(text).toContain('steps in all: add --all-steps to list them');
    expect(text).not.toContain('[action');
  });
});
