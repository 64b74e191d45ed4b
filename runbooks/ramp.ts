import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Runbook, Step, StepContext } from './engine/types.js';
import { durationParam, formatDuration } from './engine/duration.js';
import { fleet, hostByName, membershipsOf } from './fleet.js';
import { rampPercents, setL7check } from './hostSteps.js';
import { hostReady } from './hostGates.js';
import { serverCounters, setServerState, setWeight, type ServerCounters } from '../drivers/haproxy/runtime.js';
import { judgePool, type GateVerdict, type RampLimits } from '../warmup/rampGates.js';
import { GamedayError } from '../topology/index.js';

export const sourceFile = fileURLToPath(import.meta.url);

export const rampParams = z.object({
  host: z.string().min(1).describe('the server whose weight to raise, e.g. app-2 or db-2'),
  steps: rampPercents.prefault('10,25,50,100').describe('weight steps in percent, rising, ending at 100'),
  hold: durationParam('30s').describe('how long each step is held and checked against the gates'),
  retries: z.coerce.number().int().min(0).max(10).default(2).describe('times a step is tried again, after stepping back down, before the server is taken out'),
  maxErrorPercent: z.coerce.number().min(0).max(100).default(1).describe('errors allowed above its peers, in percent of its sessions'),
  maxSlowdown: z.coerce.number().min(1).max(100).default(2).describe('times its peers\' response time it may take'),
  maxQueued: z.coerce.number().int().min(0).default(10).describe('requests it may have queued'),
  maxLagMs: z.coerce.number().int().min(0).default(1000).describe('db hosts: replication lag (heartbeat) allowed while held'),
});
export type RampParams = z.infer<typeof rampParams>;

interface RampPlan {
  host: string;
  /** backend on proxy, for every pool that lists the host. */
  servers: Array<{ proxy: string; backend: string }>;
}

/** Samples taken while a step is held; a gate fails on two failing samples in a row (one slow answer is not a trend). */
const SAMPLE_MS = 1000;

async function countersOf(ctx: StepContext, plan: RampPlan): Promise<Map<string, ServerCounters[]>> {
  const f = fleet(ctx.env);
  const proxies = [...new Set(plan.servers.map((s) => s.proxy))];
  const views = await Promise.all(proxies.map((p) => serverCounters(f.haproxyEndpoint(hostByName(ctx.inventory, p)))));
  return new Map(proxies.map((p, i) => [p, views[i]]));
}

/** The gates over the window since `before`: against the peers in every pool on every proxy, and a db host's lag. */
async function gates(ctx: StepContext, plan: RampPlan, before: Map<string, ServerCounters[]>, limits: RampLimits, maxLagMs: number): Promise<GateVerdict> {
  const now = await countersOf(ctx, plan);
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
    }
  }
  const host = hostByName(ctx.inventory, plan.host);
  if ('mysql' in host.services) {
    const ready = await hostReady(fleet(ctx.env), ctx.inventory, host, maxLagMs);
    if (!ready.ok) return { ok: false, detail: `${plan.host}: ${ready.detail}` };
  }
  return { ok: true, detail: `every gate held on ${plan.servers.length} pool servers` };
}

/** Holds the current weight for `ms`, sampling the gates every second; the first gate that fails twice in a row ends it. */
async function hold(ctx: StepContext, plan: RampPlan, ms: number, params: RampParams): Promise<GateVerdict> {
  const limits = { maxErrorPercent: params.maxErrorPercent, maxSlowdown: params.maxSlowdown, maxQueued: params.maxQueued };
  const before = await countersOf(ctx, plan);
  const until = Date.now() + ms;
  let failing = 0;
  let last: GateVerdict = { ok: true, detail: 'held' };
  while (Date.now() < until) {
    await sleep(Math.min(SAMPLE_MS, Math.max(0, until - Date.now())), undefined, { signal: ctx.signal });
    last = await gates(ctx, plan, before, limits, params.maxLagMs);
    failing = last.ok ? 0 : failing + 1;
    if (failing >= 2) return last;
  }
  return last.ok || failing < 2 ? { ok: true, detail: last.ok ? last.detail : `held (one failing sample: ${last.detail})` } : last;
}

/** Waits (up to 30 s) until every proxy has the host UP in one of its pools; the gates then say why not. */
async function untilUp(ctx: StepContext, plan: RampPlan): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !ctx.signal.aborted) {
    const now = await countersOf(ctx, plan);
    const upEverywhere = [...now.entries()].every(([, rows]) => rows.some((r) => r.server === plan.host && r.status.startsWith('UP') && plan.servers.some((s) => s.backend === r.backend)));
    if (upEverywhere) return;
    await sleep(250, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

async function setWeightEverywhere(ctx: StepContext, plan: RampPlan, pct: number): Promise<void> {
  const f = fleet(ctx.env);
  for (const s of plan.servers) await setWeight(f.haproxyEndpoint(hostByName(ctx.inventory, s.proxy)), s.backend, plan.host, `${pct}%`);
  await ctx.note(`${plan.host} at ${pct}% of its weight`, { weight: pct, host: plan.host });
}

function rungStep(plan: RampPlan, params: RampParams, index: number): Step {
  const pct = params.steps[index];
  const lower = index === 0 ? 0 : params.steps[index - 1];
  return {
    id: `${plan.host}/weight-${pct}`,
    kind: 'action',
    semantics: 'idempotent',
    title: `raise ${plan.host} to ${pct}% and hold ${formatDuration(params.hold)} behind the gates`,
    locks: [`host:${plan.host}`],
    describe: () => ({ target: plan.host, inputs: { weight: `${pct}%`, hold: formatDuration(params.hold), retries: params.retries }, consequence: `${plan.host} takes ${pct}% of its share; back to ${lower}% when a gate fails` }),
    async run(ctx) {
      // A gate failed at this step before (the run failed, and this is a resume): never raise again in this run.
      if (ctx.previously === 'failed') {
        throw new GamedayError('RAMP_GATE_FAILED_BEFORE', `a gate failed at ${pct}% in this run and ${plan.host} was taken out: this run does not raise it again`, plan.host, `find out why (gameday runbook status ${ctx.runId}), then start a new ramp: gameday ramp ${plan.host}`);
      }
      if (index === 0) {
        await setWeightEverywhere(ctx, plan, pct);
        const f = fleet(ctx.env);
        for (const s of plan.servers) await setServerState(f.haproxyEndpoint(hostByName(ctx.inventory, s.proxy)), s.backend, plan.host, 'ready');
        // An app instance taken out of rotation by a drain goes back in; one that does not answer is judged by the gates.
        await setL7check(f, hostByName(ctx.inventory, plan.host), true).catch((err: Error) => ctx.note(`${plan.host}'s L7 check could not be put in rotation: ${err.message}`));
        await untilUp(ctx, plan); // out of maint, its health checks must pass (rise) before the gates can judge it
      }
      for (let attempt = 0; attempt <= params.retries; attempt++) {
        if (index > 0 || attempt > 0) await setWeightEverywhere(ctx, plan, pct);
        const verdict = await hold(ctx, plan, params.hold, params);
        if (verdict.ok) {
          if (pct >= 100) await ctx.note(`${plan.host} back at full weight`, { degraded: null, host: plan.host });
          return { weight: pct, attempts: attempt + 1, gates: verdict.detail };
        }
        await ctx.note(`gate failed at ${pct}% (try ${attempt + 1} of ${params.retries + 1}): ${verdict.detail}`, { gateFailed: true, weight: pct });
        await setWeightEverywhere(ctx, plan, lower);
        if (attempt < params.retries) await hold(ctx, plan, params.hold, params); // let it settle at the lower weight before trying again
      }
      const f = fleet(ctx.env);
      for (const s of plan.servers) await setServerState(f.haproxyEndpoint(hostByName(ctx.inventory, s.proxy)), s.backend, plan.host, 'maint');
      await ctx.note(`${plan.host} taken out (maint): the gates failed at ${pct}% ${params.retries + 1} times`, { degraded: `${plan.host} is out (maint): ramp gates failed at ${pct}%`, host: plan.host });
      throw new GamedayError('RAMP_GATE_FAILED', `the gates failed at ${pct}% ${params.retries + 1} times: ${plan.host} is out of its pools (maint) and marked degraded`, plan.host, 'see the notes of this run for the failing gate; fix the server, then run the ramp again');
    },
  };
}

/**
 * Raises a server's weight on every proxy of every pool that lists it, one
 * step at a time, each held and checked against gates: its errors, response
 * time and queue against the other servers of the same pool (HAProxy's own
 * counters), and for a db host its replication lag. A failing gate steps the
 * weight back down one step, holds, and tries again a bounded number of
 * times, then takes the server out and marks the run degraded. Every weight
 * change is a note in the journal; a resume never raises after a failed gate.
 */
export const ramp: Runbook<RampParams, RampPlan> = {
  name: 'ramp',
  summary: 'Raise a server\'s weight step by step behind gates (errors, response time, queue, lag against its peers); step back down when one fails',
  params: rampParams,
  async resolve({ params, inventory }) {
    const host = hostByName(inventory, params.host);
    const servers = membershipsOf(inventory, host.name).flatMap((m) => m.proxies.map((p) => ({ proxy: p.name, backend: m.backend })));
    if (servers.length === 0) throw new GamedayError('RAMP_NO_POOL', `${host.name} is in no load-balancer pool: it has no weight to raise`, '--host', 'name a server of a pool (gameday lab inventory lists them)');
    return { host: host.name, servers };
  },
  locks: (plan) => [`host:${plan.host}`],
  steps: (plan, params) => params.steps.map((_, i) => rungStep(plan, params, i)),
  examplePlan: { host: 'app-2', servers: [{ proxy: 'proxy-1', backend: 'web' }, { proxy: 'proxy-2', backend: 'web' }] },
  exampleParams: { host: 'app-2' },
};
