import { readFileSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import { type Credentials, type Host, type Inventory, type SecretRef } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { powerDrivers, type DriverFlags } from './powerWiring.js';
import { checkSecretFile, checkSecretVariable } from './secretPolicy.js';
import type { FleetEnv } from '../../runbooks/steps/fleet.js';

/**
 * Fleet drivers for a hand-written or Pulumi inventory. Credentials never
 * come from flags (shell history, the journal): a tier names its own logins
 * as secret references (`admin`, `replication`, `password`: { env } or
 * { file }), else the fleet's defaults come from the environment:
 * GAMEDAY_MYSQL_USER / GAMEDAY_MYSQL_PASSWORD (admin),
 * GAMEDAY_REPL_USER / GAMEDAY_REPL_PASSWORD, GAMEDAY_SENTINEL_MASTER,
 * GAMEDAY_L7CHECK_TOKEN, GAMEDAY_REDIS_PASSWORD, GAMEDAY_SENTINEL_PASSWORD,
 * GAMEDAY_PROBE_USER / GAMEDAY_PROBE_PASSWORD (the game days' read-marker
 * probe, through the proxies' mysql-write and mysql-read frontends).
 * A proxy's runtime API is its `haproxy-admin` service (TCP).
 * Secrets are read when first needed, and never printed: errors name the
 * variable or file, not the value.
 */
export function fleetFromEnvironment(inv: Inventory, env: NodeJS.ProcessEnv = process.env, driverFlags: DriverFlags = {}): FleetEnv {
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  const secret = (ref: SecretRef, field: string): string => readSecret(ref, field, env);
  const login = (host: Host, which: 'admin' | 'replication'): Credentials | undefined => inv.tiers[host.tier]?.[which];
  const tierPassword = (host: Host) => {
    const ref = inv.tiers[host.tier]?.password;
    return ref ? secret(ref, `tiers.${host.tier}.password`) : undefined;
  };
  return {
    power: powerDrivers(inv, env, driverFlags),
    haproxyEndpoint: (proxy) => {
      const port = proxy.services['haproxy-admin'];
      if (port === undefined) {
        throw new GamedayError('NO_HAPROXY_ADMIN', `proxy ${proxy.name} has no haproxy-admin service`, `hosts.${proxy.name}.services`, 'add haproxy-admin: <port> (a "stats socket ipv4@…:<port> level admin" in haproxy.cfg)');
      }
      return { host: proxy.address, port };
    },
    mysql: (name) => {
      const host = byName.get(name)!;
      const admin = login(host, 'admin');
      return createConnection({
        host: host.address,
        port: host.services.mysql ?? 3306,
        user: admin?.user ?? (env.GAMEDAY_MYSQL_USER || 'root'),
        password: admin?.password ? secret(admin.password, `tiers.${host.tier}.admin.password`) : env.GAMEDAY_MYSQL_PASSWORD,
        connectTimeout: 3000,
      });
    },
    // The read-marker probe logs in through the proxies as a client would: GAMEDAY_PROBE_USER, else the first db tier's admin login.
    mysqlThroughProxy: (proxy, service) => {
      const dbHost = inv.hosts.find((h) => 'mysql' in h.services);
      const admin = dbHost ? login(dbHost, 'admin') : undefined;
      const port = proxy.services[service];
      if (port === undefined) throw new GamedayError('NO_POOL_FRONTEND', `proxy ${proxy.name} has no ${service} service`, `hosts.${proxy.name}.services`, `add ${service}: <port> (the HAProxy frontend of that pool)`);
      return createConnection({
        host: proxy.address,
        port,
        user: env.GAMEDAY_PROBE_USER || admin?.user || env.GAMEDAY_MYSQL_USER || 'root',
        password: env.GAMEDAY_PROBE_USER ? env.GAMEDAY_PROBE_PASSWORD : admin?.password ? secret(admin.password, `tiers.${dbHost!.tier}.admin.password`) : env.GAMEDAY_MYSQL_PASSWORD,
        database: 'gameday',
        connectTimeout: 3000,
      });
    },
    replication: { user: env.GAMEDAY_REPL_USER || 'repl', password: env.GAMEDAY_REPL_PASSWORD ?? '' },
    replicationOf: (host) => {
      const repl = login(host, 'replication');
      if (!repl) return undefined;
      return { user: repl.user ?? (env.GAMEDAY_REPL_USER || 'repl'), password: repl.password ? secret(repl.password, `tiers.${host.tier}.replication.password`) : (env.GAMEDAY_REPL_PASSWORD ?? '') };
    },
    sentinelMasterName: env.GAMEDAY_SENTINEL_MASTER || 'mymaster',
    l7checkToken: env.GAMEDAY_L7CHECK_TOKEN,
    redisPassword: env.GAMEDAY_REDIS_PASSWORD || undefined,
    sentinelPassword: env.GAMEDAY_SENTINEL_PASSWORD || undefined,
    redisPasswordOf: (host) => tierPassword(host),
    sentinelPasswordOf: (host) => tierPassword(host),
  };
}

/** A secret's value, from the environment variable or file the inventory names. */
export function readSecret(ref: SecretRef, field: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    checkSecretVariable(ref.env, field, env);
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new GamedayError('SECRET_MISSING', `environment variable ${ref.env} is not set`, field, `export ${ref.env}=… in the environment gameday runs in (the inventory references it, never holds it)`);
    }
    return value;
  }
  checkSecretFile(ref.file, field, env);
  try {
    return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new GamedayError('SECRET_UNREADABLE', `cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, field, 'create the file, readable by the user gameday runs as (mode 0600)');
  }
}
