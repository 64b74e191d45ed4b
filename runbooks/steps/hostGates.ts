import { setTimeout as sleep } from 'node:timers/promises';
import { clusterPeers, kindOf, type Host, type Inventory } from '../../topology/index.js';
import { showServers } from '../../drivers/haproxy/runtime.js';
import { mysqlReadiness, replicaReady, withConnection } from '../../drivers/mysql/readiness.js';
import { redisReadiness, redisReplicaReady, sentinelMajorityPrimary, sentinelPrimary, withRedis } from '../../drivers/redis/readiness.js';
import { mastersWatchedBy, membershipsOf, reachableAddress, redisEndpoint, sentinelEndpoint, sentinelEndpoints, sentinelMasterOf, type FleetEnv } from './fleet.js';

export type GateResult = { ok: boolean; detail: string };

/**
 * A MariaDB host is ready as a caught-up read-only replica, or as the one
 * writable server of its cluster: a writable replica takes any write sent
 * to it, and a second writable server (a former primary that restarted from
 * a writable my.cnf) would be put back in the write pool beside the new one.
 * A peer that does not answer is a doubt, and a doubt is not ready.
 */
async function mariadbReady(f: FleetEnv, inv: Inventory, host: Host, maxLagMs: number): Promise<GateResult> {
  const r = await withConnection(f.mysql, host.name, mysqlReadiness);
  if (r.replicating && !r.readOnly) return { ok: false, detail: 'a replica with read_only off: it takes any write sent to it (SET GLOBAL read_only = ON, or rejoin-db)' };
  if (r.replicating || r.readOnly) return replicaReady(r, maxLagMs);
  for (const peer of clusterPeers(inv, host)) {
    const p = await withConnection(f.mysql, peer.name, mysqlReadiness).catch((err: Error) => err);
    if (p instanceof Error) return { ok: false, detail: `writable, and whether ${peer.name} is writable too is unknown (${p.message})` };
    if (!p.readOnly) return { ok: false, detail: `writable beside ${peer.name}: two writable servers in one cluster lose writes; make ${host.name} a replica (rejoin-db) or read-only` };
  }
  return { ok: true, detail: 'the one writable primary of its cluster' };
}

/** A Redis host is ready as a synced replica, or as the primary a majority of its Sentinels names: a master they do not name is a second primary. */
async function redisReady(f: FleetEnv, inv: Inventory, host: Host): Promise<GateResult> {
  const r = await redisReadiness(redisEndpoint(f, host));
  if (r.role !== 'master') return redisReplicaReady(r);
  const named = await sentinelMajorityPrimary(sentinelEndpoints(f, inv, host), sentinelMasterOf(f, inv, host)).catch(() => undefined);
  const self = redisEndpoint(f, host);
  if (!named) return { ok: false, detail: 'answers as a master, and no majority of its Sentinels names a primary: not ready until they agree' };
  if (named.host !== self.host || named.port !== self.port) return { ok: false, detail: `answers as a master while its Sentinels name ${named.host}:${named.port}: a second primary; it must be a replica (REPLICAOF, or the boot guard)` };
  return { ok: true, detail: 'the primary its Sentinels name' };
}

/**
 * Is the host ready to take traffic again? Each kind of tier has its own test:
 * a db replica replicates with both threads and little lag; Redis is linked
 * and not loading; a Sentinel knows the primary and has its quorum; a proxy's
 * runtime API answers; an app instance answers its L7 check.
 */
export async function hostReady(f: FleetEnv, inv: Inventory, host: Host, maxLagMs: number): Promise<GateResult> {
  switch (kindOf(inv, host)) {
    case 'mariadb':
      return mariadbReady(f, inv, host, maxLagMs);
    case 'redis':
      return redisReady(f, inv, host);
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
