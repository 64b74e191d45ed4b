import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { sentinelFailover, sentinelMajorityPrimary, sentinelPrimary, withRedis, type RedisEndpoint } from './readiness.js';

export interface RedisHandOffTarget {
  oldPrimary: RedisEndpoint;
  sentinels: RedisEndpoint[];
  masterName: string;
}

export interface RedisHandOffResult {
  newPrimary: RedisEndpoint;
  /** The old primary's replication offset when writes stopped; every replica had it before the failover. */
  offset: number;
  /** How long the old primary held writes back, from CLIENT PAUSE to CLIENT UNPAUSE. */
  writePauseMs: number;
  /** Of which: waiting for the replicas to reach the offset. */
  catchUpMs: number;
  /** Of which: from SENTINEL FAILOVER to the replica answering as primary. */
  promotionMs: number;
  /** From SENTINEL FAILOVER until every reachable Sentinel names the new primary. */
  sentinelsAgreeMs: number;
}

function field(info: string, name: string): string | undefined {
  return info.split('\r\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1);
}

/**
 * Every replica linked to a primary (INFO replication), whatever its state:
 * Sentinel may promote one that is still syncing, so the hand-off waits for
 * every one of them, not only the `online` ones.
 */
function replicasOf(info: string): RedisEndpoint[] {
  return info
    .split('\r\n')
    .filter((l) => /^slave\d+:/.test(l))
    .map((l) => Object.fromEntries(l.slice(l.indexOf(':') + 1).split(',').map((kv) => kv.split('=') as [string, string])))
    .map((r) => ({ host: r.ip, port: Number(r.port) }));
}

/** How long before the pause would end the hand-off renews it or gives up: the slowest single call (a command timeout) fits in it. */
const PAUSE_MARGIN_MS = 3000;

function withPassword(e: RedisEndpoint, password: string | undefined): RedisEndpoint {
  return password === undefined ? e : { ...e, password };
}

async function roleOf(e: RedisEndpoint): Promise<string | undefined> {
  return withRedis(e, async (r) => field(await r.info('replication'), 'role')).catch(() => undefined);
}

/**
 * A lossless planned hand-off of a Redis primary under Sentinel. SENTINEL
 * FAILOVER alone lets the old primary acknowledge writes until Sentinel's
 * next round demotes it, and its resync then drops them. So:
 * 0. before anything, wait until the Sentinel it will ask sees a replica it
 *    could promote (linked, not down): a Sentinel refreshes what a replica
 *    reports every 10 s, and until then refuses with NOGOODSLAVE (a replica
 *    rebooted by the wave before);
 * 1. CLIENT PAUSE WRITE on the old primary: writes (and scripts) wait, replication goes on;
 * 2. wait until every replica has acknowledged the old primary's offset;
 * 3. SENTINEL FAILOVER, and wait for the replica to answer as primary;
 * 4. make the old primary a replica of the new one at once (REPLICAOF, CONFIG
 *    REWRITE so that a restart keeps it a replica), drop its clients so they
 *    ask Sentinel again, and only then lift the pause: the writes that waited
 *    meet a replica (READONLY) and are resent to the new primary.
 * The pause has its own timeout, so a crash of this process cannot hold
 * writes back for longer than `pauseTimeoutMs`. If anything fails before the
 * failover, the pause is lifted and nothing changed.
 */
export async function redisHandOff(t: RedisHandOffTarget, o: { catchUpTimeoutMs?: number; pauseTimeoutMs?: number; sentinelsTimeoutMs?: number; promotionTimeoutMs?: number; replicaSeenTimeoutMs?: number } = {}): Promise<RedisHandOffResult> {
  const catchUpTimeoutMs = o.catchUpTimeoutMs ?? 3000;
  const pauseTimeoutMs = o.pauseTimeoutMs ?? 15_000;
  const promotionTimeoutMs = o.promotionTimeoutMs ?? 10_000;
  const sentinel = await firstAnswering(t.sentinels);
  await waitForPromotableReplica(sentinel, t.masterName, o.replicaSeenTimeoutMs ?? 15_000);
  return withRedis(t.oldPrimary, async (old) => {
    const pausedAt = Date.now();
    // The pause is renewed before each phase, so no phase can outlive it; a crash of this process still lifts it within pauseTimeoutMs.
    let pauseEndsAt = 0;
    const renewPause = async () => {
      const at = Date.now();
      await old.call('CLIENT', 'PAUSE', String(pauseTimeoutMs), 'WRITE');
      pauseEndsAt = at + pauseTimeoutMs;
    };
    await renewPause();
    let failoverAsked = false;
    let handedOver = false;
    try {
      const info = await old.info('replication');
      if (field(info, 'role') !== 'master') throw new Error(`${t.oldPrimary.host}:${t.oldPrimary.port} is not a primary any more`);
      const offset = Number(field(info, 'master_repl_offset'));
      const caughtUp = (await waitForReplicas(old, offset, Math.min(catchUpTimeoutMs, pauseTimeoutMs - PAUSE_MARGIN_MS), t.oldPrimary.password)).map((r) => withPassword(r, t.oldPrimary.password));
      const catchUpMs = Date.now() - pausedAt;
      await renewPause();
      const askedAt = Date.now();
      failoverAsked = true;
      await sentinelFailover(sentinel, t.masterName);
      const newPrimary = await waitForPromotion(caughtUp, promotionTimeoutMs, async () => {
        // Writes stay paused on the old primary for as long as a promotion may still come.
        if (pauseEndsAt - Date.now() < PAUSE_MARGIN_MS) await renewPause();
      });
      const promotionMs = Date.now() - askedAt;
      await old.call('REPLICAOF', newPrimary.host, String(newPrimary.port));
      // Kept in its config, or a restart (the reboot that follows) brings it back as a master beside the new one.
      const rewrite = await old.call('CONFIG', 'REWRITE').then(() => undefined, (e: Error) => e);
      await old.call('CLIENT', 'KILL', 'TYPE', 'normal');
      await old.call('CLIENT', 'UNPAUSE');
      handedOver = true;
      if (rewrite) {
        throw new Error(`${t.oldPrimary.host}:${t.oldPrimary.port} is a replica of ${newPrimary.host}:${newPrimary.port} now, but CONFIG REWRITE failed (${rewrite.message}): a restart would bring it back as a master, so it is not rebooted; give it a config file it can write (or the boot guard), then resume`);
      }
      const writePauseMs = Date.now() - pausedAt;
      await waitForSentinels(t, newPrimary, o.sentinelsTimeoutMs ?? 30_000);
      return { newPrimary, offset, writePauseMs, catchUpMs, promotionMs, sentinelsAgreeMs: Date.now() - askedAt };
    } catch (err) {
      if (handedOver) throw err;
      // Before the failover nothing changed: let writes go on where they were. After it, lift the pause only
      // when the failover provably did not happen (a majority of Sentinels still name the old primary and no
      // replica answers as primary); else the old primary must not take writes again: the pause expires by itself.
      if (!failoverAsked || (await failoverDidNotHappen(t))) {
        await old.call('CLIENT', 'UNPAUSE').catch(() => undefined);
        throw new Error(`${(err as Error).message}; nothing was changed: ${t.oldPrimary.host}:${t.oldPrimary.port} is still the primary and takes writes again`);
      }
      throw new Error(`${(err as Error).message}; the failover may have happened: ${t.oldPrimary.host}:${t.oldPrimary.port} is left paused until its pause ends (${Math.max(0, pauseEndsAt - Date.now())} ms), so that it cannot take writes beside a new primary; ask the Sentinels which is the primary`);
    }
  });
}

/** True when a majority of the Sentinels name the old primary and none of its replicas answers as primary. */
async function failoverDidNotHappen(t: RedisHandOffTarget): Promise<boolean> {
  const named = await sentinelMajorityPrimary(t.sentinels, t.masterName).catch(() => undefined);
  if (!named || named.host !== t.oldPrimary.host || named.port !== t.oldPrimary.port) return false;
  const replicas = await withRedis(t.oldPrimary, async (r) => replicasOf(await r.info('replication'))).catch(() => undefined);
  if (!replicas) return false;
  for (const r of replicas) if ((await roleOf(withPassword(r, t.oldPrimary.password))) !== 'slave') return false;
  return true;
}

/**
 * Every replica has processed `offset`. Asked of the replicas themselves
 * (their own offset is current), not of the primary's INFO, whose view of
 * them is refreshed only by their once-a-second acknowledgements.
 */
async function waitForReplicas(old: Redis, offset: number, timeoutMs: number, password: string | undefined): Promise<RedisEndpoint[]> {
  const replicas = replicasOf(await old.info('replication'));
  if (replicas.length === 0) throw new Error('the primary has no replica to hand off to; nothing was changed');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const offsets = await Promise.all(replicas.map((r) => withRedis(withPassword(r, password), async (c) => Number(field(await c.info('replication'), 'slave_repl_offset') ?? -1)).catch(() => -1)));
    if (offsets.every((o) => o >= offset)) return replicas;
    if (Date.now() > deadline) {
      throw new Error(`the replicas did not reach offset ${offset} in ${timeoutMs} ms (${replicas.map((r, i) => `${r.host}:${r.port} at ${offsets[i]}`).join(', ')})`);
    }
    await sleep(10);
  }
}

/** A Sentinel's view of a primary's replicas: its name for each, its flags, and whether it sees the replica linked. */
export async function sentinelReplicaView(sentinel: RedisEndpoint, masterName: string): Promise<Array<{ name: string; flags: string; linked: boolean; promotable: boolean }>> {
  const replicas = await withRedis(sentinel, (r) => r.call('SENTINEL', 'replicas', masterName) as Promise<string[][]>).catch(() => [] as string[][]);
  const at = (f: string[], k: string) => f[f.indexOf(k) + 1] ?? '';
  return replicas.map((f) => {
    const linked = at(f, 'master-link-status') === 'ok';
    return { name: at(f, 'name'), flags: at(f, 'flags'), linked, promotable: linked && !/s_down|o_down|disconnected/.test(at(f, 'flags')) };
  });
}

/** Waits until the Sentinel sees a replica it would promote (linked to the primary, neither down nor disconnected); else nothing is changed. */
async function waitForPromotableReplica(sentinel: RedisEndpoint, masterName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 'no replica';
  for (;;) {
    const replicas = await sentinelReplicaView(sentinel, masterName);
    if (replicas.some((r) => r.promotable)) return;
    seen = replicas.map((r) => `${r.name} (${r.flags}, ${r.linked ? 'linked' : 'not linked'})`).join(', ') || 'no replica';
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Sentinel ${sentinel.host}:${sentinel.port} sees no replica it would promote after ${timeoutMs / 1000} s (${seen}); nothing was changed: the primary keeps taking writes`);
}

async function firstAnswering(sentinels: RedisEndpoint[]): Promise<RedisEndpoint> {
  for (const s of sentinels) {
    if (await withRedis(s, (r) => r.ping()).catch(() => undefined)) return s;
  }
  throw new Error('no Sentinel answers');
}

/** The replica that Sentinel promoted: the first of them to answer as primary. `tick` runs between polls (the pause's renewal). */
async function waitForPromotion(replicas: RedisEndpoint[], timeoutMs: number, tick: () => Promise<void>): Promise<RedisEndpoint> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const r of replicas) if ((await roleOf(r)) === 'master') return { host: r.host, port: r.port };
    await tick();
    await sleep(20);
  }
  throw new Error(`no replica became primary within ${timeoutMs} ms of SENTINEL FAILOVER`);
}

/** Done when every Sentinel that answers names the new primary. */
async function waitForSentinels(t: RedisHandOffTarget, newPrimary: RedisEndpoint, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(t.sentinels.map((s) => sentinelPrimary(s, t.masterName).catch(() => undefined)));
    const answered = views.filter((v) => v !== undefined);
    if (answered.length > 0 && answered.every((v) => v?.host === newPrimary.host && v.port === newPrimary.port)) return;
    if (Date.now() > deadline) throw new Error(`the Sentinels did not all name ${newPrimary.host}:${newPrimary.port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}
