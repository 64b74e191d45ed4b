import { Redis } from 'ioredis';
import type { RedisEndpoint } from '../../drivers/redis/readiness.js';
import { sampleEvery } from './sampleLoop.js';

export interface RedisPrimarySample {
  at: number;
  /** Servers that answered INFO as master. */
  masters: string[];
  /** Of those, the ones that took a probe write within the probe's timeout. */
  writable: string[];
  /** Servers that did not answer at all: unknown, neither master nor replica (a check counts them against its coverage). */
  unknown?: string[];
}

export interface RedisPrimariesReport {
  samples: number;
  /** Samples where two or more servers took writes as masters: a split brain. */
  twoWritable: RedisPrimarySample[];
  /** Samples where no server took a write (a write pause, or an outage). */
  noneWritable: number;
  /** The longest run of samples with no writable primary, in ms. */
  longestUnwritableMs: number;
  /** Every sample, oldest first (for timelines and game-day checks). */
  all: RedisPrimarySample[];
}

const PROBE_KEY = 'gameday:probe:writable';

/**
 * Role and writability of one server now, never later than a few timeouts:
 * an ioredis connect() can stay pending for good when its socket closes at
 * the wrong moment (a server coming back from a power loss), so the whole
 * probe races a hard deadline, and a probe that misses it has its client
 * torn down: left alone, that socket connected later and kept the process
 * alive after the game day had ended.
 */
type Probed = { master: boolean; writable: boolean; answered: boolean };

async function probe(e: RedisEndpoint, timeoutMs: number): Promise<Probed> {
  const r = new Redis({ host: e.host, port: e.port, password: e.password, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Probed>((resolve) => (timer = setTimeout(() => resolve({ master: false, writable: false, answered: false }), timeoutMs * 4)));
  try {
    return await Promise.race([probeOnce(r), deadline]);
  } finally {
    clearTimeout(timer);
    r.disconnect();
    (r as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }
}

async function probeOnce(r: Redis): Promise<Probed> {
  let role: string | undefined;
  try {
    await r.connect();
    role = (await r.info('replication')).match(/role:(\w+)/)?.[1];
  } catch {
    return { master: false, writable: false, answered: false };
  }
  try {
    if (role !== 'master') return { master: false, writable: false, answered: role !== undefined };
    // A paused primary (CLIENT PAUSE WRITE) holds this back: it is a master that takes no writes.
    const ok = await r.set(PROBE_KEY, String(Date.now()), 'PX', 60_000).then(() => true, () => false);
    return { master: true, writable: ok, answered: true };
  } catch {
    return { master: true, writable: false, answered: true };
  }
}

/**
 * Samples every Redis server every `intervalMs` (100 ms by default) until
 * stopped: which are masters, and which of those take a write. Two servers
 * taking writes in one sample is the split brain that loses acknowledged
 * writes. The probe key lives outside the application's key space.
 */
export function watchRedisPrimaries(servers: Array<RedisEndpoint & { name: string }>, intervalMs = 100, probeTimeoutMs = 80): { stop: () => Promise<RedisPrimariesReport>; samples: RedisPrimarySample[] } {
  const sampler = sampleEvery<RedisPrimarySample>(intervalMs, async (at) => {
    const results = await Promise.all(servers.map((s) => probe(s, probeTimeoutMs)));
    return {
      at,
      masters: servers.filter((_, i) => results[i].master).map((s) => s.name),
      writable: servers.filter((_, i) => results[i].writable).map((s) => s.name),
      unknown: servers.filter((_, i) => !results[i].answered).map((s) => s.name),
    };
  });
  const samples = sampler.samples;
  return {
    /** The samples so far (the same array: what a stop that hangs still has). */
    samples,
    async stop() {
      await sampler.stop();
      let longest = 0;
      let since: number | undefined;
      for (const s of samples) {
        if (s.writable.length === 0) {
          since ??= s.at;
          longest = Math.max(longest, s.at - since);
        } else since = undefined;
      }
      return {
        samples: samples.length,
        twoWritable: samples.filter((s) => s.writable.length > 1),
        noneWritable: samples.filter((s) => s.writable.length === 0).length,
        longestUnwritableMs: longest,
        all: samples,
      };
    },
  };
}
