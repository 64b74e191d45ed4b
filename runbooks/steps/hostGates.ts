import { setTimeout as sleep } from 'node:timers/promises';
import { kindOf, type Host, type Inventory } from '../../topology/index.js';
import { showServers } from '../../drivers/haproxy/runtime.js';
import { mysqlReadiness, replicaReady, withConnection } from '../../drivers/mysql/readiness.js';
import { redisReadiness, redisReplicaReady, sentinelPrimary, withRedis } from '../../drivers/redis/readiness.js';
import { mastersWatchedBy, membershipsOf, reachableAddress, redisEndpoint, sentinelEndpoint, type FleetEnv } from './fleet.js';

export type GateResult = { ok: boolean; detail: string };

/**
 * Is the host ready to take traffic again? Each kind of tier has its own test:
 * a db replica replicates with both threads and little lag; Redis is linked
 * and not loading; a Sentinel knows the primary and has its quorum; a proxy's
 * runtime API answers; an app instance answers its L7 check.
 */
export async function hostReady(f: FleetEnv, inv: Inventory, host: Host, maxLagMs: number): Promise<GateResult> {
  switch (kindOf(inv, host)) {
    case 'mariadb': {
      const r = await withConnection(f.mysql, host.name, mysqlReadiness);
      if (!r.readOnly && !r.replicating) return { ok: true, detail: 'writable primary' };
      return replicaReady(r, maxLagMs);
    }
    case 'redis':
      return redisReplicaReady(await redisReadiness(redisEndpoint(f, host)));
    case 'sentinel': {
      // A Sentinel is ready once it knows every primary it watches and has its quorum for each.
      const details: string[] = [];
      for (const master of mastersWatchedBy(f, inv, host)) {
        const primary = await sentinelPrimary(sentinelEndpoint(f, host), master);
        if (!primary) return { ok: false, detail: `does not know the primary of ${master} yet` };
        const quorum = await withRedis(sentinelEndpoint(f, host), (r) => r.call('SENTINEL', 'CKQUORUM', master).then(String, (e: Error) => e.message));
        if (!quorum.startsWith('OK')) return { ok: false, detail: `${master}: ${quorum}` };
        details.push(`${master}: ${quorum}`);
      }
      return { ok: true, detail: details.join('; ') };
    }
    case 'haproxy': {
      const servers = await showServers(f.haproxyEndpoint(host));
      return { ok: servers.length > 0, detail: `runtime API answers, ${servers.filter((s) => s.status === 'UP').length} servers UP` };
    }
    default: {
      const port = host.services.http;
      if (port === undefined) return { ok: true, detail: 'no readiness test for this tier: back is ready' };
      const address = await reachableAddress(f, host);
      const res = await fetch(`http://${address}:${port}/monitor/l7check`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return { ok: res.status === 200, detail: `l7check ${res.status}` };
    }
  }
}

/** Sessions every proxy still has open to this server (over all its pools). */
export async function openSessions(f: FleetEnv, inv: Inventory, host: Host): Promise<number> {
  let total = 0;
  for (const m of membershipsOf(inv, host.name)) {
    for (const proxy of m.proxies) {
      const views = await showServers(f.haproxyEndpoint(proxy)).catch(() => []);
      total += views.filter((v) => v.backend === m.backend && v.server === host.name).reduce((n, v) => n + v.currentSessions, 0);
    }
  }
  return total;
}

export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal });
}
