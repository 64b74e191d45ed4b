import { Redis } from 'ioredis';

export interface RedisEndpoint {
  host: string;
  port: number;
  /** requirepass of that server (a Sentinel has its own); never journaled or logged. */
  password?: string;
}

/** A short-lived connection that never retries: gates want an answer now, not later. */
export async function withRedis<T>(e: RedisEndpoint, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: e.host, port: e.port, password: e.password, lazyConnect: true, connectTimeout: 1000, commandTimeout: 2000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

function infoFields(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split('\r\n').filter((l) => l.includes(':') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );
}

export interface RedisReadiness {
  role: 'master' | 'slave';
  masterLinkUp: boolean;
  loading: boolean;
  syncInProgress: boolean;
  masterHost: string | null;
}

export async function redisReadiness(e: RedisEndpoint): Promise<RedisReadiness> {
  return withRedis(e, async (r) => {
    const repl = infoFields(await r.info('replication'));
    const persistence = infoFields(await r.info('persistence'));
    return {
      role: repl.role === 'master' ? 'master' : 'slave',
      masterLinkUp: repl.master_link_status === 'up',
      loading: persistence.loading === '1',
      syncInProgress: repl.master_sync_in_progress === '1',
      masterHost: repl.master_host ?? null,
    };
  });
}

/** A replica that can serve: linked to its primary and synced. A master is not a ready replica (whether it is the rightful primary is its Sentinels' to say). */
export function redisReplicaReady(r: RedisReadiness): { ok: boolean; detail: string } {
  if (r.role === 'master') return { ok: false, detail: 'a master, not a replica' };
  if (r.loading) return { ok: false, detail: 'loading its data' };
  if (!r.masterLinkUp) return { ok: false, detail: 'master_link_status down' };
  if (r.syncInProgress) return { ok: false, detail: 'full sync in progress' };
  return { ok: true, detail: 'replica, link up' };
}

/** The primary's address as one Sentinel sees it (null when it does not know). */
export async function sentinelPrimary(sentinel: RedisEndpoint, masterName: string): Promise<RedisEndpoint | null> {
  return withRedis(sentinel, async (r) => {
    const a = (await r.call('SENTINEL', 'get-master-addr-by-name', masterName)) as string[] | null;
    return a ? { host: a[0], port: Number(a[1]) } : null; // an address: the caller adds the data nodes' password
  });
}

/** Asks one Sentinel to fail over now (a graceful switchover: the old primary becomes a replica). */
export async function sentinelFailover(sentinel: RedisEndpoint, masterName: string): Promise<void> {
  await withRedis(sentinel, (r) => r.call('SENTINEL', 'FAILOVER', masterName));
}

/**
 * The primary that a majority of the Sentinels name now, or undefined when no
 * majority answers alike. What a Redis must agree with before it serves: a
 * server that restarts from a config naming it master would otherwise take
 * writes as a second primary until a Sentinel converts it.
 */
export async function sentinelMajorityPrimary(sentinels: RedisEndpoint[], masterName: string): Promise<RedisEndpoint | undefined> {
  const views = await Promise.all(sentinels.map((s) => sentinelPrimary(s, masterName).catch(() => null)));
  const votes = new Map<string, number>();
  for (const v of views) if (v) votes.set(`${v.host}:${v.port}`, (votes.get(`${v.host}:${v.port}`) ?? 0) + 1);
  const [best] = [...votes.entries()].sort((a, b) => b[1] - a[1]);
  if (!best || best[1] <= sentinels.length / 2) return undefined;
  const [host, port] = best[0].split(':');
  return { host, port: Number(port) };
}
