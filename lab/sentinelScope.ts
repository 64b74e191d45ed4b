import { withRedis } from '../drivers/redis/readiness.js';
import { GamedayError } from '../core/errors.js';
import type { LabContext } from './context.js';
import { labSubnetPrefix, SENTINEL_MASTER_NAME } from './layout.js';

/**
 * Safety check: every Redis that a lab Sentinel knows (primary and replicas)
 * must be a lab address. A Sentinel that learned of another Redis (say the
 * machine's own on 127.0.0.1:6379) would reconfigure it at failover.
 * Returns the addresses found outside the lab.
 */
export async function sentinelStrays(lab: LabContext): Promise<string[]> {
  const prefix = `${labSubnetPrefix(lab.state.octet)}.`;
  const strays: string[] = [];
  for (const s of lab.hostsOf('sentinel')) {
    if (lab.state.poweredOff.includes(s.name)) continue;
    const ips = await withRedis(lab.redisEndpoint(s), async (r) => {
      const master = (await r.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)) as string[] | null;
      const replicas = (await r.call('SENTINEL', 'replicas', SENTINEL_MASTER_NAME)) as string[][];
      return [master?.[0], ...replicas.map((fields) => fields[fields.indexOf('ip') + 1])].filter((x): x is string => !!x);
    }).catch(() => [] as string[]); // an unreachable Sentinel knows nothing new
    strays.push(...ips.filter((ip) => !ip.startsWith(prefix)).map((ip) => `${s.name} knows ${ip}`));
  }
  return strays;
}

export async function assertSentinelScope(lab: LabContext): Promise<void> {
  const strays = await sentinelStrays(lab);
  if (strays.length > 0) {
    throw new GamedayError('LAB_SENTINEL_STRAY', `a lab Sentinel knows a Redis outside the lab: ${strays.join('; ')}`, lab.dir, 'run "gameday lab down" now; check the Redis configs under the lab folder');
  }
}
