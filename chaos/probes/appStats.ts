import { request } from 'undici';
import type { Inventory } from '../../topology/index.js';
import { sampleEvery } from './sampleLoop.js';

/** One app instance's Redis write counters (GET /monitor/stats), or null when it did not answer. */
export interface AppStatsSample {
  at: number;
  /** app instance -> its counters since it started. */
  apps: Record<string, AppRedisWrites | null>;
}

export interface AppRedisWrites {
  /** Writes that reached Redis: at the first try, after retries, or by the repair of its queue. */
  landed: number;
  /** Writes waiting in its queue for Redis to come back. */
  pending: number;
}

/** The app instances of an inventory: hosts with an http service that no pool lists as a proxy (a proxy's http is its frontend). */
export function appInstances(inv: Inventory): Array<{ name: string; address: string; port: number }> {
  const proxies = new Set(inv.pools.flatMap((p) => p.proxies));
  return inv.hosts.filter((h) => h.services.http !== undefined && !proxies.has(h.name)).map((h) => ({ name: h.name, address: h.address, port: h.services.http! }));
}

async function statsOf(app: { address: string; port: number }, timeoutMs: number): Promise<AppRedisWrites | null> {
  try {
    const res = await request(`http://${app.address}:${app.port}/monitor/stats`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    // The reference app answers { instance, redisWrites: { applied, retried, queued, repaired, pending }, redisClient }.
    const body = (await res.body.json()) as { redisWrites?: { applied?: number; retried?: number; repaired?: number; pending?: number } };
    const s = body.redisWrites;
    if (!s || typeof s.applied !== 'number' || typeof s.pending !== 'number') return null;
    return { landed: s.applied + (s.retried ?? 0) + (s.repaired ?? 0), pending: s.pending };
  } catch {
    return null;
  }
}

/**
 * Samples every app instance's Redis write counters every `intervalMs`
 * until stopped: what the redis-failover check reads to see each app's
 * writes reach the new primary (an HTTP 201 proves nothing: the app answers
 * it when the write was only queued).
 */
export function watchAppStats(inv: Inventory, intervalMs = 500): { samples: AppStatsSample[]; stop(): Promise<AppStatsSample[]> } {
  const apps = appInstances(inv);
  return sampleEvery(intervalMs, async (at) => {
    const got = await Promise.all(apps.map((a) => statsOf(a, Math.floor(intervalMs * 0.8))));
    return { at, apps: Object.fromEntries(apps.map((a, i) => [a.name, got[i]])) };
  }, apps.length > 0);
}
