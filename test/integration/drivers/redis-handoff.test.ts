import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { labUp } from '../../../lab/up.js';
import { labDown } from '../../../lab/down.js';
import { openLab, type LabContext } from '../../../lab/context.js';
import { labFleetEnv } from '../../../cli/wiring/labFleetEnv.js';
import { powerOff, powerOn, rebootHost } from '../../../lab/power.js';
import { SENTINEL_MASTER_NAME } from '../../../lab/layout.js';
import { redisPaths } from '../../../lab/configs/redis.js';
import { startLoadLoop } from '../../../chaos/load/loop.js';
import { checkAckedWrites } from '../../../chaos/load/ackedWrites.js';
import { watchRedisPrimaries } from '../../../chaos/probes/redisPrimaries.js';
import { redisHandOff } from '../../../drivers/redis/handoff.js';
import { redisReadiness, sentinelMajorityPrimary, withRedis } from '../../../drivers/redis/readiness.js';
import { openNotificationStores } from '../../../runbooks/steps/consistencyCheck.js';
import { usersToVerify, verifyNotifications } from '../../../warmup/redis/verify.js';
import { waitFor } from '../helpers.js';

/** Redis hand-offs flip the primary, so they get a lab of their own (198.18.25.x). */
/** A folder the services' own accounts may enter, so they run as redis, mysql and haproxy as on a host (not as root). */
function enterableBase(prefix: string): string {
  const base = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(base, 0o711);
  return base;
}

describe('Redis hand-off: lossless under load, and no second master after a restart', () => {
  const dir = join(enterableBase('gameday-redis-'), 'lab');
  let lab: LabContext;
  const sentinels = () => lab.hostsOf('sentinel').map((s) => lab.redisEndpoint(s));
  const servers = () => lab.hostsOf('redis').map((h) => ({ name: h.name, ...lab.redisEndpoint(h) }));
  const primaryName = async () => {
    const p = await sentinelMajorityPrimary(sentinels(), SENTINEL_MASTER_NAME);
    return lab.hostsOf('redis').find((h) => h.address === p?.host)!.name;
  };
  const writeLoad = () =>
    startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 300, ratePerS: 80, createPercent: 25, markReadPercent: 25, timeoutMs: 1000 });

  beforeAll(async () => {
    lab = await labUp({ dir, octet: 25, seed: { users: 300, notificationsPerUser: 10, readPercent: 50 } });
  });
  afterAll(async () => {
    const l = openLab(dir);
    if (l) await labDown(l);
  });

  /** A hand-off needs a replica in sync: on a busy machine the first full sync can outlast the lab's start. */
  async function replicaOnline(): Promise<void> {
    await waitFor('the Redis primary to have an online replica', async () => {
      const primary = lab.host(await primaryName());
      return withRedis(lab.redisEndpoint(primary), async (r) => /slave\d+:.*state=online/.test(await r.info('replication')));
    }, 60_000);
  }

  it('hands the primary over four times under 40 writes/s with no acknowledged write lost and writes paused only briefly', async () => {
    const load = writeLoad();
    const roles = watchRedisPrimaries(servers());
    const pauses: number[] = [];
    await sleep(2000);
    for (let i = 0; i < 4; i++) {
      await replicaOnline();
      const before = await primaryName();
      const old = lab.host(before);
      const r = await redisHandOff({ oldPrimary: lab.redisEndpoint(old), sentinels: sentinels(), masterName: SENTINEL_MASTER_NAME });
      pauses.push(r.writePauseMs);
      expect(await primaryName()).not.toBe(before);
      expect((await redisReadiness(lab.redisEndpoint(old))).role).toBe('slave');
      // Lifted by the hand-off itself, not by the pause's safety timeout.
      expect(r.writePauseMs).toBeLessThan(15_000);
      await sleep(3000);
    }
    const report = await load.stop();
    const split = await roles.stop();
    expect(split.twoWritable).toEqual([]);
    // Nothing lost is exact (below); a failed request is a client timeout on a busy machine, so a budget of 0.1 %.
    expect(report.failures.length, JSON.stringify(report.failures)).toBeLessThanOrEqual(Math.max(1, (report.reads.total + report.writes.total) * 0.001));

    const stores = await openNotificationStores(labFleetEnv(dir), lab.inventory);
    try {
      const acked = await checkAckedWrites(report.acked, stores.db, stores.redis);
      expect(acked.created).toBeGreaterThan(200);
      expect([acked.createsLostInDb, acked.createsLostInRedis, acked.readsLostInDb, acked.readsLostInRedis]).toEqual([[], [], [], []]);
      const full = await verifyNotifications(stores.db, stores.redis, await usersToVerify(stores.db, { all: true }));
      expect(full.users).toEqual([]);
    } finally {
      await stores.close();
    }
    process.stderr.write(`redis hand-offs: writes paused ${pauses.join(', ')} ms; clients' longest write gap ${report.longestWriteGapMs} ms; ${report.writes.total} writes, ${split.samples} role samples\n`);
  }, 120_000);

  it('a failover Sentinel refuses lifts the pause at once and changes nothing (before: writes held until the 15 s pause ran out)', async () => {
    await replicaOnline();
    const before = await primaryName();
    const old = lab.host(before);
    const replicas = servers().filter((r) => r.name !== before);
    // replica-priority 0 everywhere: Sentinel answers SENTINEL FAILOVER with NOGOODSLAVE.
    for (const r of replicas) await withRedis(r, (c) => c.config('SET', 'replica-priority', '0'));
    try {
      const err = await redisHandOff({ oldPrimary: lab.redisEndpoint(old), sentinels: sentinels(), masterName: SENTINEL_MASTER_NAME }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('nothing was changed');
      const started = Date.now();
      await withRedis(lab.redisEndpoint(old), async (c) => {
        await c.set('gameday:test:pause-lifted', '1');
        await c.del('gameday:test:pause-lifted');
      });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await primaryName()).toBe(before);
    } finally {
      for (const r of replicas) await withRedis(r, (c) => c.config('SET', 'replica-priority', '100'));
      // Sentinels learn a replica's priority from its INFO (every 10 s): the next hand-off needs them to see it promotable.
      await waitFor('every Sentinel to see the replicas promotable again', async () => {
        for (const s of sentinels()) {
          const listed = (await withRedis(s, (c) => c.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME))) as string[][];
          if (listed.some((fields) => fields[fields.indexOf('slave-priority') + 1] !== '100')) return false;
        }
        return true;
      }, 30_000);
    }
  }, 60_000);

  it('a CONFIG REWRITE the old primary cannot do fails the hand-off, so the host is not rebooted (before: ignored, and a restart brought back a master)', async () => {
    await replicaOnline();
    const before = await primaryName();
    const old = lab.host(before);
    const dir = redisPaths(lab, old).dir;
    const mode = statSync(dir).mode & 0o777;
    expect(lab.state.serviceAccounts.redis, 'Redis runs as its own account (as root, no mode stops the rewrite)').toBeDefined();
    chmodSync(dir, 0o500); // its own folder, no longer writable by its redis account: the rewrite's temporary file fails
    try {
      const err = await redisHandOff({ oldPrimary: lab.redisEndpoint(old), sentinels: sentinels(), masterName: SENTINEL_MASTER_NAME }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/CONFIG REWRITE failed \(ERR Rewriting config file: Permission denied\).*not rebooted/);
    } finally {
      chmodSync(dir, mode);
    }
    // The hand-off itself happened: the old primary follows the new one, and only its file is behind.
    await waitFor('the Sentinels to name the new primary', async () => (await primaryName()) !== before, 30_000);
    expect((await redisReadiness(lab.redisEndpoint(old))).role).toBe('slave');
  }, 60_000);

  it('restarts a handed-off primary as a replica: never two writable masters at any 100 ms sample', async () => {
    await replicaOnline();
    const before = await primaryName();
    const old = lab.host(before);
    await redisHandOff({ oldPrimary: lab.redisEndpoint(old), sentinels: sentinels(), masterName: SENTINEL_MASTER_NAME });
    const roles = watchRedisPrimaries(servers());
    await rebootHost(lab, before);
    await waitFor(`${before} linked as a replica`, async () => (await redisReadiness(lab.redisEndpoint(old))).masterLinkUp, 30_000);
    await sleep(1000);
    const split = await roles.stop();
    expect(split.twoWritable).toEqual([]);
    expect(await primaryName()).not.toBe(before);
  }, 60_000);

  it('powers a failed-over primary back on as a replica of the one Sentinel promoted, never as a second master', async () => {
    const before = await primaryName();
    const old = lab.host(before);
    await powerOff(lab, before);
    await waitFor('Sentinel to promote the replica', async () => (await primaryName()) !== before, 30_000);
    const roles = watchRedisPrimaries(servers());
    await powerOn(lab, before);
    // Its config still named it master; it must come up following the new primary.
    expect((await redisReadiness(lab.redisEndpoint(old))).role).toBe('slave');
    await sleep(12_000); // longer than Sentinel's round that used to demote it
    const split = await roles.stop();
    expect(split.samples).toBeGreaterThan(80);
    expect(split.twoWritable).toEqual([]);
    expect(await primaryName()).not.toBe(before);
  }, 90_000);
});

/**
 * What the boot guard prevents, measured on a lab without it (198.18.37.x,
 * lab up --no-guards): the same power loss of the Redis primary, and its
 * power-on after Sentinel promoted the replica.
 */
describe('without the boot guard (lab up --no-guards), a former Redis primary takes writes beside the new one', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gameday-redis-unguarded-')), 'lab');
  let lab: LabContext;
  const sentinels = () => lab.hostsOf('sentinel').map((s) => lab.redisEndpoint(s));
  const primaryName = async () => {
    const p = await sentinelMajorityPrimary(sentinels(), SENTINEL_MASTER_NAME);
    return lab.hostsOf('redis').find((h) => h.address === p?.host)?.name;
  };

  beforeAll(async () => {
    lab = await labUp({ dir, octet: 37, seed: { users: 300, notificationsPerUser: 10, readPercent: 50 }, guards: false });
  });
  afterAll(async () => {
    const l = openLab(dir);
    if (l) await labDown(l);
  });

  it('boots it as a master from its own config: two writable masters until Sentinel converts it', async () => {
    const before = (await primaryName())!;
    await powerOff(lab, before);
    await waitFor('Sentinel to promote the replica', async () => (await primaryName()) !== before, 30_000);
    const roles = watchRedisPrimaries(lab.hostsOf('redis').map((h) => ({ name: h.name, ...lab.redisEndpoint(h) })));
    await powerOn(lab, before);
    await sleep(12_000);
    const split = await roles.stop();
    const windowMs = split.twoWritable.length ? split.twoWritable.at(-1)!.at - split.twoWritable[0].at : 0;
    process.stderr.write(`no boot guard: ${split.twoWritable.length} of ${split.samples} samples (100 ms) with two writable masters, over ${(windowMs / 1000).toFixed(1)} s\n`);
    expect(split.samples).toBeGreaterThan(80);
    expect(split.twoWritable.length).toBeGreaterThan(0);
  }, 120_000);
});
