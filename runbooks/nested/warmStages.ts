import type { Step } from '../../engine/types.js';
import { fleet } from '../steps/fleet.js';
import { mysqlWarmup, sourceFile as mysqlWarmupSource } from '../mysqlWarmup.js';
import { redisRebuild, sourceFile as redisRebuildSource } from '../redisRebuild.js';
import { openNotificationStores } from '../steps/consistencyCheck.js';
import { WARM_KEY } from '../../drivers/notificationStore.js';
import { kindOf, type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';

/**
 * The warm-up stage of recover-host and reboot-stale, between "ready" and
 * the weight coming back: what warms depends on what runs on the host.
 */

/** What the warm-up stage warms: a MariaDB buffer pool, a Redis data set, or nothing. */
export type Warms = 'buffer-pool' | 'redis-data';

export function whatWarms(inv: Inventory, host: Host): Warms | undefined {
  const kind = kindOf(inv, host);
  if (kind === 'mariadb') return 'buffer-pool';
  if (kind === 'redis') return 'redis-data';
  return undefined;
}

/** The steps of the warm-up of one host (none when nothing on it warms). */
export function warmStage(id: string, host: string, warms: Warms | undefined, when = 'while it is fenced'): Step[] {
  if (warms === 'buffer-pool') return [warmDbStep(id, host, when)];
  if (warms === 'redis-data') return [warmRedisStep(id)];
  return [];
}

/** A db host's buffer pool warmed from a warm peer (a nested warmup-mysql run), mostly while it is still fenced. */
function warmDbStep(id: string, host: string, when: string): Step {
  return {
    id,
    kind: 'action',
    semantics: 'idempotent',
    title: `warm ${host}'s buffer pool from a warm peer ${when} (warmup mysql)`,
    describe: () => ({ target: host, inputs: { runbook: 'warmup-mysql' }, consequence: 'reads pages into its buffer pool; changes no data' }),
    async run(ctx) {
      const out = await ctx.runChild!({ runbook: mysqlWarmup, sourceFile: mysqlWarmupSource }, { host });
      if (out.state !== 'succeeded') throw new GamedayError('WARMUP_FAILED', `the warm-up of ${host} ${out.state}: ${out.failedStep?.error ?? 'see its run'}`, host, `gameday runbook status ${out.runId}; or skip it: --warmup off (the ramp then warms it from traffic)`);
      await ctx.note(`${host} warm (warm-up ${out.runId})`);
      return { warmupRun: out.runId };
    },
  };
}

/** A Redis host back after a power loss: when the notification data set was lost (no warm marker), rebuilt from MariaDB. */
function warmRedisStep(id: string): Step {
  return {
    id,
    kind: 'action',
    semantics: 'idempotent',
    title: 'rebuild the notification data from MariaDB if Redis lost it (no warm marker)',
    describe: () => ({ target: 'Redis', inputs: { marker: WARM_KEY }, consequence: 'when lost: every user rebuilt exactly from MariaDB (warmup redis rebuild)' }),
    async run(ctx) {
      const stores = await openNotificationStores(fleet(ctx.env), ctx.inventory);
      const warm = await stores.redis.exists(WARM_KEY).finally(() => stores.close());
      if (warm) return ctx.note(`Redis holds its data set (${WARM_KEY} present): no rebuild`);
      const out = await ctx.runChild!({ runbook: redisRebuild, sourceFile: redisRebuildSource }, {});
      if (out.state !== 'succeeded') throw new GamedayError('REBUILD_FAILED', `the Redis rebuild ${out.state}: ${out.failedStep?.error ?? 'see its run'}`, 'Redis', `gameday runbook status ${out.runId}`);
      await ctx.note(`notification data rebuilt from MariaDB (rebuild ${out.runId})`);
      return { rebuildRun: out.runId };
    },
  };
}

