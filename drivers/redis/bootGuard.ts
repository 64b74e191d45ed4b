import { chownSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sentinelPrimary, type RedisEndpoint } from './readiness.js';

/**
 * The Redis boot guard (docs/boot-guards.md), run before redis-server starts
 * (systemd ExecStartPre; the lab runs the same command): a former primary
 * restarts from its own config as a master, and takes writes beside the
 * promoted one until a Sentinel converts it (9.6–12.6 s measured on the lab).
 * The guard asks the Sentinels first and writes the replicaof line they imply.
 */
export type BootDecision =
  | { start: 'master'; why: string }
  | { start: 'replica'; of: { host: string; port: number }; why: string }
  | { start: 'refused'; why: string };

type Address = { host: string; port: number };
const key = (a: Address) => `${a.host}:${a.port}`;

/** The replicaof (or slaveof) line of a Redis config, if any. */
export function replicaOfIn(conf: string): Address | undefined {
  const line = conf.split('\n').find((l) => /^\s*(replicaof|slaveof)\s/i.test(l));
  if (!line) return undefined;
  const [, host, port] = line.trim().split(/\s+/);
  return host && Number(port) ? { host: host.replace(/^"|"$/g, ''), port: Number(port) } : undefined;
}

/** A Redis config with its replicaof line set to `primary` (removed when it is the primary itself). */
export function withReplicaOf(conf: string, primary: Address | undefined): string {
  const lines = conf.split('\n').filter((l) => !/^\s*(replicaof|slaveof)\s/i.test(l));
  if (primary) lines.push(`replicaof ${primary.host} ${primary.port}`);
  return lines.join('\n');
}

/** What each Sentinel names as the primary now (null: no answer, or it does not know the name). */
async function sentinelViews(sentinels: RedisEndpoint[], masterName: string): Promise<Array<Address | null>> {
  return Promise.all(sentinels.map((s) => sentinelPrimary(s, masterName).catch(() => null)));
}

/**
 * The rule: start as a master only when a majority of the Sentinels names this
 * server; as a replica of the one a majority names; with no majority, as the
 * replica the config already says, or of the primary an answering Sentinel
 * names; a master config that nobody confirms is refused (never a master on a doubt).
 */
export function decide(conf: string, self: Address, sentinelCount: number, views: Array<Address | null>): BootDecision {
  const votes = new Map<string, { at: Address; n: number }>();
  for (const v of views) if (v) votes.set(key(v), { at: v, n: (votes.get(key(v))?.n ?? 0) + 1 });
  const [best] = [...votes.values()].sort((a, b) => b.n - a.n);
  const answered = views.filter(Boolean).length;
  if (best && best.n > sentinelCount / 2) {
    const why = `${best.n} of ${sentinelCount} Sentinels name ${key(best.at)}`;
    return key(best.at) === key(self) ? { start: 'master', why } : { start: 'replica', of: best.at, why };
  }
  const configured = replicaOfIn(conf);
  if (configured) return { start: 'replica', of: configured, why: `no majority of the ${sentinelCount} Sentinels answers alike (${answered} answered); stays a replica of ${key(configured)}, as its config says` };
  const other = [...votes.values()].find((v) => key(v.at) !== key(self));
  if (other) return { start: 'replica', of: other.at, why: `no majority of the ${sentinelCount} Sentinels answers alike; ${other.n} names ${key(other.at)}, so it starts as its replica, never as a second master` };
  return { start: 'refused', why: `its config starts it as a master, and no majority of the ${sentinelCount} Sentinels names it (${answered} answered): not starting a master on a doubt` };
}

/** Asks the Sentinels, waiting up to `waitMs` for a majority when the config would start a master. */
export async function bootDecision(conf: string, self: Address, sentinels: RedisEndpoint[], masterName: string, waitMs: number): Promise<BootDecision> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const d = decide(conf, self, sentinels.length, await sentinelViews(sentinels, masterName));
    if (d.start !== 'refused' || Date.now() >= deadline) return d;
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
}

/** Writes the decision into the config file in one rename, keeping its owner and mode (redis-server rewrites it later). */
export function applyDecision(path: string, conf: string, d: BootDecision): boolean {
  if (d.start === 'refused') return false;
  const next = withReplicaOf(conf, d.start === 'replica' ? d.of : undefined);
  if (next === conf) return false;
  const st = statSync(path);
  const tmp = `${path}.gameday-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, next, { mode: st.mode & 0o7777 });
  try {
    chownSync(tmp, st.uid, st.gid);
  } catch {
    // Not root: the file is the caller's own already.
  }
  renameSync(tmp, path);
  return true;
}
