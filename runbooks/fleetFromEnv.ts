import { createConnection } from 'mysql2/promise';
import { GamedayError, type Inventory } from '../topology/index.js';
import { powerDriverFor } from '../drivers/power/index.js';
import type { FleetEnv } from './fleet.js';

/**
 * Fleet drivers for a hand-written or Pulumi inventory. Credentials come from
 * the environment (never from flags, so they stay out of shell history and
 * the journal): GAMEDAY_MYSQL_USER / GAMEDAY_MYSQL_PASSWORD (admin),
 * GAMEDAY_REPL_USER / GAMEDAY_REPL_PASSWORD, GAMEDAY_SENTINEL_MASTER,
 * GAMEDAY_L7CHECK_TOKEN, GAMEDAY_REDIS_PASSWORD, GAMEDAY_SENTINEL_PASSWORD. A proxy's runtime API is its `haproxy-admin` service (TCP).
 */
export function fleetFromEnvironment(inv: Inventory, env: NodeJS.ProcessEnv = process.env): FleetEnv {
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  return {
    power: (host) => powerDriverFor(host, {}),
    haproxyEndpoint: (proxy) => {
      const port = proxy.services['haproxy-admin'];
      if (port === undefined) {
        throw new GamedayError('NO_HAPROXY_ADMIN', `proxy ${proxy.name} has no haproxy-admin service`, `hosts.${proxy.name}.services`, 'add haproxy-admin: <port> (a "stats socket ipv4@…:<port> level admin" in haproxy.cfg)');
      }
      return { host: proxy.address, port };
    },
    mysql: (name) => {
      const host = byName.get(name)!;
      return createConnection({ host: host.address, port: host.services.mysql ?? 3306, user: env.GAMEDAY_MYSQL_USER ?? 'root', password: env.GAMEDAY_MYSQL_PASSWORD, connectTimeout: 3000 });
    },
    replication: { user: env.GAMEDAY_REPL_USER ?? 'repl', password: env.GAMEDAY_REPL_PASSWORD ?? '' },
    sentinelMasterName: env.GAMEDAY_SENTINEL_MASTER ?? 'mymaster',
    l7checkToken: env.GAMEDAY_L7CHECK_TOKEN,
    redisPassword: env.GAMEDAY_REDIS_PASSWORD || undefined,
    sentinelPassword: env.GAMEDAY_SENTINEL_PASSWORD || undefined,
  };
}
