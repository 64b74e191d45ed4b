/**
 * The Redis hand-off against its peer, in one run on one lab, under the same
 * write-heavy load (80 requests/s: 25 % creates, 25 % mark-reads):
 *   gameday's hand-off  CLIENT PAUSE WRITE, replicas at the offset, SENTINEL FAILOVER, old primary a replica before writes resume
 *   the peer            SENTINEL FAILOVER alone (what the reboot job did before)
 * For each round: acknowledged writes lost in Redis, users whose Redis data
 * disagrees with MariaDB, the server-side write pause and the clients'
 * longest gap between successful writes. Between rounds every user is
 * repaired from MariaDB, so each round starts clean.
 *
 * Usage: node --import tsx bench/redis-handoff.ts [rounds per method, default 3]
 * It brings up a lab of its own on 198.18.26.x (a small seed) and takes it down.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { labUp } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { labFleetEnv } from '../cli/wiring/labFleetEnv.js';
import { SENTINEL_MASTER_NAME } from '../lab/layout.js';
import { startLoadLoop } from '../chaos/load/loop.js';
import { checkAckedWrites } from '../chaos/load/ackedWrites.js';
import { redisHandOff } from '../drivers/redis/handoff.js';
import { sentinelFailover, sentinelMajorityPrimary, sentinelPrimary, type RedisEndpoint } from '../drivers/redis/readiness.js';
import { openNotificationStores } from '../runbooks/steps/consistencyCheck.js';
import { usersToVerify, verifyNotifications } from '../warmup/redis/verify.js';
import { repairUsers } from '../warmup/redis/repair.js';

const rounds = Number(process.argv[2] ?? 3);
const dir = join(mkdtempSync(join(tmpdir(), 'gameday-bench-handoff-')), 'lab');
const lab = await labUp({ dir, octet: 26, seed: { users: 500, notificationsPerUser: 10, readPercent: 50 } });
const sentinels = lab.hostsOf('sentinel').map((s) => lab.redisEndpoint(s));

/** The peer: SENTINEL FAILOVER, done when every Sentinel names the new primary. */
async function sentinelFailoverOnly(old: RedisEndpoint): Promise<number> {
  const asked = Date.now();
  await sentinelFailover(sentinels[0], SENTINEL_MASTER_NAME);
  for (;;) {
    const views = await Promise.all(sentinels.map((s) => sentinelPrimary(s, SENTINEL_MASTER_NAME).catch(() => null)));
    if (views.every((v) => v && v.host !== old.host)) return Date.now() - asked;
    await sleep(100);
  }
}

interface Round { method: string; lostCreates: number; lostReads: number; usersMismatched: number; pauseMs: number | null; clientGapMs: number; failed: number }
const results: Round[] = [];
try {
  for (let i = 0; i < rounds * 2; i++) {
    const method = i % 2 === 0 ? 'gameday hand-off' : 'SENTINEL FAILOVER';
    const load = startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 500, ratePerS: 80, createPercent: 25, markReadPercent: 25, timeoutMs: 1000 });
    await sleep(2000);
    const old = (await sentinelMajorityPrimary(sentinels, SENTINEL_MASTER_NAME))!;
    let pauseMs: number | null = null;
    if (method === 'gameday hand-off') pauseMs = (await redisHandOff({ oldPrimary: old, sentinels, masterName: SENTINEL_MASTER_NAME })).writePauseMs;
    else await sentinelFailoverOnly(old);
    // Long enough for Sentinel to demote the old primary in the peer's case (its INFO round).
    await sleep(15_000);
    const report = await load.stop();
    await sleep(2000);
    const stores = await openNotificationStores(labFleetEnv(dir), lab.inventory);
    try {
      const acked = await checkAckedWrites(report.acked, stores.db, stores.redis);
      const verify = await verifyNotifications(stores.db, stores.redis, await usersToVerify(stores.db, { all: true }));
      results.push({ method, lostCreates: acked.createsLostInRedis.length, lostReads: acked.readsLostInRedis.length, usersMismatched: verify.usersMismatched, pauseMs, clientGapMs: report.longestWriteGapMs, failed: report.reads.failed + report.writes.failed });
      if (verify.usersMismatched > 0) await repairUsers(stores.db, stores.redis, verify.users.map((u) => u.userId));
    } finally {
      await stores.close();
    }
    const r = results.at(-1)!;
    process.stdout.write(`round ${i + 1} ${r.method}: lost in Redis ${r.lostCreates} creates, ${r.lostReads} mark-reads; ${r.usersMismatched} users diverged; write pause ${r.pauseMs ?? '-'} ms; clients' longest write gap ${r.clientGapMs} ms; ${r.failed} failed requests\n`);
  }
} finally {
  await labDown(lab);
}

const sum = (m: string, f: (r: Round) => number) => results.filter((r) => r.method === m).reduce((a, r) => a + f(r), 0);
const ours = sum('gameday hand-off', (r) => r.lostCreates + r.lostReads);
const peer = sum('SENTINEL FAILOVER', (r) => r.lostCreates + r.lostReads);
const maxGap = (m: string) => Math.max(...results.filter((r) => r.method === m).map((r) => r.clientGapMs));
process.stdout.write(
  `\nacknowledged writes lost over ${rounds} hand-offs each: gameday ${ours}, SENTINEL FAILOVER ${peer}` +
    ` (${ours === 0 ? (peer === 0 ? 'both lossless' : 'gameday loses none') : `ratio ${(peer / ours).toFixed(1)}x`});` +
    ` longest client write gap: gameday ${maxGap('gameday hand-off')} ms, SENTINEL FAILOVER ${maxGap('SENTINEL FAILOVER')} ms` +
    ` (ratio ${(maxGap('gameday hand-off') / Math.max(1, maxGap('SENTINEL FAILOVER'))).toFixed(2)})\n`,
);
process.exit(0);
