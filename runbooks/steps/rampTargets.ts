import { setTimeout as sleep } from 'node:timers/promises';
import type { StepContext } from '../../engine/types.js';
import { fleet, hostByName } from './fleet.js';
import { setL7check } from './hostSteps.js';
import { hostReady } from './hostGates.js';
import { serverCounters, setServerState, setWeight, type ServerCounters } from '../../drivers/haproxy/runtime.js';
import type { WeightedShare } from '../../drivers/traffic/types.js';
import { ALB_MAX_WEIGHT, ROUTE53_MAX_WEIGHT } from '../../drivers/traffic/shapes.js';
import { judgePool, type GateVerdict, type RampLimits } from '../../warmup/rampGates.js';
import { judgeShare } from '../../warmup/trafficGates.js';
import { kindOf } from '../../topology/index.js';

/** What a ramp raises: a server in HAProxy pools, an ALB target group, a Route 53 weighted record. */
export type RampPlan = HaproxyRampPlan | AlbRampPlan | Route53RampPlan;

export interface HaproxyRampPlan {
  /** Absent in runs journaled before ALB and Route 53 ramps existed. */
  via?: 'haproxy';
  host: string;
  /** backend on proxy, for every pool that lists the host. */
  servers: Array<{ proxy: string; backend: string }>;
}

interface AwsRampPlan {
  /** What the run's notes and errors call it. */
  label: string;
  /** The weight that is 100 %: --full-weight, else its peers' highest. */
  fullWeight: number;
  alarms: string[];
  region?: string;
}
export interface AlbRampPlan extends AwsRampPlan {
  via: 'alb';
  listenerArn: string;
  ruleArn?: string;
  targetGroupArn: string;
}
export interface Route53RampPlan extends AwsRampPlan {
  via: 'route53';
  hostedZoneId: string;
  recordName: string;
  recordType: string;
  setIdentifier: string;
}

export interface GateLimits extends RampLimits {
  maxLagMs: number;
}

/** One ramp's moves, whatever carries the weight. */
export interface RampTarget {
  /** Its name in notes: the host, or the target group / record. */
  name: string;
  /** Short and without spaces, for step ids: the host, tg-<name>, record-<set identifier>. */
  id: string;
  lock: string;
  /** Before the first step: back in rotation (out of maint) and answering health checks. */
  enter(ctx: StepContext): Promise<void>;
  setPercent(ctx: StepContext, pct: number): Promise<void>;
  /** Holds the current weight for `ms` and judges it. */
  hold(ctx: StepContext, ms: number, limits: GateLimits): Promise<GateVerdict>;
  /** Takes no traffic any more; says where it was left. */
  takeOut(ctx: StepContext): Promise<string>;
}

export function rampTarget(plan: RampPlan): RampTarget {
  if (plan.via === 'alb') return new ShareTarget(plan, `alb:${plan.targetGroupArn}`);
  if (plan.via === 'route53') return new ShareTarget(plan, `route53:${plan.hostedZoneId}/${plan.recordName}/${plan.recordType}/${plan.setIdentifier}`);
  return haproxyTarget(plan);
}

/** A gate fails on two failing samples in a row (one slow answer is not a trend). */
function holdLoop(sampleMs: number, judge: () => Promise<GateVerdict>, ms: number, signal: AbortSignal, lastCounts = false): Promise<GateVerdict> {
  return (async () => {
    const until = Date.now() + ms;
    let failing = 0;
    let last: GateVerdict = { ok: true, detail: 'held' };
    while (Date.now() < until) {
      await sleep(Math.min(sampleMs, Math.max(0, until - Date.now())), undefined, { signal });
      last = await judge();
      failing = last.ok ? 0 : failing + 1;
      if (failing >= 2) return last;
    }
    // A window that grows with the hold (CloudWatch sums since its start) speaks for the whole hold at its end.
    if (!last.ok && lastCounts) return last;
    if (last.ok) return last;
    return failing < 2 ? { ok: true, detail: `held (one failing sample: ${last.detail})` } : last;
  })();
}

// ---- HAProxy: a server in every pool that lists it, on every proxy of those pools.

const HAPROXY_SAMPLE_MS = 1000;

function haproxyTarget(plan: HaproxyRampPlan): RampTarget {
  const countersOf = async (ctx: StepContext): Promise<Map<string, ServerCounters[]>> => {
    const f = fleet(ctx.env);
    const proxies = [...new Set(plan.servers.map((s) => s.proxy))];
    const views = await Promise.all(proxies.map((p) => serverCounters(f.haproxyEndpoint(hostByName(ctx.inventory, p)))));
    return new Map(proxies.map((p, i) => [p, views[i]]));
  };
  const gates = async (ctx: StepContext, before: Map<string, ServerCounters[]>, limits: GateLimits): Promise<GateVerdict> => {
    const now = await countersOf(ctx);
    const unjudged: string[] = [];
    // A db host is in the write and the read pool, and UP only in the one that fits its role: on each proxy
    // it must be UP in one pool at least, and pass the gates in every pool where it is UP.
    for (const proxy of new Set(plan.servers.map((s) => s.proxy))) {
      const mine = plan.servers.filter((s) => s.proxy === proxy);
      const isUp = (backend: string) => (now.get(proxy) ?? []).some((r) => r.backend === backend && r.server === plan.host && r.status.startsWith('UP'));
      const serving = mine.filter((s) => isUp(s.backend));
      if (serving.length === 0) {
        const states = mine.map((s) => `${s.backend}=${(now.get(proxy) ?? []).find((r) => r.backend === s.backend && r.server === plan.host)?.status ?? 'absent'}`);
        return { ok: false, detail: `${proxy}: ${plan.host} is not UP (${states.join(', ')})` };
      }
      for (const s of serving) {
        const v = judgePool(before.get(proxy) ?? [], now.get(proxy) ?? [], s.backend, plan.host, limits);
        if (!v.ok) return { ok: false, detail: `${proxy}: ${v.detail}` };
        if (v.unjudged) unjudged.push(`${proxy}: ${v.detail}`);
      }
    }
    const host = hostByName(ctx.inventory, plan.host);
    if (kindOf(ctx.inventory, host) === 'mariadb') {
      const ready = await hostReady(fleet(ctx.env), ctx.inventory, host, limits.maxLagMs);
      if (!ready.ok) return { ok: false, detail: `${plan.host}: ${ready.detail}` };
    }
    const detail = `every gate held on ${plan.servers.length} pool servers`;
    return unjudged.length ? { ok: true, detail: `${detail}; ${unjudged.join('; ')}`, unjudged } : { ok: true, detail };
  };
  const setState = async (ctx: StepContext, state: 'ready' | 'maint') => {
    const f = fleet(ctx.env);
    for (const s of plan.servers) await setServerState(f.haproxyEndpoint(hostByName(ctx.inventory, s.proxy)), s.backend, plan.host, state);
  };
  return {
    name: plan.host,
    id: plan.host,
    lock: `host:${plan.host}`,
    async enter(ctx) {
      await setState(ctx, 'ready');
      // An app instance taken out of rotation by a drain goes back in; one that does not answer is judged by the gates.
      await setL7check(fleet(ctx.env), ctx.inventory, hostByName(ctx.inventory, plan.host), true).catch((err: Error) => ctx.note(`${plan.host}'s L7 check could not be put in rotation: ${err.message}`));
      // Out of maint, its health checks must pass (rise) before the gates can judge it: wait up to 30 s.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !ctx.signal.aborted) {
        const now = await countersOf(ctx);
        const upEverywhere = [...now.values()].every((rows) => rows.some((r) => r.server === plan.host && r.status.startsWith('UP') && plan.servers.some((s) => s.backend === r.backend)));
        if (upEverywhere) return;
        await sleep(250, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    },
    async setPercent(ctx, pct) {
      const f = fleet(ctx.env);
      for (const s of plan.servers) await setWeight(f.haproxyEndpoint(hostByName(ctx.inventory, s.proxy)), s.backend, plan.host, `${pct}%`);
      await ctx.note(`${plan.host} at ${pct}% of its weight`, { weight: pct, host: plan.host });
    },
    async hold(ctx, ms, limits) {
      const before = await countersOf(ctx);
      return holdLoop(HAPROXY_SAMPLE_MS, () => gates(ctx, before, limits), ms, ctx.signal);
    },
    async takeOut(ctx) {
      await setState(ctx, 'maint');
      return `${plan.host} is out (maint)`;
    },
  };
}

// ---- ALB target groups and Route 53 weighted records.

/** AWS calls cost and CloudWatch counts per minute: sample every 10 s. */
const AWS_SAMPLE_MS = 10_000;

class ShareTarget implements RampTarget {
  readonly name: string;
  readonly id: string;

  private loaded?: WeightedShare;

  constructor(
    private readonly plan: AlbRampPlan | Route53RampPlan,
    readonly lock: string,
  ) {
    this.name = plan.label;
    this.id = plan.via === 'alb' ? `tg-${plan.targetGroupArn.split('/')[1]}` : `record-${plan.setIdentifier.replace(/\s+/g, '-')}`;
  }

  /** The AWS SDK loads only when an AWS ramp runs (it costs half a second of start-up). */
  private async share(): Promise<WeightedShare> {
    this.loaded ??= await loadShare(this.plan);
    return this.loaded;
  }

  async enter(): Promise<void> {
    // No maint state outside HAProxy: weight 0 is out, and the first step gives it its first share.
  }

  /** A percentage of the full weight, never 0 for a step above 0 (ALB and Route 53 take integers). */
  weightOf(pct: number): number {
    const max = this.plan.via === 'alb' ? ALB_MAX_WEIGHT : ROUTE53_MAX_WEIGHT;
    return pct <= 0 ? 0 : Math.min(max, Math.max(1, Math.round((this.plan.fullWeight * pct) / 100)));
  }

  async setPercent(ctx: StepContext, pct: number): Promise<void> {
    const weight = this.weightOf(pct);
    await (await this.share()).setWeight(weight);
    await ctx.note(`${this.name} at ${pct}% of its weight (${weight} of ${this.plan.fullWeight})`, { weight: pct, absoluteWeight: weight, target: this.name });
  }

  async hold(ctx: StepContext, ms: number, limits: GateLimits): Promise<GateVerdict> {
    const since = new Date();
    const share = await this.share();
    const { alarmsFiring } = await import('../../drivers/traffic/alarms.js');
    const judge = async () => judgeShare(this.name, await share.health(since), await alarmsFiring(this.plan.alarms, this.plan.region), limits);
    return holdLoop(AWS_SAMPLE_MS, judge, ms, ctx.signal, true);
  }

  async takeOut(): Promise<string> {
    await (await this.share()).setWeight(0);
    return `${this.name} is at weight 0`;
  }
}

async function loadShare(plan: Omit<AlbRampPlan, 'fullWeight'> | Omit<Route53RampPlan, 'fullWeight'>): Promise<WeightedShare> {
  if (plan.via === 'alb') return new (await import('../../drivers/traffic/albForward.js')).AlbForwardShare(plan);
  return new (await import('../../drivers/traffic/route53Weighted.js')).Route53WeightedShare(plan);
}

/** The share's weights now, for the plan: the full weight is --full-weight, else the highest of its peers'. */
export async function shareFullWeight(plan: Omit<AlbRampPlan, 'fullWeight'> | Omit<Route53RampPlan, 'fullWeight'>, given: number | undefined): Promise<{ fullWeight: number; own: number; peers: Array<{ name: string; weight: number }> }> {
  const w = await (await loadShare(plan)).weights();
  const peersMax = Math.max(0, ...w.peers.map((p) => p.weight));
  return { fullWeight: given ?? (peersMax > 0 ? peersMax : w.own), own: w.own, peers: w.peers };
}
