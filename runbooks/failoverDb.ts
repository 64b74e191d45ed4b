import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { clusterPeers, type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { ActionStep, ApprovalStep, ProbeStep, Runbook, Step, StepContext, WaitForStep } from '../engine/types.js';
import { durationParam, formatDuration } from '../core/duration.js';
import { fleet, hostByName, replicationLoginOf, type FleetEnv } from './steps/fleet.js';
import { openServer, showServers, type ServerView } from '../drivers/haproxy/runtime.js';
import { errantGtids, formatErrant, formatGtidPosition, mostAdvanced, parseGtidPosition, type GtidPosition } from '../drivers/mysql/gtid.js';
import { promoteToPrimary, relayLogApplied, replicateFrom, stopIoThread, stopReplication, type PromotionRecord, type ReplicationSource } from '../drivers/mysql/failover.js';
import {
  dbHostAt,
  dbHosts,
  fenceEverywhere,
  proveFenced,
  type FenceProof,
  lossVerdict,
  followProblems,
  mysqlAddress,
  observePrimary,
  onHost,
  primaryOfReplicas,
  requireDbHost,
  viewOf,
  writablePrimaries,
  writePoolsOf,
  type FenceResult,
  type LossVerdict,
  type Vantage,
} from './steps/primaryLoss.js';
import { requireResult, resultKey, resultOf, type WithResults } from './steps/results.js';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

export const failoverDbParams = z.object({
  primary: z.string().min(1).optional().describe('the lost primary (default: the host the replicas replicate from)'),
  candidate: z.string().min(1).optional().describe('the replica to promote (default: the one with the most transactions by GTID)'),
  confirmWithin: durationParam('20s').describe('how long the vantage points may take to agree that the primary is lost'),
  catchUpTimeout: durationParam('60s').describe('how long the replicas may take to apply their relay logs'),
  followTimeout: durationParam('30s').describe('how long the proxies may take to send writes to the new primary'),
});
export type FailoverDbParams = z.infer<typeof failoverDbParams>;

export interface FailoverDbPlan {
  primary: string;
  primaryZone: string;
  /** The other db hosts, in inventory order. */
  replicas: string[];
  confirmedAt: string;
  /** What each vantage point said when the loss was confirmed. */
  evidence: Vantage[];
  /** Every db host is a lab host: no one is asked before acting (DESIGN: only outside the lab). */
  inLab: boolean;
}

const POLL_MS = 500;

/** Polls the vantage points until they agree the primary is lost; refuses when it is alive or never confirmed. */
async function confirmLost(f: ReturnType<typeof fleet>, inv: Inventory, primary: string, withinMs: number): Promise<{ verdict: LossVerdict; evidence: Vantage[] }> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const evidence = await observePrimary(f, inv, hostByName(inv, primary));
    const verdict = lossVerdict(primary, evidence);
    refuseIfAlive(primary, verdict);
    if (verdict.state === 'lost') return { verdict, evidence };
    if (Date.now() >= deadline) {
      throw new GamedayError('PRIMARY_NOT_CONFIRMED_LOST', `${primary} is not confirmed lost within ${formatDuration(withinMs)}: ${verdict.summary}`, primary, 'check it by hand; raise --confirm-within when health checks are slow');
    }
    await sleep(POLL_MS);
  }
}

function refuseIfAlive(primary: string, verdict: LossVerdict): void {
  if (verdict.state === 'alive-writable') {
    throw new GamedayError('PRIMARY_ALIVE', 'the primary is alive: use a switchover (reboot-stale does one) instead', primary, `what the vantage points saw: ${verdict.summary}`);
  }
  if (verdict.state === 'alive-read-only') {
    throw new GamedayError('PRIMARY_ALIVE', `${primary} answers, read-only: it is not lost (a replica, or a primary made read-only), so nothing is failed over`, primary, `if it is the primary and should take writes again: SET GLOBAL read_only = OFF on it; if not, --primary names the lost one; seen: ${verdict.summary}`);
  }
}

/** The order in which equal replicas are preferred: another zone than the lost primary's first, then inventory order. */
function preferenceOrder(inv: Inventory, plan: FailoverDbPlan, names: string[]): string[] {
  const zone = (n: string) => hostByName(inv, n).zone;
  return [...names].sort((a, b) => Number(zone(a) === plan.primaryZone) - Number(zone(b) === plan.primaryZone) || plan.replicas.indexOf(a) - plan.replicas.indexOf(b));
}

/*
 * What each step hands on: its result, as journaled. A step reads another's
 * result only through the keys below.
 */

/** confirm-lost: the loss as seen again when the steps start. */
interface StillLost {
  verdict: LossVerdict['state'];
  evidence: Vantage[];
}

/** freeze-replicas: the replicas of the old primary whose IO thread is stopped (the candidates), those that did not answer, and the db hosts that replicate from someone else. */
interface Frozen {
  frozen: string[];
  unreachable: string[];
  skipped: string[];
}

/** pick-new-primary: the replica to promote, what every eligible one had applied, and why the others are not eligible. */
interface Picked {
  newPrimary: string;
  positions: Record<string, { gtidSlavePos: string; gtidCurrentPos: string }>;
  tiedWith: string[];
  behind: string[];
  notEligible: string[];
}

/** promote: the new primary, what it had received of the old one (promotedAtGtid), and when it took writes. */
type Promoted = PromotionRecord & { newPrimary: string; writableAt: string };

/** repoint-replicas: the replicas that follow the new primary, those left stopped and fenced for errant transactions, those that did not answer. */
interface Repointed {
  repointed: string[];
  errant: Array<{ host: string; errant: string }>;
  unreachable: string[];
}

/** open-write-pools: the proxy/backend pairs opened to the new primary, and those whose proxy did not answer. */
interface Opened {
  opened: string[];
  unreachable: string[];
}

/** record: what rejoin-db needs (promotedAtGtid) and what may be lost; also the data of its note. */
type FailoverRecord = {
  oldPrimary: string;
  newPrimary: string;
  promotedAtGtid: string;
  gtidCurrentPosAtPromotion: string;
  gtidCurrentPosNow: string;
  writableAt: string;
  lostPrimaryErrant: string;
  positions?: Picked['positions'];
};

const frozenResult = resultKey<Frozen>('freeze-replicas');
const pickedResult = resultKey<Picked>('pick-new-primary');
const promotedResult = resultKey<Promoted>('promote');

const frozenOf = (ctx: WithResults) => resultOf(ctx, frozenResult)?.frozen ?? [];
const newPrimaryOf = (ctx: WithResults) => resultOf(ctx, pickedResult)?.newPrimary ?? '(the most advanced replica, picked at run time)';
const requirePicked = (ctx: WithResults) => requireResult(ctx, pickedResult, 'no new primary was picked (step pick-new-primary has no result)');
const requirePromoted = (ctx: WithResults) => requireResult(ctx, promotedResult, 'no replica was promoted (step promote has no result)');

export const failoverDb: Runbook<FailoverDbParams, FailoverDbPlan> = {
  name: 'failover-db',
  summary: 'After the MariaDB primary is lost: confirm it, fence it, promote the most advanced replica by GTID, repoint the others and the write pools',
  description: [
    'For an unplanned loss of the primary (power, crash); a live primary is switched over instead (reboot-stale does it).',
    'The primary is `--primary`, else the host the replicas replicate from (the inventory role is where the fleet began;',
    'switchovers move it). It counts as lost when at least two kinds of vantage point agree and none sees it alive:',
    'a direct connect from here, every proxy health check in the write pool, the replicas\' IO threads (a connected IO',
    'thread says nothing: a replica notices a dark primary only after slave_net_timeout). A primary that',
    'answers writable is refused: "the primary is alive: use a switchover". Then: the old primary is fenced (maint in',
    'every pool of every proxy: when its power comes back it may restart writable, and the write pool\'s health check',
    'would let it in beside the new one); every replica\'s IO thread is stopped so nothing more arrives; once each has applied',
    'its relay log (gtid_slave_pos reached Gtid_IO_Pos), the one with the most transactions by GTID is promoted (ties:',
    'another zone than the lost primary, then inventory order): STOP SLAVE, RESET SLAVE ALL, heartbeat event on,',
    'read_only off. The other replicas follow it by GTID; one that has transactions the new primary lacks (errant) is left',
    'stopped and fenced. The write pools follow by their health checks (forced up at once, then confirmed on every proxy).',
    'The result records `promotedAtGtid`: what the new primary had received from the old one. The old primary stays',
    'fenced; when it is back, `rejoin-db --host <old>` compares its GTIDs with that point and rejoins it or refuses.',
    'Outside the lab it asks before the fence (without a terminal: `--yes`).',
  ].join('\n'),
  params: failoverDbParams,

  async resolve({ params, inventory, env }) {
    const f = fleet(env);
    let primary = params.primary ? requireDbHost(inventory, params.primary, '--primary').name : undefined;
    if (!primary) {
      const seen = await primaryOfReplicas(f, inventory);
      if (!seen.primary || !dbHosts(inventory).some((h) => h.name === seen.primary)) {
        throw new GamedayError('PRIMARY_UNKNOWN', `cannot tell which db host was the primary: ${seen.detail}`, '--primary', 'name it: --primary db-1');
      }
      primary = seen.primary;
    }
    // A primary that answers is refused at once, before anything else is asked.
    refuseIfAlive(primary, lossVerdict(primary, await observePrimary(f, inventory, hostByName(inventory, primary))));
    const others = await writablePrimaries(f, inventory, [primary]);
    if (others.length > 0) {
      throw new GamedayError('ALREADY_FAILED_OVER', `${others.join(', ')} already takes writes: there is nothing to fail over`, '--primary', `when ${primary} is back, rejoin it: gameday runbook run rejoin-db --host ${primary}`);
    }
    // Its cluster: the other hosts of its tier (a fleet may have several MariaDB clusters).
    const replicas = clusterPeers(inventory, hostByName(inventory, primary)).map((h) => h.name);
    if (params.candidate) {
      requireDbHost(inventory, params.candidate, '--candidate');
      if (!replicas.includes(params.candidate)) throw new GamedayError('BAD_CANDIDATE', `${params.candidate} is the lost primary`, '--candidate', `one of: ${replicas.join(', ')}`);
    }
    const { evidence } = await confirmLost(f, inventory, primary, params.confirmWithin);
    const inLab = dbHosts(inventory).every((h) => h.power === 'lab');
    return { primary, primaryZone: hostByName(inventory, primary).zone, replicas, confirmedAt: new Date().toISOString(), evidence, inLab };
  },

  locks: (plan) => [plan.primary, ...plan.replicas].map((h) => `host:${h}`),

  steps(plan, params): Step[] {
    const old = plan.primary;
    return [
      confirmLostStep(old),
      ...approvalSteps(plan),
      fenceOldPrimaryStep(old),
      freezeReplicasStep(plan),
      relayLogsAppliedStep(params),
      pickNewPrimaryStep(plan, params),
      promoteStep(old),
      repointReplicasStep(old),
      openWritePoolsStep(old),
      writePoolsFollowStep(params),
      recordStep(old),
    ];
  },

  examplePlan: { primary: 'db-1', primaryZone: 'az-a', replicas: ['db-2', 'db-3'], confirmedAt: '2026-11-24T20:01:02.000Z', evidence: [], inLab: false },
};

/* The steps, in the order they run. */

function confirmLostStep(old: string): ProbeStep {
  return {
    id: 'confirm-lost',
    kind: 'probe',
    title: `confirm ${old} is still lost (direct connect, proxies, replicas)`,
    async run(ctx): Promise<StillLost> {
      const evidence = await observePrimary(fleet(ctx.env), ctx.inventory, hostByName(ctx.inventory, old));
      const verdict = lossVerdict(old, evidence);
      refuseIfAlive(old, verdict);
      return { verdict: verdict.state, evidence };
    },
  };
}

/** Outside the lab a person says yes (or --yes without a terminal): a failover cannot be undone. */
function approvalSteps(plan: FailoverDbPlan): ApprovalStep[] {
  if (plan.inLab) return [];
  const old = plan.primary;
  return [
    {
      id: 'approve',
      kind: 'approval',
      title: `approve the failover from ${old}`,
      prompt: () => {
        // Every piece of evidence, the doubts too: a person approves what was seen, not a summary of it.
        const seen = (opinion: string) => plan.evidence.filter((e) => e.opinion === opinion).map((e) => `${e.from}${e.detail ? ` (${e.detail})` : ''}`);
        const unknown = seen('unknown');
        const doubts = unknown.length ? ` Unknown: ${unknown.join(', ')}; a proxy that does not answer must be proved powered off, else ${old} is powered off (STONITH) before the promotion.` : '';
        return `${old} is lost: ${seen('lost').join(', ')}.${doubts} Fence it and promote the most advanced of ${plan.replicas.join(', ')}? Whatever ${old} had that no replica received stays out of the new history.`;
      },
    },
  ];
}

function fenceOldPrimaryStep(old: string): ActionStep {
  return {
    id: 'fence-old-primary',
    kind: 'action',
    semantics: 'idempotent',
    title: `fence ${old} (maint in every pool of every proxy)`,
    describe: () => ({ target: old, consequence: `${old} gets no traffic, even when its power comes back and it restarts writable` }),
    async run(ctx): Promise<FenceResult & { proof?: FenceProof }> {
      const f = fleet(ctx.env);
      const r = await fenceEverywhere(f, ctx.inventory, old);
      await ctx.note(`${old} fenced on ${r.fenced.length} pool(s)`, { degraded: `${old} is lost and fenced (maint): rejoin it with "gameday runbook run rejoin-db --host ${old}" once it is back`, host: old });
      if (r.unreachable.length === 0) return r;
      await ctx.note(`not fenced where the proxy does not answer: ${r.unreachable.join(', ')}`, { degraded: `${old} is not fenced on ${r.unreachable.join(', ')}: set it to maint there before that proxy serves`, key: `${old}/unfenced` });
      // A proxy that does not answer may still reach the old primary: promote only once that path is provably closed.
      const proof = await proveFenced(f, ctx.inventory, old, r);
      const how = [
        proof.proxiesOff.length ? `${proof.proxiesOff.join(', ')} powered off (their power system says so)` : '',
        proof.poweredOff ? `${old} powered off (STONITH): a proxy that did not answer could not be proved off` : '',
      ].filter(Boolean).join('; ');
      await ctx.note(`the paths the proxies could not close are closed: ${how}`, { proof });
      return { ...r, proof };
    },
  };
}

/** The degraded mark of a replica that did not answer during the failover. */
const darkReplica = (name: string) => ({ degraded: `${name} did not answer during the failover: rejoin it with "gameday runbook run rejoin-db --host ${name}" once it is back`, host: name });

function freezeReplicasStep(plan: FailoverDbPlan): ActionStep {
  const old = plan.primary;
  return {
    id: frozenResult.id,
    kind: 'action',
    semantics: 'idempotent',
    title: `stop every replica's IO thread (nothing more may arrive from ${old})`,
    describe: () => ({ target: plan.replicas.join(', '), consequence: 'replicas stop receiving; what they already received is still applied' }),
    async run(ctx): Promise<Frozen> {
      const f = fleet(ctx.env);
      const result: Frozen = { frozen: [], unreachable: [], skipped: [] };
      for (const name of plan.replicas) {
        const outcome = await freezeReplica(f, ctx.inventory, name, old);
        if (outcome instanceof Error) {
          result.unreachable.push(name);
          await ctx.note(`${name} does not answer (${outcome.message}): not a candidate`, darkReplica(name));
          continue;
        }
        result[outcome].push(name);
      }
      if (result.skipped.length) await ctx.note(`not replicas of ${old}, left as they are: ${result.skipped.join(', ')}`);
      if (result.frozen.length === 0) throw new GamedayError('NO_REPLICA', `no reachable replica of ${old}: nothing to promote`, old, 'power a replica on, then run failover-db again');
      return result;
    },
  };
}

/** Stops the IO thread of a replica of the old primary: "frozen", "skipped" when it replicates from no one or someone else, the Error when it does not answer. */
async function freezeReplica(f: FleetEnv, inv: Inventory, name: string, old: string): Promise<'frozen' | 'skipped' | Error> {
  const v = await viewOf(f, name);
  if (v instanceof Error) return v;
  if (!v.replica || dbHostAt(inv, v.replica.masterHost, v.replica.masterPort)?.name !== old) return 'skipped';
  const stopped = await onHost(f, name, stopIoThread);
  if (stopped instanceof Error) throw new Error(`${name}: STOP SLAVE IO_THREAD failed: ${stopped.message}`);
  return 'frozen';
}

function relayLogsAppliedStep(params: FailoverDbParams): WaitForStep {
  return {
    id: 'relay-logs-applied',
    kind: 'wait-for',
    title: 'wait until every replica has applied what it received',
    what: 'each replica\'s gtid_slave_pos reached its Gtid_IO_Pos (relay log applied)',
    intervalMs: 250,
    timeoutMs: params.catchUpTimeout,
    async check(ctx) {
      const f = fleet(ctx.env);
      const waiting: string[] = [];
      for (const name of frozenOf(ctx)) {
        const v = await viewOf(f, name);
        if (v instanceof Error) continue; // gone since: the pick leaves it out
        // A stopped SQL thread applies nothing more: not a candidate, nothing to wait for.
        if (v.replica?.sql !== 'Yes') continue;
        if (!relayLogApplied(v)) waiting.push(`${name} applied ${v.gtidSlavePos || '(nothing)'} of ${v.replica.gtidIoPos}`);
      }
      return waiting.length ? { ok: false, detail: waiting.join('; ') } : { ok: true, detail: 'relay logs applied' };
    },
  };
}

function pickNewPrimaryStep(plan: FailoverDbPlan, params: FailoverDbParams): ProbeStep {
  return {
    id: pickedResult.id,
    kind: 'probe',
    title: params.candidate ? `check ${params.candidate} can be promoted` : 'pick the replica with the most transactions (GTID)',
    async run(ctx): Promise<Picked> {
      const { positions, notEligible } = await eligibility(fleet(ctx.env), frozenOf(ctx));
      const eligible = preferenceOrder(ctx.inventory, plan, Object.keys(positions));
      if (params.candidate) return checkCandidate(params.candidate, eligible, positions, notEligible);
      // What each applied from the old primary; a replica's own (errant) writes are no reason to promote it.
      const best = mostAdvanced(eligible.map((name) => ({ name, position: parseGtidPosition(positions[name].gtidSlavePos, `${name} @@gtid_slave_pos`) })));
      if (notEligible.length) await ctx.note(`not eligible: ${notEligible.join('; ')}`);
      return { newPrimary: best.chosen, positions, tiedWith: best.tiedWith, behind: best.behind, notEligible };
    },
  };
}

/** Which frozen replicas may be promoted (SQL thread running, relay log applied), with their positions, and why each other one may not. */
async function eligibility(f: FleetEnv, frozen: string[]): Promise<Pick<Picked, 'positions' | 'notEligible'>> {
  const positions: Picked['positions'] = {};
  const notEligible: string[] = [];
  for (const name of frozen) {
    const v = await viewOf(f, name);
    if (v instanceof Error) notEligible.push(`${name}: does not answer`);
    else if (v.replica?.sql !== 'Yes') notEligible.push(`${name}: SQL thread ${v.replica?.sql ?? 'not configured'}${v.replica?.lastSqlError ? ` (${v.replica.lastSqlError.slice(0, 120)})` : ''}`);
    else if (!relayLogApplied(v)) notEligible.push(`${name}: relay log not applied`);
    else positions[name] = { gtidSlavePos: v.gtidSlavePos, gtidCurrentPos: v.gtidCurrentPos };
  }
  return { positions, notEligible };
}

/** --candidate names the new primary: refused unless it is eligible; the others are behind it by choice. */
function checkCandidate(candidate: string, eligible: string[], positions: Picked['positions'], notEligible: string[]): Picked {
  if (!eligible.includes(candidate)) {
    throw new GamedayError('BAD_CANDIDATE', `${candidate} cannot be promoted: ${notEligible.find((n) => n.startsWith(`${candidate}:`)) ?? 'it is not a replica of the lost primary'}`, '--candidate', `eligible: ${eligible.join(', ') || 'none'}`);
  }
  const others = eligible.filter((n) => n !== candidate);
  return { newPrimary: candidate, positions, tiedWith: [], behind: others, notEligible };
}

function promoteStep(old: string): ActionStep {
  return {
    id: promotedResult.id,
    kind: 'action',
    semantics: 'idempotent',
    title: 'promote it: stop and forget replication, heartbeat on, read_only off',
    describe: (ctx) => ({ target: newPrimaryOf(ctx), consequence: 'it takes writes; what the lost primary had and it did not is gone from the new history' }),
    async run(ctx): Promise<Promoted> {
      const { newPrimary } = requirePicked(ctx);
      const record = await onHost(fleet(ctx.env), newPrimary, promoteToPrimary);
      if (record instanceof Error) throw new Error(`promoting ${newPrimary} failed: ${record.message}`);
      await ctx.note(`${newPrimary} is the writable primary; it had received up to ${record.promotedAtGtid || '(nothing)'} from ${old}`, { newPrimary, ...record });
      return { newPrimary, ...record, writableAt: new Date().toISOString() };
    },
  };
}

function repointReplicasStep(old: string): ActionStep {
  return {
    id: 'repoint-replicas',
    kind: 'action',
    semantics: 'idempotent',
    title: 'repoint the other replicas to the new primary (GTID)',
    describe: (ctx) => ({ target: frozenOf(ctx).filter((r) => r !== resultOf(ctx, pickedResult)?.newPrimary).join(', ') || `(the other replicas of ${old})`, consequence: 'they replicate from the new primary; one with errant transactions stays stopped and fenced' }),
    async run(ctx): Promise<Repointed> {
      const f = fleet(ctx.env);
      const p = requirePromoted(ctx);
      const source: ReplicationSource = { address: mysqlAddress(hostByName(ctx.inventory, p.newPrimary)), ...replicationLoginOf(f, hostByName(ctx.inventory, p.newPrimary)) };
      const atPromotion = parseGtidPosition(p.gtidCurrentPos, `${p.newPrimary} @@gtid_current_pos`);
      const result: Repointed = { repointed: [], errant: [], unreachable: [] };
      // The replicas of the old primary only: a db host that replicated from no one, or from another, is left as it is.
      for (const name of frozenOf(ctx).filter((r) => r !== p.newPrimary)) {
        const outcome = await repointReplica(ctx, f, name, p.newPrimary, source, atPromotion);
        if (outcome === 'repointed') result.repointed.push(name);
        else if (outcome === 'unreachable') result.unreachable.push(name);
        else result.errant.push({ host: name, errant: outcome.errant });
      }
      return result;
    },
  };
}

/**
 * Makes one replica follow the new primary by GTID, unless it has
 * transactions the new primary lacks (as of the promotion): then it is left
 * stopped and fenced, and marked degraded.
 */
async function repointReplica(ctx: StepContext, f: FleetEnv, name: string, newPrimary: string, source: ReplicationSource, atPromotion: GtidPosition): Promise<'repointed' | 'unreachable' | { errant: string }> {
  const v = await viewOf(f, name);
  if (v instanceof Error) {
    await ctx.note(`${name} does not answer (${v.message}): not repointed`, darkReplica(name));
    return 'unreachable';
  }
  if (v.replica && dbHostAt(ctx.inventory, v.replica.masterHost, v.replica.masterPort)?.name === newPrimary) return 'repointed'; // done by an earlier attempt
  const errant = errantGtids(parseGtidPosition(v.gtidCurrentPos, `${name} @@gtid_current_pos`), atPromotion);
  if (errant.length > 0) {
    await onHost(f, name, stopReplication);
    await fenceEverywhere(f, ctx.inventory, name);
    const text = formatErrant(errant);
    await ctx.note(`${name} has transactions ${newPrimary} lacks: ${text}`, { degraded: `${name} has errant transactions (${text}): left stopped and fenced; see rejoin-db`, host: name });
    return { errant: text };
  }
  const done = await onHost(f, name, (c) => replicateFrom(c, source));
  if (done instanceof Error) throw new Error(`repointing ${name} failed: ${done.message}`);
  return 'repointed';
}

function openWritePoolsStep(old: string): ActionStep {
  return {
    id: 'open-write-pools',
    kind: 'action',
    semantics: 'idempotent',
    title: 'send the write pools to the new primary',
    describe: (ctx) => ({ target: newPrimaryOf(ctx), inputs: { pools: writePoolsOf(ctx.inventory, old).map((p) => p.backend) }, consequence: 'writes through the proxies go to the new primary' }),
    async run(ctx): Promise<Opened> {
      const f = fleet(ctx.env);
      const { newPrimary } = requirePromoted(ctx);
      const opened: string[] = [];
      const unreachable: string[] = [];
      for (const pool of writePoolsOf(ctx.inventory, newPrimary)) {
        for (const proxy of pool.proxies) {
          try {
            // Out of maint or drain, and its health forced up: its check would take rise x inter to notice; the checks go on and confirm it.
            await openServer(f.haproxyEndpoint(proxy), pool.backend, newPrimary);
            opened.push(`${proxy.name}/${pool.backend}`);
          } catch (err) {
            unreachable.push(`${proxy.name}/${pool.backend} (${(err as Error).message})`);
          }
        }
      }
      if (unreachable.length) await ctx.note(`proxies that do not answer: ${unreachable.join(', ')}`);
      return { opened, unreachable };
    },
  };
}

function writePoolsFollowStep(params: FailoverDbParams): WaitForStep {
  return {
    id: 'write-pools-follow',
    kind: 'wait-for',
    title: 'wait until every proxy sends writes to the new primary',
    what: 'the new primary UP with a passing health check in every write pool of every proxy that answers, and no other server UP there',
    intervalMs: 250,
    timeoutMs: params.followTimeout,
    consecutive: 2,
    async check(ctx) {
      const f = fleet(ctx.env);
      const { newPrimary } = requirePromoted(ctx);
      const problems: string[] = [];
      let seen = 0;
      for (const pool of writePoolsOf(ctx.inventory, newPrimary)) {
        for (const proxy of pool.proxies) {
          const views = await showServers(f.haproxyEndpoint(proxy)).catch(() => undefined);
          if (!views) continue; // a dead proxy serves nothing
          seen++;
          problems.push(...followProblems(views, `${proxy.name}/${pool.backend}`, pool.backend, newPrimary));
        }
      }
      if (problems.length) return { ok: false, detail: problems.join('; ') };
      return { ok: true, detail: seen ? `${newPrimary} takes the writes on ${seen} pool(s)` : 'no proxy answers: nothing to follow' };
    },
  };
}


function recordStep(old: string): ProbeStep {
  return {
    id: 'record',
    kind: 'probe',
    title: 'record the new primary\'s position (for rejoin-db) and what may be lost',
    async run(ctx): Promise<FailoverRecord> {
      const f = fleet(ctx.env);
      const p = requirePromoted(ctx);
      const now = await viewOf(f, p.newPrimary);
      const result: FailoverRecord = {
        oldPrimary: old,
        newPrimary: p.newPrimary,
        promotedAtGtid: p.promotedAtGtid,
        gtidCurrentPosAtPromotion: p.gtidCurrentPos,
        gtidCurrentPosNow: now instanceof Error ? `(unknown: ${now.message})` : now.gtidCurrentPos,
        writableAt: p.writableAt,
        // The old primary is dark: its last transactions are known only when it is back.
        lostPrimaryErrant: `unknown while ${old} is down: rejoin-db compares its GTIDs with ${p.promotedAtGtid || '(empty)'}`,
        positions: resultOf(ctx, pickedResult)?.positions,
      };
      await ctx.note(
        `failed over from ${old} to ${p.newPrimary} (promoted at ${formatGtidPosition(parseGtidPosition(p.promotedAtGtid)) || '(empty)'}); when ${old} is back: gameday runbook run rejoin-db --host ${old} --promoted-at-gtid ${p.promotedAtGtid}`,
        result,
      );
      return result;
    },
  };
}
