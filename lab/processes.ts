import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { GamedayError } from '../core/errors.js';
import { join } from 'node:path';
import { withRedis, type RedisEndpoint } from '../drivers/redis/readiness.js';
import { createConnection } from 'mysql2/promise';
import type { Host } from '../topology/index.js';
import { runtimeCommand } from '../drivers/haproxy/runtime.js';
import { NOTIFICATIONS_DB } from '../drivers/notificationStore.js';
import type { LabContext } from './context.js';
import { SENTINEL_MASTER_NAME } from './layout.js';
import { CLONE_MARKER, mariadbConfig, mariadbPaths } from './configs/mariadb.js';
import { secureRootFile } from './bootstrap.js';
import { redisConfig, redisPaths, sentinelConfig } from './configs/redis.js';
import { haproxyConfig, haproxyPaths } from './configs/haproxy.js';
import { hostBootedAt, type ProcessSpec } from './supervisor.js';
import { sshdSpec } from './sshd.js';
import { inHostNamespace } from './network.js';
import { nodeScriptArgs, PROJECT_ROOT } from '../core/paths.js';

export { PROJECT_ROOT };
/** Replicas lagging more than this are taken out of the read pool by their health agent. */
export const READ_POOL_MAX_LAG_MS = 3000;

async function pingRedis(endpoint: RedisEndpoint): Promise<boolean> {
  return (await withRedis(endpoint, (r) => r.ping())) === 'PONG';
}

async function httpAnswers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.body?.cancel();
  return true;
}

/** The server answers on its socket (refusing a login is an answer: a fresh datadir's root has no password yet). */
async function mariadbAnswers(lab: LabContext, socketPath: string): Promise<boolean> {
  try {
    const conn = await createConnection({ socketPath, user: 'root', password: lab.state.secrets.dbRootPassword, connectTimeout: 1000 });
    await conn.end();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR') return true;
    throw err;
  }
}


function mariadbSpecs(lab: LabContext, host: Host): ProcessSpec[] {
  const p = mariadbPaths(lab, host);
  const serverId = lab.hostsOf('db').indexOf(host) + 1;
  return [
    {
      id: `${host.name}/mariadbd`,
      prepare: async () => {
        mkdirSync(p.tmpdir, { recursive: true });
        mkdirSync(p.files, { recursive: true, mode: 0o700 });
        // The my.cnf as deployed, written from nothing but this host's own settings: no look at the rest of the lab decides a role.
        // With the guards every server starts read-only (the lab's seeding makes the first primary writable); without them the
        // deployed primary starts writable, as on a fleet whose my.cnf was written for the day it was installed.
        const startsWritable = !lab.state.guards && lab.initialDbPrimary.name === host.name;
        const secureRoot = secureRootFile(lab, host);
        const freshClone = existsSync(join(p.datadir, CLONE_MARKER));
        writeFileSync(p.cnf, mariadbConfig(lab, host, serverId, startsWritable, existsSync(secureRoot) ? secureRoot : undefined, !freshClone));
      },
      host: host.name,
      command: 'mariadbd',
      args: [`--defaults-file=${p.cnf}`],
      runAs: lab.state.serviceAccounts.mariadb,
      logFile: join(p.dir, 'mariadbd.out'),
      ready: () => mariadbAnswers(lab, p.socket),
    },
    {
      id: `${host.name}/health`,
      host: host.name,
      // `gameday agent db-health`, as deploy/systemd/gameday-db-health.service runs it on a fleet's db hosts.
      command: process.execPath,
      args: [join(PROJECT_ROOT, 'bin', 'gameday.js'), 'agent', 'db-health', '--listen', `${host.address}:${host.services['db-health']}`, '--socket', p.socket, '--max-lag', `${READ_POOL_MAX_LAG_MS}ms`],
      // In the environment, not on the command line, where any local user could read it.
      env: lab.state.secrets.dbRootPassword ? { GAMEDAY_DB_HEALTH_PASSWORD: lab.state.secrets.dbRootPassword, GAMEDAY_LOG_LEVEL: 'warn' } : { GAMEDAY_LOG_LEVEL: 'warn' },
      cwd: PROJECT_ROOT,
      logFile: join(p.dir, 'health.log'),
      ready: () => httpAnswers(`http://${host.address}:${host.services['db-health']}/`),
    },
  ];
}

function redisSpec(lab: LabContext, host: Host): ProcessSpec {
  const p = redisPaths(lab, host);
  const primary = lab.hostsOf('redis').find((h) => h.role === 'primary')!;
  return {
    id: `${host.name}/${host.tier === 'sentinel' ? 'sentinel' : 'redis'}`,
    // Redis and Sentinel rewrite their own config as roles change: written once, at the first boot (the deployment).
    // Every later boot of a Redis runs the boot guard a fleet runs (deploy/systemd/), unless the lab has none.
    prepare: async () => {
      if (!existsSync(p.conf)) {
        writeFileSync(p.conf, host.tier === 'sentinel' ? sentinelConfig(lab, host, primary) : redisConfig(lab, host, host === primary ? undefined : primary), { mode: 0o600 });
      } else if (host.tier === 'redis' && lab.state.guards) {
        await runRedisBootGuard(lab, host, p.conf);
      }
    },
    host: host.name,
    command: 'redis-server',
    runAs: lab.state.serviceAccounts.redis,
    args: host.tier === 'sentinel' ? [p.conf, '--sentinel'] : [p.conf],
    logFile: join(p.dir, `${host.tier}.out`),
    ready: () => pingRedis(lab.redisEndpoint(host)),
  };
}

function haproxySpec(lab: LabContext, host: Host): ProcessSpec {
  const p = haproxyPaths(lab, host);
  return {
    id: `${host.name}/haproxy`,
    prepare: () => writeFileSync(p.cfg, haproxyConfig(lab, host)),
    host: host.name,
    command: 'haproxy',
    runAs: lab.state.serviceAccounts.haproxy,
    args: ['-db', '-f', p.cfg],
    logFile: p.log,
    ready: async () => (await runtimeCommand(p.socket, 'show info', 1000)).includes('Name: HAProxy'),
  };
}

function appSpec(lab: LabContext, host: Host): ProcessSpec {
  const dir = lab.hostDir(host.name);
  const config = join(dir, 'app.json');
  const writeConfig = () => writeFileSync(
    config,
    JSON.stringify({
      name: host.name,
      listen: { host: host.address, port: host.services.http },
      sentinels: lab.hostsOf('sentinel').map((s) => ({ host: s.address, port: s.services.sentinel })),
      sentinelMasterName: SENTINEL_MASTER_NAME,
      redisPassword: lab.state.secrets.redisPassword,
      sentinelPassword: lab.state.secrets.sentinelPassword,
      proxies: lab.hostsOf('proxy').map((p) => ({ host: p.address, writePort: p.services['mysql-write'], readPort: p.services['mysql-read'] })),
      db: { user: 'app', password: lab.state.secrets.appDbPassword, database: NOTIFICATIONS_DB },
      l7checkToken: lab.state.secrets.l7checkToken,
    }),
    { mode: 0o600 },
  );
  return {
    id: `${host.name}/app`,
    prepare: writeConfig,
    host: host.name,
    command: process.execPath,
    args: nodeScriptArgs('lab/app/main.ts', config),
    cwd: PROJECT_ROOT,
    logFile: join(dir, 'app.log'),
    ready: () => httpAnswers(`http://${host.address}:${host.services.http}/monitor/l7check`),
  };
}

/** `gameday guard redis-boot`, exactly as the systemd drop-in runs it (deploy/systemd/redis-server.service.d/). */
async function runRedisBootGuard(lab: LabContext, host: Host, conf: string): Promise<void> {
  const sentinels = lab.hostsOf('sentinel').map((s) => `${s.address}:${s.services.sentinel}`).join(',');
  const args = [join(PROJECT_ROOT, 'bin', 'gameday.js'), 'guard', 'redis-boot', '--config', conf, '--address', `${host.address}:${host.services.redis}`, '--sentinels', sentinels, '--master-name', SENTINEL_MASTER_NAME];
  const env = lab.state.secrets.sentinelPassword ? { GAMEDAY_SENTINEL_PASSWORD: lab.state.secrets.sentinelPassword } : {};
  // On the host, as the systemd drop-in runs it there: it sees the Sentinels only through the host's own links.
  const run = inHostNamespace(lab.network.netns(host.name), process.execPath, args);
  const r = await execa(run.command, run.args, { reject: false, env: { ...process.env, ...env } });
  appendFileSync(join(redisPaths(lab, host).dir, 'boot-guard.log'), `${new Date().toISOString()} exit ${r.exitCode}: ${r.stdout}${r.stderr}\n`);
  if (r.exitCode !== 0) {
    throw new GamedayError('LAB_BOOT_GUARD', `${host.name}: redis-server not started, its boot guard said (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`, host.name, 'power it on again once a majority of the Sentinels answers');
  }
}

/** The processes that run on one lab host; nothing is written until a spec is prepared. */
export function processSpecsOf(lab: LabContext, host: Host): ProcessSpec[] {
  const netns = lab.network.netns(host.name);
  // A host with nothing running is booting now.
  const ssh = lab.state.power === 'ssh' ? [sshdSpec(lab.dir, host, lab.hostDir(host.name), hostBootedAt(lab, host.name) ?? Date.now())] : [];
  return [...ssh, ...specsOf(lab, host)].map((spec) => ({ ...spec, netns }));
}

function specsOf(lab: LabContext, host: Host): ProcessSpec[] {
  switch (host.tier) {
    case 'db':
      return mariadbSpecs(lab, host);
    case 'redis':
    case 'sentinel':
      return [redisSpec(lab, host)];
    case 'proxy':
      return [haproxySpec(lab, host)];
    case 'app':
      return [appSpec(lab, host)];
    default:
      return [];
  }
}
