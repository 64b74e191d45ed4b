import { z } from 'zod';
import type { Runbook, Step } from '../engine/types.js';
import { durationParam, formatDuration } from '../core/duration.js';
import { hostByName, membershipsOf } from './steps/fleet.js';
import { rampPercents } from './steps/hostSteps.js';
import { rampTarget, shareFullWeight, type RampPlan } from './steps/rampTargets.js';
import { ALB_MAX_WEIGHT, ROUTE53_MAX_WEIGHT, checkAlbShareOptions, checkRoute53ShareOptions } from '../drivers/traffic/shapes.js';
import { GamedayError } from '../core/errors.js';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

const optionalText = (what: string) => z.string().min(1).optional().describe(what);

export const rampParams = z
  .object({
    host: optionalText('the server whose weight to raise in its HAProxy pools, e.g. app-2 or db-2'),
    albListener: optionalText('instead of a host: the ALB listener whose weighted forward action lists --target-group'),
    albRule: optionalText('with --alb-listener: the listener rule holding the weighted forward, when it is not the default action'),
    targetGroup: optionalText('with --alb-listener: the ARN of the target group to ramp (one per zone or data center)'),
    route53Zone: optionalText('instead of a host: the Route 53 hosted zone id of a weighted record set'),
    record: optionalText('with --route53-zone: the record\'s name, e.g. api.example.com'),
    recordType: z.string().default('A').describe('with --route53-zone: the record type'),
    setIdentifier: optionalText('with --route53-zone: the SetIdentifier of the weighted record to ramp'),
    fullWeight: z.coerce.number().int().min(1).max(ALB_MAX_WEIGHT).optional().describe('ALB / Route 53: the weight that is 100 % (default: the highest weight of its peers)'),
    alarms: z.string().optional().describe('ALB / Route 53: CloudWatch alarms that must not be in ALARM while held, comma-separated'),
    region: optionalText('ALB / Route 53: region of the alarms (an ALB\'s comes from its ARN)'),
    steps: rampPercents.prefault('10,25,50,100').describe('weight steps in percent, rising, ending at 100'),
    hold: durationParam('30s', { minMs: 1000 }).describe('how long each step is held and checked against the gates'),
    retries: z.coerce.number().int().min(0).max(10).default(2).describe('times a step is tried again, after stepping back down, before the server is taken out'),
    maxErrorPercent: z.coerce.number().min(0).max(100).default(1).describe('errors allowed above its peers, in percent of its sessions'),
    maxSlowdown: z.coerce.number().min(1).max(100).default(2).describe('times its peers\' response time it may take'),
    maxQueued: z.coerce.number().int().min(0).default(10).describe('requests it may have queued'),
    maxLagMs: z.coerce.number().int().min(0).default(1000).describe('db hosts: replication lag (heartbeat) allowed while held'),
  })
  .refine((p) => p.host !== undefined || p.albListener !== undefined || p.route53Zone !== undefined, {
    message: 'say what to ramp: a host (gameday ramp app-2), an ALB target group (--alb-listener and --target-group) or a Route 53 record (--route53-zone, --record, --set-identifier)',
    path: ['host'],
  });
export type RampParams = z.infer<typeof rampParams>;

const listOf = (text = '') => text.split(',').map((s) => s.trim()).filter(Boolean);

/** One of the three kinds of ramp, from the flags; a half-given kind names what is missing. */
async function resolvePlan(params: RampParams, inventory: Parameters<Runbook<RampParams, RampPlan>['resolve']>[0]['inventory']): Promise<RampPlan> {
  const kinds = [params.host && 'a host', params.albListener && '--alb-listener', params.route53Zone && '--route53-zone'].filter(Boolean);
  if (kinds.length > 1) throw new GamedayError('RAMP_TWO_TARGETS', `one ramp raises one thing: ${kinds.join(' and ')} were both given`, kinds.join(', '), 'run one ramp per server, target group or record');
  const missing = (flag: string, kind: string) => new GamedayError('RAMP_MISSING', `${kind} needs ${flag}`, flag, `add ${flag}`);
  const aws = { alarms: listOf(params.alarms), ...(params.region ? { region: params.region } : {}) };
  if (params.albListener) {
    if (!params.targetGroup) throw missing('--target-group', 'an ALB ramp');
    const o = { listenerArn: params.albListener, targetGroupArn: params.targetGroup, ...(params.albRule ? { ruleArn: params.albRule } : {}) };
    checkAlbShareOptions(o);
    const base = { via: 'alb' as const, label: `target group ${params.targetGroup.split('/')[1]}`, ...o, ...aws };
    return { ...base, fullWeight: await fullWeightOf(base, params.fullWeight, ALB_MAX_WEIGHT) };
  }
  if (params.route53Zone) {
    if (!params.record) throw missing('--record', 'a Route 53 ramp');
    if (!params.setIdentifier) throw missing('--set-identifier', 'a Route 53 ramp');
    const o = { hostedZoneId: params.route53Zone, recordName: params.record, recordType: params.recordType, setIdentifier: params.setIdentifier };
    checkRoute53ShareOptions(o);
    const base = { via: 'route53' as const, label: `record ${params.record} "${params.setIdentifier}"`, ...o, ...aws };
    return { ...base, fullWeight: await fullWeightOf(base, params.fullWeight, ROUTE53_MAX_WEIGHT) };
  }
  const host = hostByName(inventory, params.host!);
  const servers = membershipsOf(inventory, host.name).flatMap((m) => m.proxies.map((p) => ({ proxy: p.name, backend: m.backend })));
  if (servers.length === 0) throw new GamedayError('RAMP_NO_POOL', `${host.name} is in no load-balancer pool: it has no weight to raise`, '--host', 'name a server of a pool (gameday lab inventory lists them)');
  return { via: 'haproxy', host: host.name, servers };
}

async function fullWeightOf(base: Parameters<typeof shareFullWeight>[0], given: number | undefined, max: number): Promise<number> {
  if (given !== undefined && given > max) throw new GamedayError('RAMP_BAD_WEIGHT', `--full-weight ${given} is above the highest weight ${base.via === 'alb' ? 'an ALB' : 'Route 53'} takes (${max})`, '--full-weight', `give 1-${max}`);
  const w = await shareFullWeight(base, given);
  if (w.fullWeight <= 0) {
    throw new GamedayError('RAMP_NO_FULL_WEIGHT', `${base.label} and its peers all have weight 0: there is no weight to ramp it back to`, '--full-weight', 'say what 100 % is, e.g. --full-weight 100');
  }
  return w.fullWeight;
}

function rungStep(plan: RampPlan, params: RampParams, index: number): Step {
  const target = rampTarget(plan);
  const pct = params.steps[index];
  const lower = index === 0 ? 0 : params.steps[index - 1];
  const limits = { maxErrorPercent: params.maxErrorPercent, maxSlowdown: params.maxSlowdown, maxQueued: params.maxQueued, maxLagMs: params.maxLagMs };
  return {
    id: `${target.id}/weight-${pct}`,
    kind: 'action',
    semantics: 'idempotent',
    title: `raise ${target.name} to ${pct}% and hold ${formatDuration(params.hold)} behind the gates`,
    locks: [target.lock],
    describe: () => ({ target: target.name, inputs: { weight: `${pct}%`, hold: formatDuration(params.hold), retries: params.retries }, consequence: `${target.name} takes ${pct}% of its share; back to ${lower}% when a gate fails` }),
    async run(ctx) {
      // A gate failed at this step before (the run failed, and this is a resume): never raise again in this run.
      if (ctx.previously === 'failed') {
        throw new GamedayError('RAMP_GATE_FAILED_BEFORE', `a gate failed at ${pct}% in this run and ${target.name} was taken out: this run does not raise it again`, target.name, `find out why (gameday runbook status ${ctx.runId}), then start a new ramp`);
      }
      if (index === 0) {
        await target.setPercent(ctx, pct);
        await target.enter(ctx);
      }
      for (let attempt = 0; attempt <= params.retries; attempt++) {
        if (index > 0 || attempt > 0) await target.setPercent(ctx, pct);
        const verdict = await target.hold(ctx, params.hold, limits);
        if (verdict.ok) {
          // Held, but on too little to judge everything: said where the operator reads it, not only in the journal.
          if (verdict.unjudged) await ctx.note(`held at ${pct}% without judging everything: ${verdict.detail}`, { weight: pct, unjudged: true });
          if (pct >= 100) await ctx.note(`${target.name} back at full weight`, { degraded: null, host: target.name });
          return { weight: pct, attempts: attempt + 1, gates: verdict.detail };
        }
        await ctx.note(`gate failed at ${pct}% (try ${attempt + 1} of ${params.retries + 1}): ${verdict.detail}`, { gateFailed: true, weight: pct });
        await target.setPercent(ctx, lower);
        if (attempt < params.retries) await target.hold(ctx, params.hold, limits); // let it settle at the lower weight before trying again
      }
      const where = await target.takeOut(ctx);
      await ctx.note(`${where}: the gates failed at ${pct}% ${params.retries + 1} times`, { degraded: `${where}: ramp gates failed at ${pct}%`, host: target.name });
      throw new GamedayError('RAMP_GATE_FAILED', `the gates failed at ${pct}% ${params.retries + 1} times: ${where}, marked degraded`, target.name, 'see the notes of this run for the failing gate; fix it, then run the ramp again');
    },
  };
}

/**
 * Raises a share of traffic one step at a time, each held and checked
 * against gates, on whatever carries the weight:
 * - a server, on every proxy of every HAProxy pool that lists it: its
 *   errors, response time and queue against the other servers of the same
 *   pool (HAProxy's own counters), and for a db host its replication lag;
 * - an ALB target group in a weighted forward action (a zone or a data
 *   center behind one ALB): its targets' health, its 5xx and response time
 *   against the other target groups (CloudWatch), named alarms;
 * - a Route 53 weighted record: its health check, named alarms.
 * A failing gate steps the weight back down one step, holds, and tries
 * again a bounded number of times, then takes it out (maint, or weight 0)
 * and marks the run degraded. Every weight change is a note in the
 * journal; a resume never raises after a failed gate.
 */
export const ramp: Runbook<RampParams, RampPlan> = {
  name: 'ramp',
  summary: 'Raise a server\'s (or an ALB target group\'s, or a Route 53 record\'s) weight step by step behind gates; step back down when one fails',
  params: rampParams,
  resolve: ({ params, inventory }) => resolvePlan(params, inventory),
  locks: (plan) => [rampTarget(plan).lock],
  steps: (plan, params) => params.steps.map((_, i) => rungStep(plan, params, i)),
  examplePlan: { via: 'haproxy', host: 'app-2', servers: [{ proxy: 'proxy-1', backend: 'web' }, { proxy: 'proxy-2', backend: 'web' }] },
  exampleParams: { host: 'app-2' },
};
