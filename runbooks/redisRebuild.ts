import { z } from 'zod';
import type { Runbook, Step, StepContext } from '../engine/types.js';
import { fleet } from './steps/fleet.js';
import { resultKey, resultOf } from './steps/results.js';
import { openNotificationStores, repairHint, type NotificationStores } from './steps/consistencyCheck.js';
import { RedisMassInsert } from '../drivers/redis/massInsert.js';
import { allUsers, rebuildRange, REBUILD_USER_LUA, splitRange, type RebuildTotals, type UserRange } from '../warmup/redis/rebuild.js';
import { describeVerify, verifyNotifications } from '../warmup/redis/verify.js';
import { NOTIFICATIONS_DB, WARM_KEY } from '../drivers/notificationStore.js';
import { GamedayError } from '../core/errors.js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

const userRange = z
  .string()
  .regex(/^\d{1,10}-\d{1,10}$/, 'a range of user ids, e.g. 1-5000')
  .transform((text, ctx) => {
    const [from, to] = text.split('-').map(Number);
    if (from < 1 || to < from) ctx.addIssue({ code: 'custom', message: `"${text}" is not a rising range of user ids from 1, e.g. 1-5000` });
    return { from, to };
  });

export const redisRebuildParams = z.object({
  users: userRange.optional().describe('only these users, e.g. 1-5000 (default: every user)'),
  rate: z.coerce.number().int().min(0).max(10_000_000).default(0).describe('at most this many notifications per second (0: as fast as it goes)'),
  parts: z.coerce.number().int().min(1).max(10_000).default(20).describe('resumable parts (journaled steps) the users are split into'),
  verify: z.enum(['all', 'off']).default('all').describe('check every rebuilt user against MariaDB at the end (all), or not (off)'),
});
export type RedisRebuildParams = z.infer<typeof redisRebuildParams>;

interface RebuildPlan {
  ranges: UserRange[];
  /** Notifications in MariaDB for those users when the run began (the run's total, for progress). */
  notifications: number;
  db: string;
  redis: string;
}

/** Each range's step ("users/1-5000") hands on the totals of what it rebuilt. */
const rangeResult = (r: UserRange) => resultKey<RebuildTotals>(`users/${r.from}-${r.to}`);

/** MariaDB connections that read at once: mariadbd runs each query on a thread of its own. */
const READERS = 2;

interface RebuildStores {
  stores: NotificationStores;
  readers: Connection[];
  close(): Promise<void>;
}

/**
 * The stores of one run, found once and shared by its parts (finding the primaries again for
 * every part cost more than a part's writes on the lab). A part that fails drops them, so the
 * next attempt (or a resume, in a new process) finds the primaries again.
 */
const openStores = new WeakMap<object, Promise<RebuildStores>>();

function storesOf(ctx: StepContext): Promise<RebuildStores> {
  let p = openStores.get(ctx.env);
  if (!p) {
    p = (async () => {
      const stores = await openNotificationStores(fleet(ctx.env), ctx.inventory);
      const more = await Promise.all(Array.from({ length: READERS - 1 }, () => fleet(ctx.env).mysql(stores.dbHost)));
      await stores.redis.script('LOAD', REBUILD_USER_LUA);
      return {
        stores,
        readers: [stores.db, ...more],
        close: async () => {
          openStores.delete(ctx.env);
          await Promise.all(more.map((c) => c.end().catch(() => c.destroy())));
          await stores.close();
        },
      };
    })();
    openStores.set(ctx.env, p);
    p.catch(() => openStores.delete(ctx.env));
  }
  return p;
}

/** What the steps before this one wrote (their results are journaled, so this holds after a resume too). */
function doneSoFar(ctx: StepContext, plan: RebuildPlan): { users: number; notifications: number } {
  const done = plan.ranges.map((r) => resultOf(ctx, rangeResult(r))).filter((t): t is RebuildTotals => t !== undefined);
  return { users: done.reduce((n, t) => n + t.users, 0), notifications: done.reduce((n, t) => n + t.notifications, 0) };
}

function rebuildStep(range: UserRange, plan: RebuildPlan, params: RedisRebuildParams): Step {
  return {
    id: rangeResult(range).id,
    kind: 'action',
    // A merge that commutes with the app's writes: running it again after a crash is safe.
    semantics: 'idempotent',
    title: `rebuild users ${range.from}-${range.to} in Redis from MariaDB`,
    describe: () => ({ target: `Redis ${plan.redis}`, inputs: { users: `${range.from}-${range.to}`, rate: params.rate || 'unthrottled' }, consequence: 'adds what Redis lacks; removes nothing, never marks a read notification unread' }),
    async run(ctx): Promise<RebuildTotals> {
      const open = await storesOf(ctx);
      try {
        const e = open.stores.redisEndpoint;
        const before = doneSoFar(ctx, plan);
        const totals = await rebuildRange(open.readers, () => RedisMassInsert.connect(e.host, e.port, e.password, 5_000), range, { ratePerS: params.rate, signal: ctx.signal });
        const users = before.users + totals.users;
        const notifications = before.notifications + totals.notifications;
        const rate = Math.round(totals.notifications / Math.max(0.001, totals.durationMs / 1000));
        await ctx.note(
          `users ${range.from}-${range.to}: ${totals.notifications} notifications of ${totals.users} users in ${(totals.durationMs / 1000).toFixed(1)} s (${rate}/s), ${totals.changedUsers} users changed; ` +
            `so far ${notifications} of ${plan.notifications} notifications (${Math.floor((notifications / Math.max(1, plan.notifications)) * 100)} %), ${users} users`,
        );
        return totals;
      } catch (err) {
        await open.close();
        throw err;
      }
    },
  };
}

function verifyStep(plan: RebuildPlan, params: RedisRebuildParams): Step {
  return {
    id: 'verify',
    kind: 'probe',
    title: params.verify === 'all' ? 'check every rebuilt user against MariaDB' : 'no check (--verify off)',
    async run(ctx) {
      // The parts' stores, and closed here: the parts are done with them.
      const open = await storesOf(ctx);
      const stores = open.stores;
      try {
        if (params.verify === 'off') return await ctx.note('not checked (--verify off): run "gameday warmup redis verify --all"');
        const from = plan.ranges[0].from;
        const to = plan.ranges[plan.ranges.length - 1].to;
        const [rows] = await stores.db.query<RowDataPacket[]>(`SELECT id FROM ${NOTIFICATIONS_DB}.users WHERE id BETWEEN ? AND ? ORDER BY id`, [from, to]);
        const result = await verifyNotifications(stores.db, stores.redis, rows.map((r) => Number(r.id)));
        const line = describeVerify(result);
        await ctx.note(line, { consistency: { ...result, users: result.users.slice(0, 1000) } });
        if (result.usersMismatched > 0) throw new GamedayError('REDIS_DIVERGED', line, `Redis ${stores.redisAddress}`, repairHint(result));
        return { usersChecked: result.usersChecked, notificationsChecked: result.notificationsChecked, mismatches: 0 };
      } finally {
        await open.close();
      }
    },
  };
}

/**
 * The last step: Redis holds every user again, so the app may serve reads from it (WARM_KEY).
 * Only after a rebuild of every user: one of some users leaves the others as they were.
 */
function markWarmStep(params: RedisRebuildParams): Step {
  return {
    id: 'mark-warm',
    kind: 'action',
    semantics: 'idempotent',
    title: params.users ? 'leave the warm marker as it is (only some users were rebuilt)' : 'mark Redis warm: the app serves reads from it again',
    describe: () => ({ target: 'Redis', inputs: { key: WARM_KEY }, consequence: params.users ? 'nothing' : 'reads move back from MariaDB to Redis' }),
    async run(ctx) {
      if (params.users) return ctx.note(`only users ${params.users.from}-${params.users.to} were rebuilt: ${WARM_KEY} is left as it was`);
      const stores = await openNotificationStores(fleet(ctx.env), ctx.inventory);
      try {
        await stores.redis.set(WARM_KEY, new Date().toISOString());
        await ctx.note(`${WARM_KEY} set on ${stores.redisAddress}: the app reads from Redis again`);
      } finally {
        await stores.close();
      }
    },
  };
}

/**
 * After the Redis data set was lost (2017: it was rebuilt from MariaDB with
 * every notification unread): every user's notifications, read state and
 * unread counter rebuilt exactly from MariaDB, while the app keeps writing,
 * in resumable parts, then checked user by user.
 */
export const redisRebuild: Runbook<RedisRebuildParams, RebuildPlan> = {
  name: 'redis-rebuild',
  summary: 'Rebuild the notification data in Redis from MariaDB (ids, read state, unread counters), while the app writes; resumable',
  params: redisRebuildParams,
  async resolve({ params, inventory, env }) {
    const stores = await openNotificationStores(fleet(env), inventory);
    try {
      const range = params.users ?? (await allUsers(stores.db));
      if (!range) throw new GamedayError('NO_USERS', 'MariaDB has no users: there is nothing to rebuild', `${stores.dbHost} ${NOTIFICATIONS_DB}.users`, 'check that this is the notification database');
      const [[count]] = await stores.db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${NOTIFICATIONS_DB}.notifications WHERE user_id BETWEEN ? AND ?`, [range.from, range.to]);
      return { ranges: splitRange(range, params.parts), notifications: Number(count.n), db: stores.dbHost, redis: stores.redisAddress };
    } finally {
      await stores.close();
    }
  },
  locks: () => ['redis:rebuild'],
  steps: (plan, params) => [...plan.ranges.map((r) => rebuildStep(r, plan, params)), verifyStep(plan, params), markWarmStep(params)],
  examplePlan: { ranges: [{ from: 1, to: 2500 }, { from: 2501, to: 5000 }], notifications: 200_000, db: 'db-1', redis: '198.18.20.121:6379' },
  exampleParams: { parts: 2 },
};
