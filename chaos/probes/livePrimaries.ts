import type { Inventory } from '../../topology/index.js';
import { sentinelMajorityPrimary } from '../../drivers/redis/readiness.js';
import { mysqlReadiness } from '../../drivers/mysql/readiness.js';
import type { LivePrimaries } from '../faults/resolve.js';
import type { ProbeAccess } from './fleetSampler.js';
import { connectWithin, within } from './deadline.js';

const TIMEOUT_MS = 3000;

/** The one server of a MariaDB tier that takes writes and replicates from no one; unknown when a server is silent or there is not exactly one. */
async function mariadbPrimary(inv: Inventory, tier: string, access: ProbeAccess): Promise<LivePrimaries[string]> {
  const hosts = inv.hosts.filter((h) => h.tier === tier && 'mysql' in h.services);
  const seen = await Promise.all(
    hosts.map(async (h) => {
      try {
        const c = await connectWithin(() => access.mysql(h.name), TIMEOUT_MS);
        try {
          const r = await within(mysqlReadiness(c), TIMEOUT_MS);
          return { name: h.name, writer: !r.readOnly, replicating: r.replicating };
        } finally {
          c.destroy();
        }
      } catch {
        return { name: h.name, silent: true };
      }
    }),
  );
  const silent = seen.filter((s) => 'silent' in s).map((s) => s.name);
  if (silent.length) return { unknown: `${silent.join(', ')} did not answer, so which server takes writes is not known` };
  const writers = seen.filter((s) => 'writer' in s && s.writer);
  if (writers.length !== 1) return { unknown: `${writers.length} servers take writes (${writers.map((w) => w.name).join(', ') || 'none'})` };
  if ('replicating' in writers[0] && writers[0].replicating) return { unknown: `${writers[0].name} takes writes but replicates from another server` };
  // A replica is read-only and replicates (a read-only server with no replication is no replica: a stop-replication on it does nothing).
  const replicas = seen.filter((s) => 'writer' in s && !s.writer && s.replicating).map((s) => s.name);
  return { host: writers[0].name, replicas };
}

/** The Redis primary a majority of the Sentinels names; unknown without a majority. */
async function redisPrimary(inv: Inventory, tier: string, access: ProbeAccess): Promise<LivePrimaries[string]> {
  const sentinels = access.sentinels;
  if (!sentinels || sentinels.endpoints.length === 0) return { unknown: 'no Sentinel to ask' };
  const named = await within(sentinelMajorityPrimary(sentinels.endpoints, sentinels.masterName), TIMEOUT_MS).catch(() => undefined);
  const host = named && inv.hosts.find((h) => h.tier === tier && h.address === named.host && h.services.redis === named.port)?.name;
  return host ? { host } : { unknown: named ? `the Sentinels' majority names ${named.host}:${named.port}, which is no ${tier} host` : `no majority of the ${sentinels.endpoints.length} Sentinels names one ${tier} server` };
}

/** The live primary of each tier named, as the fleet says it now: MariaDB's read_only, Redis by its Sentinels. */
export async function livePrimaries(inv: Inventory, tiers: string[], access: ProbeAccess): Promise<LivePrimaries> {
  const out: LivePrimaries = {};
  for (const tier of tiers) {
    const kind = inv.tiers[tier]?.kind;
    out[tier] = kind === 'mariadb' ? await mariadbPrimary(inv, tier, access) : kind === 'redis' ? await redisPrimary(inv, tier, access) : { unknown: `tier ${tier} is ${kind ?? 'not in the inventory'}: only mariadb and redis tiers have a primary` };
  }
  return out;
}
