import { z } from 'zod';
import type { Runbook, Step } from '../engine/types.js';
import { fleet } from './steps/fleet.js';
import { openNotificationStores } from './steps/consistencyCheck.js';
import { redisRebuild, sourceFile as redisRebuildSource } from './redisRebuild.js';
import { NOTIFICATIONS_DB, WARM_KEY } from '../drivers/notificationStore.js';
import { GamedayError } from '../core/errors.js';
import type { RowDataPacket } from 'mysql2/promise';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

/** The run's degraded entry while the app reads from MariaDB: set by hold-cold, cleared by the rebuild. */
const COLD = 'redis-cold';

export const recoverRedisDataParams = z.object({
  stale: z.enum(['yes', 'no']).default('no').describe('yes: Redis came back with old data (a restored dump) and still says it is warm; it is held cold and rebuilt all the same'),
  rate: z.coerce.number().int().min(0).max(10_000_000).default(0).describe('at most this many notifications per second written to Redis (0: as fast as it goes)'),
  parts: z.coerce.number().int().min(1).max(10_000).default(20).describe('resumable parts of the rebuild'),
});
export type RecoverRedisDataParams = z.infer<typeof recoverRedisDataParams>;

interface RecoverRedisPlan {
  redis: string;
  db: string;
  /** Keys the Redis primary held at plan time, and whether it said it was warm. */
  keysAtPlan: number;
  warmAtPlan: boolean;
  users: number;
  notifications: number;
}

/** The Redis primary's key count and warm marker, and MariaDB's totals (the truth it must end up holding). */
async function look(env: Record<string, unknown>, inventory: Parameters<Runbook<RecoverRedisDataParams, RecoverRedisPlan>['resolve']>[0]['inventory']) {
  const stores = await openNotificationStores(fleet(env), inventory);
  try {
    const [keys, warm, [[totals]]] = await Promise.all([
      stores.redis.dbsize(),
      stores.redis.exists(WARM_KEY),
      stores.db.query<RowDataPacket[]>(`SELECT (SELECT COUNT(*) FROM ${NOTIFICATIONS_DB}.users) AS users, (SELECT COUNT(*) FROM ${NOTIFICATIONS_DB}.notifications) AS notifications`),
    ]);
    return { redis: stores.redisAddress, db: stores.dbHost, keysAtPlan: keys, warmAtPlan: warm === 1, users: Number(totals.users), notifications: Number(totals.notifications) };
  } finally {
    await stores.close();
  }
}

/**
 * While the warm marker is absent the app serves every notification list
 * from MariaDB's read pool (slower, never empty) and goes on writing to
 * Redis; deleting it is how a Redis that came back with old data is kept
 * from serving it.
 */
function holdColdStep(plan: RecoverRedisPlan): Step {
  return {
    id: 'hold-cold',
    kind: 'action',
    semantics: 'idempotent',
    title: `make the app read from MariaDB until Redis is rebuilt (delete ${WARM_KEY})`,
    describe: () => ({ target: `Redis ${plan.redis}`, inputs: { key: WARM_KEY }, consequence: 'notification lists are read from MariaDB\'s read pool (slower, never empty); writes still go to both' }),
    async run(ctx) {
      const stores = await openNotificationStores(fleet(ctx.env), ctx.inventory);
      try {
        const removed = await stores.redis.del(WARM_KEY);
        await ctx.note(
          removed ? `${WARM_KEY} deleted on ${stores.redisAddress}: the app reads from MariaDB until the rebuild is verified` : `${WARM_KEY} was already absent on ${stores.redisAddress}: the app reads from MariaDB until the rebuild is verified`,
          { degraded: 'notification reads are served from MariaDB (Redis is cold)', key: COLD },
        );
        return { redis: stores.redisAddress, removed };
      } finally {
        await stores.close();
      }
    },
  };
}

function rebuildStep(params: RecoverRedisDataParams): Step {
  return {
    id: 'rebuild',
    kind: 'action',
    semantics: 'idempotent',
    title: 'rebuild every user\'s notifications in Redis from MariaDB, verify every user, then mark Redis warm (nested redis-rebuild)',
    describe: () => ({ target: 'Redis', inputs: { parts: params.parts, rate: params.rate || 'unthrottled' }, consequence: 'the app reads from Redis again once every user checks out' }),
    async run(ctx) {
      const out = await ctx.runChild!({ runbook: redisRebuild, sourceFile: redisRebuildSource }, { parts: params.parts, rate: params.rate, verify: 'all' });
      if (out.state !== 'succeeded') throw new GamedayError('REBUILD_FAILED', `the rebuild ${out.state}: ${out.failedStep?.error ?? 'see its run'}`, `run ${out.runId}`, `resume it: gameday runbook resume ${ctx.runId}`);
      await ctx.note(`Redis rebuilt, verified and warm (rebuild ${out.runId})`, { degraded: null, key: COLD, rebuildRun: out.runId });
      return { rebuildRun: out.runId };
    },
  };
}

/**
 * The 2017 case C: both Redis servers lost their data set (or came back
 * with an old one). The app is kept from serving empty or old lists (it
 * reads from MariaDB while the warm marker is absent), every user is
 * rebuilt from MariaDB exactly (read state and counters), checked, and only
 * then served from Redis again.
 */
export const recoverRedisData: Runbook<RecoverRedisDataParams, RecoverRedisPlan> = {
  name: 'recover-redis-data',
  summary: 'After Redis lost its data set (both servers, 2017\'s case C): serve reads from MariaDB, rebuild every user exactly, verify, then serve from Redis again',
  params: recoverRedisDataParams,
  async resolve({ params, inventory, env }) {
    const plan = await look(env, inventory);
    if (plan.warmAtPlan && params.stale === 'no') {
      throw new GamedayError(
        'REDIS_NOT_LOST',
        `Redis ${plan.redis} holds ${plan.keysAtPlan} keys and its warm marker: its data set was not lost`,
        `Redis ${plan.redis}`,
        'check it against MariaDB with "gameday warmup redis verify" (--repair fixes the users that differ); if it came back from an old dump, run this with --stale yes',
      );
    }
    return plan;
  },
  locks: () => ['redis:rebuild'],
  steps: (plan, params) => [holdColdStep(plan), rebuildStep(params)],
  examplePlan: { redis: '198.18.20.121:6379', db: 'db-1', keysAtPlan: 0, warmAtPlan: false, users: 5000, notifications: 200_000 },
  exampleParams: {},
};
