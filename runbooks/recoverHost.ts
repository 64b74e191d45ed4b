import { z } from 'zod';
import type { Runbook, Step } from '../engine/types.js';
import { durationParam, formatDuration } from '../core/duration.js';
import { gatedRampStep } from './nested/gatedRamp.js';
import { warmStage, whatWarms, type Warms } from './nested/warmStages.js';
import { fleet, hostByName, membershipsOf } from './steps/fleet.js';
import { rampPercents, returnSteps } from './steps/hostSteps.js';
import { setServerState } from '../drivers/haproxy/runtime.js';
import { consistencyCheckStep, verifyParams } from './steps/consistencyCheck.js';
import { mysqlReadiness, withConnection } from '../drivers/mysql/readiness.js';
import { kindOf } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { sourceFileOf } from '../core/paths.js';
import { reopenPrimaryStep, strandedPrimary, writePoolsTakeItStep } from './steps/reopenPrimary.js';

export const sourceFile = sourceFileOf(import.meta.url);

export const recoverHostParams = z.object({
  host: z.string().min(1).describe('the host that came back from a power loss, e.g. db-2'),
  maxLagMs: z.coerce.number().int().min(0).default(1000).describe('replica lag (heartbeat) under which a db host is ready'),
  readySamples: z.coerce.number().int().min(1).default(3).describe('ready samples in a row before weight is given back'),
  readyTimeout: durationParam('30m').describe('how long to wait for it to catch up'),
  ramp: rampPercents.prefault('10,25,50,100').describe('weight steps in percent, rising, ending at 100'),
  rampHold: durationParam('5s', { minMs: 1000 }).describe('how long each weight step is held and checked'),
  rampRetries: z.coerce.number().int().min(0).max(10).default(2).describe('times a weight step is tried again after a failed gate, before the host is taken out'),
  acceptUnknown: z.enum(['writable-primary']).optional().describe('a guard that could not be evaluated to run without: writable-primary (is the db host the writable primary?) when its login is missing or it does not answer'),
  warmup: z.enum(['on', 'off']).default('on').describe('warm before the ramp: a db host\'s buffer pool from a warm peer (warmup mysql); Redis rebuilt from MariaDB when its data set was lost (warmup redis rebuild)'),
  ...verifyParams,
});
export type RecoverHostParams = z.infer<typeof recoverHostParams>;

/**
 * Fencing the writable primary stops every write (a game day measured 2.2 s
 * of failed writes): it is refused, with what to do instead. A guard that
 * could not be evaluated (no login, no answer) is no pass: its cause, for
 * the plan to show and a run to refuse unless the operator accepts it.
 */
async function writablePrimaryGuard(env: Record<string, unknown>, host: string, isDb: boolean): Promise<{ unknown?: string }> {
  if (!isDb) return {};
  let r: Awaited<ReturnType<typeof mysqlReadiness>>;
  try {
    r = await withConnection(fleet(env).mysql, host, mysqlReadiness);
  } catch (err) {
    return { unknown: err instanceof GamedayError ? `${err.code}: ${err.message}` : (err as Error).message };
  }
  if (!r.readOnly && !r.replicating) {
    throw new GamedayError('RECOVER_PRIMARY', `${host} is the writable primary now: fencing it would stop every write; it needs no recovery (its replicas follow it)`, host, 'to take it out of service, switch over first (reboot-stale does), or run failover-db if it is lost');
  }
  return {};
}

/**
 * After a power loss: fence the host (maint: no traffic, no health checks
 * putting it back at full weight the moment it answers), wait until it is
 * ready by the same checks as the reboot job, then ramp its weight, and
 * check the notification data in Redis against MariaDB.
 */
interface RecoverPlan {
  host: string;
  pools: string[];
  startedAt: string;
  warms?: Warms;
  /** A primary that restarted read-only (by the contract) with no failover: it gets its writes back instead of a fence and a ramp. */
  reopen?: string;
  /** Why the writable-primary guard could not be evaluated (the plan says so; a run went on only with --accept-unknown). */
  primaryUnknown?: string;
}

export const recoverHost: Runbook<RecoverHostParams, RecoverPlan> = {
  name: 'recover-host',
  summary: 'Hold a host that came back from a power loss out of traffic until it is ready, then ramp its weight back',
  params: recoverHostParams,
  async resolve({ params, inventory, env, dryRun }) {
    const host = hostByName(inventory, params.host);
    const isDb = kindOf(inventory, host) === 'mariadb';
    const guard = await writablePrimaryGuard(env, host.name, isDb);
    if (guard.unknown && !dryRun && params.acceptUnknown !== 'writable-primary') {
      throw new GamedayError(
        'GUARD_UNKNOWN',
        `cannot tell whether ${host.name} is the writable primary (${guard.unknown}); fencing the writable primary stops every write, so nothing was done`,
        '--host',
        `fix the cause and run again, or, once you know ${host.name} is not the primary: --accept-unknown writable-primary`,
      );
    }
    const stranded = isDb ? await strandedPrimary(fleet(env), inventory, host) : undefined;
    const warms = whatWarms(inventory, host);
    return {
      host: host.name,
      pools: membershipsOf(inventory, host.name).map((m) => m.pool),
      startedAt: new Date().toISOString(),
      ...(warms ? { warms } : {}),
      ...(stranded?.ok ? { reopen: stranded.why } : {}),
      ...(guard.unknown ? { primaryUnknown: guard.unknown } : {}),
    };
  },
  locks: (plan) => [`host:${plan.host}`],
  exampleParams: { host: 'db-2' },
  steps(plan, params): Step[] {
    // Its replicas wait on it and every write fails meanwhile: the writes first, the warm-up after (it runs on a live primary).
    if (plan.reopen) {
      return [
        reopenPrimaryStep(plan.host),
        writePoolsTakeItStep(plan.host, params.readyTimeout),
        ...(params.warmup === 'on' ? warmStage(`${plan.host}/warm`, plan.host, plan.warms, 'while it takes the writes') : []),
        consistencyCheckStep(`${plan.host}/verify-notifications`, plan.startedAt, params),
      ];
    }
    return [
      {
        id: `${plan.host}/fence`,
        kind: 'action',
        semantics: 'idempotent',
        title: `fence ${plan.host} (maint in every pool)`,
        describe: () => ({
          target: plan.host,
          inputs: { pools: plan.pools },
          consequence: plan.primaryUnknown
            ? `UNKNOWN whether ${plan.host} is the writable primary (${plan.primaryUnknown}): if it is, this stops every write; a run refuses unless --accept-unknown writable-primary`
            : `${plan.host} takes no traffic until it is ready`,
        }),
        async run(ctx) {
          const f = fleet(ctx.env);
          if (plan.primaryUnknown) await ctx.note(`writable-primary guard UNKNOWN (${plan.primaryUnknown}): accepted by --accept-unknown writable-primary`);
          if (plan.pools.length === 0) return ctx.note(`${plan.host} is in no load-balancer pool: nothing to fence`);
          for (const m of membershipsOf(ctx.inventory, plan.host)) {
            for (const proxy of m.proxies) await setServerState(f.haproxyEndpoint(proxy), m.backend, plan.host, 'maint');
          }
          await ctx.note(`${plan.host} fenced`, { degraded: `${plan.host} is fenced (maint)` });
        },
      },
      ...returnSteps(plan.host, plan.host, {
        maxLagMs: params.maxLagMs,
        readySamples: params.readySamples,
        readyTimeoutS: params.readyTimeout / 1000,
      }),
      ...(params.warmup === 'on' ? warmStage(`${plan.host}/warm`, plan.host, plan.warms) : []),
      // A host in no pool (Redis, Sentinel, a proxy) has no weight to give back.
      ...(plan.pools.length > 0 ? [gatedRampStep(`${plan.host}/ramp`, plan.host, { steps: params.ramp, holdMs: params.rampHold, retries: params.rampRetries, maxLagMs: params.maxLagMs })] : []),
      consistencyCheckStep(`${plan.host}/verify-notifications`, plan.startedAt, params),
    ];
  },
};
