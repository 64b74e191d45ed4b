import { clusterPeers, type Host, type Inventory } from '../../topology/index.js';
import { mysqlReadiness, withConnection, type MysqlReadiness } from '../../drivers/mysql/readiness.js';
import { showServers } from '../../drivers/haproxy/runtime.js';
import type { ActionStep, WaitForStep } from '../../engine/types.js';
import { fleet, type FleetEnv } from './fleet.js';
import { dbHostAt, followProblems, writePoolsOf } from './primaryLoss.js';

/**
 * Under gameday's contract every MariaDB starts read-only (docs/boot-guards.md),
 * so a primary that restarts with no failover comes back refusing every write,
 * its replicas still following it. Giving it the writes back is safe only when
 * nothing else could be the primary: it replicates from no one, and every peer
 * answers, is read-only, and replicates from it. Anything else (a peer that
 * does not answer, a writable peer, a peer following someone else) is a doubt,
 * and a doubt is a refusal: that is failover-db's or rejoin-db's case.
 */
export interface StrandedPrimary {
  ok: boolean;
  why: string;
}

function followsHost(inv: Inventory, r: MysqlReadiness, host: Host): boolean {
  return r.replicating && r.masterHost !== null && (r.masterHost === host.name || dbHostAt(inv, r.masterHost, host.services.mysql)?.name === host.name);
}

export async function strandedPrimary(f: FleetEnv, inv: Inventory, host: Host): Promise<StrandedPrimary> {
  const self = await withConnection(f.mysql, host.name, mysqlReadiness).catch((e: Error) => e);
  if (self instanceof Error) return { ok: false, why: `${host.name} does not answer (${self.message})` };
  if (!self.readOnly) return { ok: false, why: `${host.name} is writable already` };
  if (self.replicating) return { ok: false, why: `${host.name} replicates from ${self.masterHost ?? 'a primary'}: it is a replica` };
  const peers = clusterPeers(inv, host);
  if (peers.length === 0) return { ok: false, why: `${host.name} has no peer to confirm that no other server is the primary` };
  for (const peer of peers) {
    const p = await withConnection(f.mysql, peer.name, mysqlReadiness).catch((e: Error) => e);
    if (p instanceof Error) return { ok: false, why: `whether ${peer.name} was promoted is unknown (${p.message})` };
    if (!p.readOnly) return { ok: false, why: `${peer.name} is writable: it may have been promoted (rejoin-db makes ${host.name} its replica)` };
    if (!followsHost(inv, p, host)) return { ok: false, why: `${peer.name} replicates from ${p.masterHost ?? 'no one'}, not from ${host.name}` };
  }
  return { ok: true, why: `read-only by its config, replicating from no one, and ${peers.map((p) => p.name).join(', ')} read-only and replicating from it` };
}

/** The step: checked again when it runs (the plan may be old), then SET GLOBAL read_only = OFF. */
export function reopenPrimaryStep(hostName: string): ActionStep {
  return {
    id: `${hostName}/reopen-primary`,
    kind: 'action',
    semantics: 'idempotent',
    title: `give ${hostName} its writes back (it restarted read-only, and is still its cluster's primary)`,
    describe: () => ({ target: hostName, inputs: {}, consequence: `${hostName} takes writes again; checked first that no peer is writable and every peer replicates from it` }),
    async run(ctx) {
      const f = fleet(ctx.env);
      const host = ctx.inventory.hosts.find((h) => h.name === hostName)!;
      const before = await withConnection(f.mysql, host.name, mysqlReadiness);
      if (!before.readOnly && !before.replicating) return ctx.note(`${hostName} is writable already`);
      const check = await strandedPrimary(f, ctx.inventory, host);
      if (!check.ok) throw new Error(`not giving ${hostName} its writes back: ${check.why}`);
      await withConnection(f.mysql, host.name, (c) => c.query('SET GLOBAL read_only = OFF'));
      await ctx.note(`${hostName} writable again: ${check.why}`);
    },
  };
}

/** Every proxy of every write pool it is in sends it the writes, alone: a proxy that does not answer is not yet a pass. */
export function writePoolsTakeItStep(hostName: string, timeoutMs: number): WaitForStep {
  return {
    id: `${hostName}/write-pools`,
    kind: 'wait-for',
    title: `wait until every proxy sends writes to ${hostName}`,
    what: `${hostName} UP with a passing health check in every write pool of every proxy, and no other server UP there`,
    intervalMs: 250,
    timeoutMs,
    consecutive: 2,
    async check(ctx) {
      const f = fleet(ctx.env);
      const problems: string[] = [];
      for (const pool of writePoolsOf(ctx.inventory, hostName)) {
        for (const proxy of pool.proxies) {
          const views = await showServers(f.haproxyEndpoint(proxy)).catch((e: Error) => e);
          if (views instanceof Error) problems.push(`${proxy.name}: runtime API does not answer (${views.message})`);
          else problems.push(...followProblems(views, `${proxy.name}/${pool.backend}`, pool.backend, hostName));
        }
      }
      return problems.length ? { ok: false, detail: problems.join('; ') } : { ok: true, detail: `${hostName} takes the writes in every write pool` };
    },
  };
}
