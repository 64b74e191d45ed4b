import { Redis } from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { z } from 'zod';
import { hostsOfKind, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { sentinelMajorityPrimary } from '../../drivers/redis/readiness.js';
import { isWritablePrimary } from '../../drivers/mysql/switchover.js';
import { describeVerify, usersToVerify, verifyNotifications, type VerifyResult } from '../../warmup/redis/verify.js';
import type { ProbeStep } from '../../engine/types.js';
import { durationParam, formatDuration } from '../../core/duration.js';
import { fleet, notificationMasterOf, notificationRedisHost, redisEndpoint, sentinelEndpoints, type FleetEnv } from './fleet.js';

/** The parameters every runbook that may touch the notification data shares. */
export const verifyParams = {
  verify: z.enum(['sample', 'all', 'off']).default('sample').describe('check Redis against MariaDB at the end: sample (users changed during the run plus --verify-sample others), all, or off'),
  verifySample: z.coerce.number().int().min(0).max(1_000_000).default(200).describe('random users checked besides those changed during the run'),
  verifySince: durationParam('1h').describe('with --verify sample: also the users changed this long before the run started (an outage before a recovery)'),
};

export interface VerifyOptions {
  verify: 'sample' | 'all' | 'off';
  verifySample: number;
  /** Milliseconds before the run's start. */
  verifySince: number;
}

/** The two stores of the notification data: MariaDB's writable primary (the truth) and the Redis primary Sentinel names. */
export interface NotificationStores {
  db: Connection;
  redis: Redis;
  dbHost: string;
  redisAddress: string;
  /** The same Redis primary, for a raw connection of one's own (mass insertion). */
  redisEndpoint: { host: string; port: number; password?: string };
  close(): Promise<void>;
}

export async function openNotificationStores(f: FleetEnv, inv: Inventory): Promise<NotificationStores> {
  const dbHosts = hostsOfKind(inv, 'mariadb');
  let dbHost: string | undefined;
  for (const h of dbHosts) if (await isWritablePrimary(f.mysql, h.name).catch(() => false)) dbHost = h.name;
  if (!dbHost) throw new GamedayError('NO_DB_PRIMARY', 'no db host is a writable primary, so there is no truth to check Redis against', 'tier db', 'check "gameday lab status" (or the fleet) for a primary');
  const redisHost = notificationRedisHost(inv);
  const masterName = notificationMasterOf(f, inv);
  const primary = await sentinelMajorityPrimary(sentinelEndpoints(f, inv, redisHost), masterName);
  if (!primary) throw new GamedayError('NO_REDIS_PRIMARY', `no majority of the Sentinels names a primary for ${masterName}`, 'tier sentinel', 'check the Sentinels (SENTINEL get-master-addr-by-name)');
  const redisPassword = redisHost ? redisEndpoint(f, redisHost).password : f.redisPassword;
  const db = await f.mysql(dbHost);
  const redis = new Redis({ ...primary, password: redisPassword, lazyConnect: true, connectTimeout: 2000, commandTimeout: 15_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  await redis.connect();
  return {
    db,
    redis,
    dbHost,
    redisAddress: `${primary.host}:${primary.port}`,
    redisEndpoint: { host: primary.host, port: primary.port, password: redisPassword },
    close: async () => {
      redis.disconnect();
      await db.end().catch(() => db.destroy());
    },
  };
}

/** Whether this inventory holds the notification center (a db tier, Redis behind Sentinel). */
export function holdsNotificationData(inv: Inventory): boolean {
  return (['mariadb', 'redis', 'sentinel'] as const).every((kind) => hostsOfKind(inv, kind).length > 0);
}

/** The hint printed with a mismatch: the command that rewrites exactly those users from MariaDB. */
export function repairHint(r: VerifyResult): string {
  const users = r.users.map((u) => u.userId);
  const shown = users.length <= 50 ? users.join(',') : `${users.slice(0, 50).join(',')},…`;
  return `repair those users from MariaDB: gameday warmup redis verify --users ${shown} --repair (the run's journal lists them all)`;
}

/**
 * The last step of a run that may have touched the notification data: Redis
 * against MariaDB for the users changed since `since` plus a random sample
 * (or all users). A mismatch fails the run, with the users and how to repair.
 */
export function consistencyCheckStep(id: string, runStartedAt: string, how: VerifyOptions): ProbeStep {
  const since = new Date(Date.parse(runStartedAt) - how.verifySince);
  return {
    id,
    kind: 'probe',
    title: how.verify === 'all'
      ? 'check every user\'s Redis data against MariaDB'
      : `check Redis against MariaDB for the users changed since ${formatDuration(how.verifySince)} before the run, and ${how.verifySample} others`,
    async run(ctx) {
      if (how.verify === 'off' || !holdsNotificationData(ctx.inventory)) {
        await ctx.note(how.verify === 'off' ? 'consistency check off (--verify off)' : 'no notification data here (no db, redis and sentinel tiers): nothing to check');
        return { checked: false };
      }
      const stores = await openNotificationStores(fleet(ctx.env), ctx.inventory);
      try {
        const users = await usersToVerify(stores.db, how.verify === 'all' ? { all: true } : { since, sample: how.verifySample });
        const result = await verifyNotifications(stores.db, stores.redis, users);
        const line = describeVerify(result);
        const data = { consistency: { ...result, users: result.users.slice(0, 1000) }, db: stores.dbHost, redis: stores.redisAddress };
        if (result.usersMismatched > 0) {
          await ctx.note(line, data);
          throw new GamedayError('REDIS_DIVERGED', line, `Redis ${stores.redisAddress}`, repairHint(result));
        }
        await ctx.note(line, data);
        return { checked: true, usersChecked: result.usersChecked, notificationsChecked: result.notificationsChecked, mismatches: 0 };
      } finally {
        await stores.close();
      }
    },
  };
}
