import type { Inventory } from '../../topology/index.js';
import type { ResolvedFault } from '../../drivers/faults/types.js';
import type { ChecksSpec } from '../scenario/schema.js';
import { poolsOf } from '../record.js';
import { mariadbReadPools, readProxies, writeProxies } from '../probes/readMarkers.js';

/** Whether a check will judge this game day, decided from the plan: the faults' hosts and their roles. */
export interface PlannedCheck {
  id: string;
  /** yes: it will judge the run; if: only when the condition in `why` holds when the fault lands; no: it does not apply; off: the scenario turned it off. */
  applies: 'yes' | 'if' | 'no' | 'off';
  why: string;
}

const ORDER: Array<[keyof ChecksSpec, string]> = [
  ['leavePools', 'dead-servers-leave-pools'],
  ['redisFailover', 'redis-failover'],
  ['writesResume', 'writes-resume'],
  ['readsResume', 'reads-resume'],
  ['oneWritablePrimary', 'one-writable-primary'],
  ['noStaleReads', 'no-stale-reads'],
  ['noLostWrites', 'no-lost-writes'],
  ['errorBudget', 'error-budget'],
];

const downsServers = (f: ResolvedFault) => f.type === 'power-off' || (f.type === 'kill-process' && f.service !== 'sentinel' && f.service !== 'redis');
const downsRedis = (f: ResolvedFault) => f.type === 'power-off' || (f.type === 'kill-process' && f.service === 'redis');

/** Every check in the order the report lists them, with whether it applies to these faults and why. */
export function plannedChecks(inv: Inventory, faults: ResolvedFault[], spec: ChecksSpec): PlannedCheck[] {
  const hasRedis = (h: string) => 'redis' in (inv.hosts.find((x) => x.name === h)?.services ?? {});
  const judge: Record<string, () => Omit<PlannedCheck, 'id'>> = {
    'dead-servers-leave-pools': () => {
      const left = faults.filter(downsServers).flatMap((f) => f.hosts.flatMap((h) => poolsOf(inv, h).filter((m) => m.proxies.some((p) => !f.hosts.includes(p))).map((m) => `${h} from ${m.pool}`)));
      return left.length ? { applies: 'yes', why: `must leave: ${left.join(', ')}` } : { applies: 'no', why: 'no fault takes down a server of a pool that a live proxy still serves' };
    },
    'redis-failover': () => {
      const live = faults.find((f) => downsRedis(f) && f.livePrimaryOf !== undefined && inv.tiers[f.livePrimaryOf]?.kind === 'redis');
      if (live) return { applies: 'yes', why: 'the fault takes the Redis primary the Sentinels name when the run starts' };
      const redis = [...new Set(faults.filter(downsRedis).flatMap((f) => f.hosts.filter(hasRedis)))];
      return redis.length ? { applies: 'if', why: `if ${redis.join(' or ')} is the Redis primary when the fault lands (read from the Redis samples of the 2 s before)` } : { applies: 'no', why: 'no fault takes a Redis server down' };
    },
    'writes-resume': () => (faults.length ? { applies: 'yes', why: 'after each fault' } : { applies: 'no', why: 'no fault' }),
    'reads-resume': () => (faults.length ? { applies: 'yes', why: 'after each fault' } : { applies: 'no', why: 'no fault' }),
    'one-writable-primary': () => ({ applies: 'yes', why: 'every sample of the run' }),
    'no-stale-reads': () => {
      if (mariadbReadPools(inv).length === 0) return { applies: 'no', why: 'no read pool of MariaDB replicas in the inventory' };
      const blind = readProxies(inv).filter((p) => p.services['mysql-read'] === undefined).map((p) => p.name);
      const noWrite = writeProxies(inv).length === 0;
      if (blind.length || noWrite) return { applies: 'yes', why: `but it will be inconclusive: ${[blind.length ? `${blind.join(', ')} ${blind.length > 1 ? 'have' : 'has'} no mysql-read service to read through` : '', noWrite ? 'no proxy has a mysql-write service to write markers through' : ''].filter(Boolean).join('; ')}` };
      return { applies: 'yes', why: 'every read-marker read of the run' };
    },
    'no-lost-writes': () => ({ applies: 'yes', why: 'every acknowledged write, looked up at the end' }),
    'error-budget': () => ({ applies: 'yes', why: 'every request after the warm-up' }),
  };
  return ORDER.map(([key, id]) => (spec[key] === false ? { id, applies: 'off', why: 'turned off by the scenario' } : { id, ...judge[id]() }));
}
