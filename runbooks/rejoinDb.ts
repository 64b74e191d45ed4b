import { z } from 'zod';
import { GamedayError } from '../core/errors.js';
import type { ActionStep, ApprovalStep, ProbeStep, Runbook, Step } from '../engine/types.js';
import { durationParam } from '../core/duration.js';
import { fleet, hostByName, replicationLoginOf, membershipsOf } from './steps/fleet.js';
import { rampPercents, returnSteps } from './steps/hostSteps.js';
import { gatedRampStep } from './nested/gatedRamp.js';
import { errantCount, errantGtids, formatErrant, formatGtidPosition, parseGtidPosition, resumePoint, type GtidPosition } from '../drivers/mysql/gtid.js';
import { binlogTransactions, discardBinlog, makeReadOnly, replicateFrom, replicationView, stopReplication, waitUntilApplied, type BinlogTransaction } from '../drivers/mysql/failover.js';
import type { Connection } from 'mysql2/promise';
import { dbHostAt, dbHosts, fenceEverywhere, mysqlAddress, onHost, requireDbHost, viewOf, writablePrimaries, type FenceResult } from './steps/primaryLoss.js';
import { requireResult, resultKey, resultOf, type WithResults } from './steps/results.js';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

const TABLE_NAME = /^[A-Za-z0-9_$]+\.[A-Za-z0-9_$]+$/;

/** "gameday.heartbeat,app.sessions" to a list of db.table names, validated whole. */
const tableList = z.string().transform((text, ctx) => {
  const list = text.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const bad = list.find((t) => !TABLE_NAME.test(t));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not a db.table name, e.g. gameday.heartbeat` });
    return z.NEVER;
  }
  return list;
});

export const rejoinDbParams = z.object({
  host: z.string().min(1).describe('the db host that came back: the lost primary of a failover, or a replica that was dark during it'),
  newPrimary: z.string().min(1).optional().describe('the primary to replicate from (default: the one db host that is writable and replicates from no one)'),
  promotedAtGtid: z.string().optional().describe("what the new primary had received when promoted (failover-db's promotedAtGtid; default: the new primary's @@gtid_slave_pos, which stays put while it is primary)"),
  discardable: tableList.prefault('gameday.heartbeat,gameday.read_markers').describe('tables (db.table, comma-separated) whose writes the host made past that point may be thrown away; "" refuses any'),
  maxLagMs: z.coerce.number().int().min(0).default(1000).describe('replica lag (heartbeat) under which it is ready'),
  readySamples: z.coerce.number().int().min(1).default(3).describe('ready samples in a row before weight is given back'),
  readyTimeout: durationParam('10m').describe('how long it may take to catch up'),
  ramp: rampPercents.prefault('10,25,50,100').describe('weight steps in percent (its buffer pool is cold after a power loss)'),
  rampHold: durationParam('5s', { minMs: 1000 }).describe('how long each weight step is held and checked'),
});
export type RejoinDbParams = z.infer<typeof rejoinDbParams>;

export interface RejoinDbPlan {
  host: string;
  newPrimary: string;
  promotedAtGtid: string;
  /** Where promotedAtGtid came from. */
  promotedAtSource: '--promoted-at-gtid' | 'the new primary\'s @@gtid_slave_pos';
  pools: string[];
  /** For the dry run: what the host had past the promotion point when planned. */
  errantAtPlan: string;
  /** Every db host is a lab host: no one is asked before acting (DESIGN: only outside the lab). */
  inLab: boolean;
}

/*
 * What each step hands on: its result, as journaled. The approval, the
 * discard and the replicate steps read the errant check's through its key.
 */

/** <host>/read-only: the host's @@gtid_binlog_pos once it refuses writes. */
interface MadeReadOnly {
  gtidBinlogPos: string;
}

/** <host>/errant-check: what the host has past the promotion point, and whether it may be thrown away. */
interface ErrantCheck {
  errant: string;
  discard: boolean;
  /** The host's gtid_current_pos the check saw. */
  checkedPos: string;
  /** Where it resumes replicating. */
  resumeAt: string;
  tables: string[];
}

/** <host>/discard-errant: whether its binlog was dropped (already: by an earlier attempt). */
interface Discarded {
  discarded: boolean;
  already?: boolean;
}

/** <host>/replicate: where it resumed replicating, and how far it applied within the step. */
interface Replicating {
  from: string;
  appliedUpTo: string;
}

const errantCheckResult = (host: string) => resultKey<ErrantCheck>(`${host}/errant-check`);
const errantCheckOf = (ctx: WithResults, host: string) => resultOf(ctx, errantCheckResult(host));

function summarize(transactions: BinlogTransaction[]): string {
  const tables = [...new Set(transactions.flatMap((t) => t.tables))];
  const statements = transactions.flatMap((t) => t.statements).slice(0, 3);
  return [tables.length ? `tables ${tables.join(', ')}` : '', statements.length ? `statements ${statements.map((s) => JSON.stringify(s)).join(', ')}` : ''].filter(Boolean).join('; ');
}

export const rejoinDb: Runbook<RejoinDbParams, RejoinDbPlan> = {
  name: 'rejoin-db',
  summary: 'Bring a db host back after a failover as a replica of the new primary, or refuse (fenced) when it has transactions the new primary lacks',
  description: [
    'For the old primary of a failover-db run once its power is back (and for a replica that was dark during it).',
    'It is fenced (maint) and made read-only first: a lost primary may restart writable, and its heartbeat event runs',
    'as root, whom read_only does not stop, so the event is disabled too. Its GTIDs are then compared with what the',
    'new primary had received when promoted (`--promoted-at-gtid`, the failover-db result; default the new primary\'s',
    '@@gtid_slave_pos, which stays put while it is primary). A transaction past that point is errant: the new primary',
    'never had it. When every errant transaction wrote only `--discardable` tables (the heartbeat row, which the new',
    'primary rewrites every second, and the game days\' read markers, whose loss the probe expects), its binlog is dropped',
    '(RESET MASTER) and it replicates from the promotion point.',
    'Any other errant transaction stops the run (exit 1) with the host fenced, read-only and not replicating, and names',
    'the transactions and how to go on. Else it replicates from the new primary by GTID, waits until caught up, and its',
    'weight is given back step by step (its buffer pool is cold).',
  ].join('\n'),
  params: rejoinDbParams,

  async resolve({ params, inventory, env }) {
    const f = fleet(env);
    const host = requireDbHost(inventory, params.host, '--host').name;
    const view = await viewOf(f, host);
    if (view instanceof Error) throw new GamedayError('HOST_DOWN', `${host} does not answer (${view.message})`, '--host', 'power it on first (in the lab: gameday lab power-on <host>), then run rejoin-db again');

    let newPrimary: string;
    if (params.newPrimary) {
      newPrimary = requireDbHost(inventory, params.newPrimary, '--new-primary').name;
      const np = await viewOf(f, newPrimary);
      if (newPrimary === host || np instanceof Error || np.readOnly || np.replica) {
        throw new GamedayError('NOT_PRIMARY', `${newPrimary} is not a writable primary${np instanceof Error ? ` (${np.message})` : ''}`, '--new-primary', 'name the db host that takes the writes now');
      }
    } else {
      const found = await writablePrimaries(f, inventory, [host]);
      if (found.length !== 1) {
        throw new GamedayError('PRIMARY_UNKNOWN', found.length ? `several db hosts take writes: ${found.join(', ')}` : 'no other db host takes writes', '--new-primary', 'name the primary to replicate from');
      }
      newPrimary = found[0];
    }
    // Its GTIDs then mix the new primary's stream with its own: the promotion point no longer tells what is errant.
    if (view.replica && dbHostAt(inventory, view.replica.masterHost, view.replica.masterPort)?.name === newPrimary) {
      const r = view.replica;
      if (r.io !== 'No' && r.sql === 'Yes') {
        throw new GamedayError('ALREADY_REPLICA', `${host} already replicates from ${newPrimary}`, '--host', `to give it its traffic back: gameday runbook run recover-host --host ${host}`);
      }
      throw new GamedayError(
        'REPLICA_STOPPED',
        `${host} is a replica of ${newPrimary} already, with IO=${r.io} SQL=${r.sql}${r.lastSqlError || r.lastIoError ? `: ${r.lastSqlError || r.lastIoError}` : ''}`,
        '--host',
        `rejoin-db is for a host that does not replicate from ${newPrimary} yet: fix the error and START SLAVE on ${host}, or rebuild it from a backup of ${newPrimary} (mariabackup)`,
      );
    }

    const npView = await viewOf(f, newPrimary);
    const fromParam = params.promotedAtGtid !== undefined && params.promotedAtGtid.trim() !== '';
    const promotedAtGtid = fromParam ? params.promotedAtGtid! : npView instanceof Error ? '' : npView.gtidSlavePos;
    const promotedAt = parseGtidPosition(promotedAtGtid, fromParam ? '--promoted-at-gtid' : `${newPrimary} @@gtid_slave_pos`);
    if (promotedAt.length === 0) {
      throw new GamedayError('NO_PROMOTION_POINT', `${newPrimary}'s @@gtid_slave_pos is empty: cannot tell what it had received of ${host}'s history`, '--promoted-at-gtid', "pass the failover-db run's promotedAtGtid (gameday runbook status <run-id>)");
    }
    const errant = errantGtids(parseGtidPosition(view.gtidCurrentPos, `${host} @@gtid_current_pos`), promotedAt);
    return {
      host,
      newPrimary,
      promotedAtGtid: formatGtidPosition(promotedAt),
      promotedAtSource: fromParam ? '--promoted-at-gtid' : "the new primary's @@gtid_slave_pos",
      pools: membershipsOf(inventory, host).map((m) => m.pool),
      errantAtPlan: errant.length ? formatErrant(errant) : 'none',
      inLab: dbHosts(inventory).every((h) => h.power === 'lab'),
    };
  },

  locks: (plan) => [`host:${plan.host}`],

  steps(plan, params): Step[] {
    const { host } = plan;
    return [
      fenceStep(plan),
      readOnlyStep(plan),
      errantCheckStep(plan, params),
      ...approvalSteps(plan),
      discardErrantStep(plan, params),
      replicateStep(plan),
      ...returnSteps(host, host, {
        maxLagMs: params.maxLagMs,
        readySamples: params.readySamples,
        readyTimeoutS: params.readyTimeout / 1000,
      }),
      ...(plan.pools.length > 0 ? [gatedRampStep(`${host}/ramp`, host, { steps: params.ramp, holdMs: params.rampHold, retries: 2, maxLagMs: params.maxLagMs })] : []),
    ];
  },

  examplePlan: {
    host: 'db-1',
    newPrimary: 'db-2',
    promotedAtGtid: '0-1-1200',
    promotedAtSource: "the new primary's @@gtid_slave_pos",
    pools: ['db-write', 'db-read'],
    errantAtPlan: '0-1-1201..0-1-1230 (30 transactions)',
    inLab: false,
  },
  exampleParams: { host: 'db-1' },
};

/* The steps, in the order they run (then the way back into service: returnSteps and the gated ramp). */

function fenceStep(plan: RejoinDbPlan): ActionStep {
  const { host } = plan;
  return {
    id: `${host}/fence`,
    kind: 'action',
    semantics: 'idempotent',
    title: `fence ${host} (maint in every pool of every proxy)`,
    describe: () => ({ target: host, inputs: { pools: plan.pools }, consequence: `${host} takes no traffic until it is a caught-up replica` }),
    async run(ctx): Promise<FenceResult> {
      const r = await fenceEverywhere(fleet(ctx.env), ctx.inventory, host);
      await ctx.note(`${host} fenced`, { degraded: `${host} is fenced (maint)`, host });
      if (r.unreachable.length) await ctx.note(`not fenced where the proxy does not answer: ${r.unreachable.join(', ')}`);
      return r;
    },
  };
}

function readOnlyStep(plan: RejoinDbPlan): ActionStep {
  const { host, newPrimary } = plan;
  return {
    id: `${host}/read-only`,
    kind: 'action',
    semantics: 'idempotent',
    title: `make ${host} refuse writes (read_only, client sessions ended, heartbeat event off, no replication from elsewhere)`,
    describe: () => ({ target: host, consequence: `${host} takes no more writes of its own, and receives nothing from a server other than ${newPrimary}` }),
    async run(ctx): Promise<MadeReadOnly> {
      const f = fleet(ctx.env);
      const replicationUser = replicationLoginOf(f, hostByName(ctx.inventory, host)).user;
      const pos = await onHost(f, host, async (c) => {
        const v = await replicationView(c);
        // A replica that was dark may be back on the old primary's stream: cut it.
        const source = v.replica ? dbHostAt(ctx.inventory, v.replica.masterHost, v.replica.masterPort)?.name : undefined;
        if (v.replica && source !== newPrimary) await stopReplication(c);
        return makeReadOnly(c, replicationUser);
      });
      if (pos instanceof Error) throw new Error(`${host}: ${pos.message}`);
      return { gtidBinlogPos: pos };
    },
  };
}

function errantCheckStep(plan: RejoinDbPlan, params: RejoinDbParams): ProbeStep {
  const { host, newPrimary } = plan;
  return {
    id: errantCheckResult(host).id,
    kind: 'probe',
    title: `compare ${host}'s GTIDs with what ${newPrimary} had at promotion (${plan.promotedAtGtid})`,
    async run(ctx): Promise<ErrantCheck> {
      const promotedAt = parseGtidPosition(plan.promotedAtGtid);
      const outcome = await onHost(fleet(ctx.env), host, (c) => checkErrant(c, plan, promotedAt, params.discardable));
      if (outcome instanceof GamedayError) throw outcome;
      if (outcome instanceof Error) throw new Error(`${host}: ${outcome.message}`);
      if (outcome.discard) await ctx.note(`${host} wrote ${outcome.errant} after ${plan.promotedAtGtid}, only to ${outcome.tables.join(', ')}: discardable`, { ...outcome });
      return outcome;
    },
  };
}

/**
 * What the host (on `c`) has past the promotion point, read from its binlog:
 * discardable when every errant transaction was seen whole and wrote
 * discardable tables only; else it throws ERRANT_TRANSACTIONS, naming them
 * and how to go on.
 */
async function checkErrant(c: Connection, plan: RejoinDbPlan, promotedAt: GtidPosition, discardable: string[]): Promise<ErrantCheck> {
  const { host, newPrimary } = plan;
  const v = await replicationView(c);
  const mine = parseGtidPosition(v.gtidCurrentPos, `${host} @@gtid_current_pos`);
  const ranges = errantGtids(mine, promotedAt);
  const resumeAt = formatGtidPosition(resumePoint(mine, promotedAt));
  if (ranges.length === 0) return { errant: 'none', discard: false, checkedPos: v.gtidCurrentPos, resumeAt, tables: [] };
  const scan = await binlogTransactions(c, ranges);
  const kept = scan.transactions.filter((t) => t.statements.length > 0 || t.tables.length === 0 || t.tables.some((tb) => !discardable.includes(tb)));
  const text = formatErrant(ranges);
  // Discard only what was seen whole: every errant transaction found in the binlog, each writing discardable tables only.
  if (scan.complete && scan.transactions.length === errantCount(ranges) && kept.length === 0) {
    return { errant: text, discard: true, checkedPos: v.gtidCurrentPos, resumeAt, tables: [...new Set(scan.transactions.flatMap((t) => t.tables))] };
  }
  const first = (kept[0] ?? scan.transactions[0]) as BinlogTransaction | undefined;
  const why = kept.length
    ? `${kept.length} of them write more than ${discardable.join(', ') || '(no discardable table)'}: ${summarize(kept)}`
    : `only ${scan.transactions.length} of them could be read from its binlog${scan.complete ? '' : ' (stopped at the limit)'}`;
  throw new GamedayError(
    'ERRANT_TRANSACTIONS',
    `${host} has ${errantCount(ranges)} transaction(s) ${newPrimary} never had: ${text}; ${why}. ${host} stays fenced (maint), read-only and not replicating`,
    host,
    `rebuild it from a backup of ${newPrimary} (mariabackup --backup there, --prepare, restore on ${host}), then run rejoin-db again; or first inspect them on ${host}: mysqlbinlog${first ? ` --start-position=${first.pos} ${first.file}` : ''} (first errant: ${first?.gtid ?? text}) and apply what must be kept to ${newPrimary} by hand`,
  );
}

/** Outside the lab a person says yes (or --yes without a terminal): dropping a binlog cannot be undone. */
function approvalSteps(plan: RejoinDbPlan): ApprovalStep[] {
  if (plan.inLab) return [];
  const { host, newPrimary } = plan;
  return [
    {
      id: `${host}/approve`,
      kind: 'approval',
      title: `approve making ${host} a replica of ${newPrimary}`,
      prompt: (ctx) => {
        const c = errantCheckOf(ctx, host);
        const drop = c?.discard ? ` Its binlog is dropped first (errant, only ${c.tables.join(', ')}: ${c.errant}).` : '';
        return `Make ${host} a replica of ${newPrimary} from ${c?.resumeAt ?? '(its position)'}?${drop}`;
      },
    },
  ];
}

function discardErrantStep(plan: RejoinDbPlan, params: RejoinDbParams): ActionStep {
  const { host } = plan;
  return {
    id: `${host}/discard-errant`,
    kind: 'action',
    semantics: 'idempotent',
    title: `drop ${host}'s binlog if its errant transactions are all discardable (RESET MASTER)`,
    describe: () => ({ target: host, inputs: { discardable: params.discardable }, consequence: `only when every errant transaction wrote only those tables: ${host}'s binlog history is dropped (the new primary keeps its own)` }),
    async run(ctx): Promise<Discarded> {
      const c = errantCheckOf(ctx, host);
      if (!c?.discard) return { discarded: false };
      const done = await onHost(fleet(ctx.env), host, async (conn): Promise<Discarded> => {
        const v = await replicationView(conn);
        // Nothing may have been written since the check: that would be thrown away unseen.
        if (v.gtidBinlogPos === '') return { discarded: true, already: true };
        if (v.gtidCurrentPos !== c.checkedPos) throw new Error(`${host} moved from ${c.checkedPos} to ${v.gtidCurrentPos} since the check: run rejoin-db again`);
        await discardBinlog(conn);
        return { discarded: true, already: false };
      });
      if (done instanceof Error) throw done;
      await ctx.note(`dropped ${host}'s binlog (errant, discardable: ${c.errant})`);
      return done;
    },
  };
}

function replicateStep(plan: RejoinDbPlan): ActionStep {
  const { host, newPrimary } = plan;
  return {
    id: `${host}/replicate`,
    kind: 'action',
    semantics: 'idempotent',
    title: `make ${host} a replica of ${newPrimary} (GTID)`,
    describe: (ctx) => ({ target: host, inputs: { source: newPrimary, from: errantCheckOf(ctx, host)?.resumeAt ?? '(its position, known after the check)' }, consequence: `${host} replicates from ${newPrimary}` }),
    async run(ctx): Promise<Replicating> {
      const f = fleet(ctx.env);
      const c = requireResult(ctx, errantCheckResult(host), 'the errant check has no result');
      const source = { address: mysqlAddress(hostByName(ctx.inventory, newPrimary)), ...replicationLoginOf(f, hostByName(ctx.inventory, newPrimary)) };
      const done = await onHost(f, host, async (conn): Promise<Replicating> => {
        const v = await replicationView(conn);
        if (!(v.replica && dbHostAt(ctx.inventory, v.replica.masterHost, v.replica.masterPort)?.name === newPrimary && v.replica.io !== 'No')) await replicateFrom(conn, source, c.resumeAt);
        // Where the new primary is now: a replica that cannot apply its stream fails here, not after the ready timeout.
        const target = await onHost(f, newPrimary, async (p) => (await replicationView(p)).gtidBinlogPos);
        if (target instanceof Error) throw new Error(`${newPrimary} does not answer: ${target.message}`);
        const applied = await waitUntilApplied(conn, target, 20_000);
        return { from: c.resumeAt, appliedUpTo: applied ? target : '(still catching up)' };
      });
      if (done instanceof Error) throw new Error(`${host}: ${done.message}`);
      return done;
    },
  };
}
