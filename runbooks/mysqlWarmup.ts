import { z } from 'zod';
import type { Connection } from 'mysql2/promise';
import type { Runbook, Step, StepContext } from '../engine/types.js';
import { durationParam, formatDuration } from '../core/duration.js';
import { fleet, hostByName, membershipsOf } from './steps/fleet.js';
import { showServers } from '../drivers/haproxy/runtime.js';
import { withConnection } from '../drivers/mysql/readiness.js';
import { hitRate, parseLoadStatus, poolCounters, type PageRef } from '../drivers/mysql/bufferPool.js';
import { coverage, hotIndexes, loadMapped, mapHotSet, poolPages, scanIndex, tablespaces, type Coverage } from '../warmup/mysql/hotSet.js';
import { clusterPeers, kindOf, type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

export const mysqlWarmupParams = z.object({
  host: z.string().min(1).describe('the db host to warm, e.g. db-2 (fenced, or at weight 0, before its weight comes back)'),
  from: z.string().min(1).optional().describe('the warm peer whose buffer pool is copied (default: the other replica with the fullest pool)'),
  goal: z.coerce.number().min(1).max(100).default(95).describe('done when the pool holds this share of the peer\'s hot pages, percent'),
  servingRate: z.coerce.number().int().min(1).max(1_000_000).default(500).describe('pages per second while the host serves traffic (fenced: as fast as InnoDB reads)'),
  scans: z.enum(['on', 'off']).default('on').describe('when pages cannot be mapped (not a copy of the peer), scan the peer\'s hottest indexes'),
  hitWindow: durationParam('5s').describe('window over which the hit rate is compared with the peer\'s, when the share is short'),
  timeout: durationParam('10m').describe('how long to wait for a load already running at start-up (its own dump)'),
});
export type MysqlWarmupParams = z.infer<typeof mysqlWarmupParams>;

interface WarmupPlan {
  host: string;
  peer: string;
}

const percent = (c: Coverage) => `${(c.fraction * 100).toFixed(1)} % (${c.covered} of ${c.wanted} pages)`;

/** True when some proxy sends it traffic: weight above 0 and not in maint or drain. */
async function isServing(ctx: StepContext, host: string): Promise<boolean> {
  const f = fleet(ctx.env);
  for (const m of membershipsOf(ctx.inventory, host)) {
    for (const proxy of m.proxies) {
      const rows = await showServers(f.haproxyEndpoint(proxy)).catch(() => []);
      if (rows.some((r) => r.backend === m.backend && r.server === host && r.weight > 0 && !/MAINT|DRAIN|DOWN/.test(r.status))) return true;
    }
  }
  return false;
}

interface Measure {
  hot: PageRef[];
  held: PageRef[];
  cov: Coverage;
}

/** The last measure of each run (by its environment), so that the load can start from the one the step before took. */
const lastMeasure = new WeakMap<object, Measure & { at: number }>();

async function measure(ctx: StepContext, plan: WarmupPlan): Promise<Measure> {
  const f = fleet(ctx.env);
  const [hot, held] = await Promise.all([withConnection(f.mysql, plan.peer, poolPages), withConnection(f.mysql, plan.host, poolPages)]);
  const m = { hot, held, cov: coverage(hot, held) };
  lastMeasure.set(ctx.env, { ...m, at: Date.now() });
  return m;
}

/** A measure taken less than 2 s ago (by the step before), else a new one. */
async function recentMeasure(ctx: StepContext, plan: WarmupPlan): Promise<Measure> {
  const m = lastMeasure.get(ctx.env);
  return m && Date.now() - m.at < 2000 ? m : measure(ctx, plan);
}

/** Progress notes at most once a second (the journal is no log stream). */
function everySecond(fn: (text: string) => Promise<unknown>): (text: string) => Promise<void> {
  let last = 0;
  return async (text) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    await fn(text);
  };
}

function ownLoadStep(plan: WarmupPlan, params: MysqlWarmupParams): Step {
  return {
    id: `${plan.host}/own-dump`,
    kind: 'probe',
    title: `let ${plan.host} finish loading its own dump (if it had one), and measure it against ${plan.peer}`,
    async run(ctx) {
      const deadline = Date.now() + params.timeout;
      const progress = everySecond((t) => ctx.note(t));
      for (;;) {
        const status = await withConnection(fleet(ctx.env).mysql, plan.host, async (c) => (await poolCounters(c)).loadStatus);
        const p = parseLoadStatus(status);
        if (!p) break;
        if (Date.now() > deadline) throw new GamedayError('WARMUP_OWN_LOAD_SLOW', `${plan.host} is still loading its own dump after ${formatDuration(params.timeout)}: ${status}`, plan.host, 'raise --timeout, or abort it: SET GLOBAL innodb_buffer_pool_load_abort = ON');
        await progress(`${plan.host} loads its own dump: ${p.loaded} of ${p.wanted} pages`);
        await sleep(250, undefined, { signal: ctx.signal });
      }
      const { cov } = await measure(ctx, plan);
      await ctx.note(`${plan.host} holds ${percent(cov)} of ${plan.peer}'s hot pages before the warm-up`);
      return { coverage: cov.fraction };
    },
  };
}

function loadStep(plan: WarmupPlan, params: MysqlWarmupParams): Step {
  return {
    id: `${plan.host}/load-from-peer`,
    kind: 'action',
    // Loading a page twice leaves it loaded: a resume may run it again.
    semantics: 'idempotent',
    title: `load ${plan.peer}'s hot pages into ${plan.host} (InnoDB's loader; ${params.servingRate} pages/s once it serves)`,
    describe: () => ({ target: plan.host, inputs: { peer: plan.peer, servingRate: params.servingRate }, consequence: 'reads pages from disk into the buffer pool; changes no data' }),
    async run(ctx) {
      const f = fleet(ctx.env);
      const writeList = f.bufferPoolList?.(hostByName(ctx.inventory, plan.host));
      if (!writeList) return ctx.note(`this fleet's drivers cannot write InnoDB's page list on ${plan.host}: no load from ${plan.peer}; scans follow`);
      const progress = everySecond((t) => ctx.note(t));
      const conn: Connection = await f.mysql(plan.host);
      try {
        let loaded = 0;
        let pagesPerS = 0;
        let unmapped = 0;
        let cov: Coverage | undefined;
        /** The last measure, while no load has followed it (then the end needs no measure of its own). */
        let fresh: Coverage | undefined;
        // InnoDB's loader skips, silently, pages it cannot read yet (just after a start it skipped most of them):
        // each round loads what is still missing, until nothing is or a round brings nothing.
        for (let round = 1; round <= LOAD_ROUNDS; round++) {
          const m = round === 1 ? await recentMeasure(ctx, plan) : await measure(ctx, plan);
          fresh = m.cov;
          if (cov && m.cov.covered <= cov.covered && round > 2) break;
          cov = m.cov;
          if (cov.fraction * 100 >= params.goal) break;
          await openTablesOf(conn, m.hot);
          const mapping = mapHotSet(m.hot, await tablespaces(conn), m.held);
          unmapped = mapping.noSuchTable + mapping.pastEnd;
          await ctx.note(
            (round === 1 ? '' : `round ${round}: ${percent(cov)} so far; `) +
              `${mapping.pages.length} pages to load, ${mapping.alreadyHeld} held already` +
              (unmapped ? `; ${unmapped} cannot be mapped (${mapping.noSuchTable} of tables ${plan.host} lacks${mapping.missingTables.length ? `: ${mapping.missingTables.join(', ')}` : ''}, ${mapping.pastEnd} past the end of its files)` : ''),
          );
          if (mapping.pages.length === 0) break;
          const done = await loadMapped(conn, mapping.pages, {
            writeList,
            servingRate: params.servingRate,
            serving: () => isServing(ctx, plan.host),
            signal: ctx.signal,
            onProgress: (p) => progress(`loaded ${p.loaded} of ${p.wanted} pages (${Math.floor((p.loaded / Math.max(1, p.wanted)) * 100)} %), ${p.pagesPerS} pages/s`),
          });
          loaded += done.loaded;
          pagesPerS = done.pagesPerS;
          fresh = undefined;
          // Its reads are asynchronous: "completed" comes before the pages do. A round after the first waits
          // longer (what was skipped just after a start may need the server to settle).
          if (round > 1) await sleep(1000, undefined, { signal: ctx.signal });
          await settled(conn, ctx.signal);
        }
        const after = fresh ?? (await measure(ctx, plan)).cov;
        await ctx.note(`loaded ${loaded} pages at ${pagesPerS} pages/s: ${plan.host} now holds ${percent(after)}`);
        return { loaded, pagesPerS, unmapped, coverage: after.fraction };
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    },
  };
}

const LOAD_ROUNDS = 6;

/** Waits until the pool's page count has stopped moving (3 polls 20 ms apart), at most 2 s. */
async function settled(conn: Connection, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 2000;
  let last = -1;
  let still = 0;
  while (Date.now() < deadline && still < 3) {
    const { pagesData } = await poolCounters(conn);
    still = pagesData === last ? still + 1 : 0;
    last = pagesData;
    await sleep(20, undefined, { signal });
  }
}

/**
 * Opens every table of the hot set with a query that reads no row: a table
 * not opened since the start is missing from INNODB_SYS_TABLESPACES, and
 * InnoDB's loader skips the pages of a tablespace it has not opened. (A
 * partition, or a name that is no table, is left alone.)
 */
async function openTablesOf(conn: Connection, hot: readonly PageRef[]): Promise<void> {
  const names = [...new Set(hot.map((p) => p.tablespace))].filter((n) => /^[^/#]+\/[^/#]+$/.test(n));
  for (const name of names) {
    const [db, table] = name.split('/').map((x) => `\`${x.replace(/`/g, '``')}\``);
    await conn.query(`SELECT 1 FROM ${db}.${table} LIMIT 1`).catch(() => undefined);
  }
}

function scanStep(plan: WarmupPlan, params: MysqlWarmupParams): Step {
  return {
    id: `${plan.host}/scan-hot-indexes`,
    kind: 'action',
    semantics: 'idempotent',
    title: `if still short of ${params.goal} %: scan ${plan.peer}'s hottest indexes on ${plan.host}`,
    describe: () => ({ target: plan.host, inputs: { scans: params.scans }, consequence: 'reads whole indexes; changes no data' }),
    async run(ctx) {
      const f = fleet(ctx.env);
      let { cov } = await measure(ctx, plan);
      if (cov.fraction * 100 >= params.goal) return ctx.note(`${percent(cov)}: no scans needed`);
      if (params.scans === 'off') return ctx.note(`${percent(cov)}, short of ${params.goal} %; scans are off (--scans off)`);
      const indexes = await withConnection(f.mysql, plan.peer, (c) => hotIndexes(c));
      for (const ix of indexes) {
        if (await isServing(ctx, plan.host)) {
          await ctx.note(`${plan.host} serves traffic now: no full-speed scans; the rest fills from its reads`);
          break;
        }
        const scanned = await withConnection(f.mysql, plan.host, (c) => scanIndex(c, ix.table, ix.index)).then(
          () => true,
          (err: { code?: string; message?: string }) => {
            // A table (or index) only the peer has: nothing to warm here, the pages cannot be mapped either.
            if (err.code === 'ER_NO_SUCH_TABLE' || err.code === 'ER_KEY_DOES_NOT_EXITS') return false;
            throw err;
          },
        );
        if (!scanned) {
          await ctx.note(`skipped ${ix.table} (${ix.index}): ${plan.host} has no such table or index`);
          continue;
        }
        cov = (await measure(ctx, plan)).cov;
        await ctx.note(`scanned ${ix.table} (${ix.index}): ${plan.host} holds ${percent(cov)}`);
        if (cov.fraction * 100 >= params.goal) break;
      }
      return { coverage: cov.fraction };
    },
  };
}

function gateStep(plan: WarmupPlan, params: MysqlWarmupParams): Step {
  return {
    id: `${plan.host}/warm-gate`,
    kind: 'probe',
    title: `gate: ${plan.host} holds ≥ ${params.goal} % of ${plan.peer}'s hot pages, or hits as often as it over ${formatDuration(params.hitWindow)}`,
    async run(ctx) {
      const f = fleet(ctx.env);
      const { cov } = await measure(ctx, plan);
      if (cov.fraction * 100 >= params.goal) {
        await ctx.note(`warm: ${plan.host} holds ${percent(cov)} of ${plan.peer}'s hot pages`);
        return { coverage: cov.fraction, by: 'coverage' };
      }
      // A host that is no copy of its peer cannot reach the share; its hit rate can still match the peer's.
      const before = await Promise.all([plan.host, plan.peer].map((h) => withConnection(f.mysql, h, poolCounters)));
      await sleep(params.hitWindow, undefined, { signal: ctx.signal });
      const after = await Promise.all([plan.host, plan.peer].map((h) => withConnection(f.mysql, h, poolCounters)));
      const [mine, theirs] = [0, 1].map((i) => hitRate(before[i], after[i]));
      if (mine !== undefined && theirs !== undefined && mine >= theirs - 0.01) {
        await ctx.note(`warm by hit rate: ${(mine * 100).toFixed(2)} % against ${plan.peer}'s ${(theirs * 100).toFixed(2)} % (it holds ${percent(cov)} of the hot pages)`);
        return { coverage: cov.fraction, by: 'hit-rate', hitRate: mine, peerHitRate: theirs };
      }
      const rates = mine === undefined ? 'too few reads to compare hit rates' : `hit rate ${(mine * 100).toFixed(2)} % against ${((theirs ?? 0) * 100).toFixed(2)} %`;
      throw new GamedayError('WARMUP_SHORT', `${plan.host} holds ${percent(cov)} of ${plan.peer}'s hot pages, short of ${params.goal} %; ${rates}`, plan.host, `run it again (gameday warmup mysql ${plan.host}), with --scans on, or give it weight slowly: gameday ramp ${plan.host} --steps 5,10,25,50,100`);
    },
  };
}

/** The warm peer: --from, or the other db host (replicas first) whose pool holds most data. */
async function choosePeer(env: Record<string, unknown>, inventory: Inventory, host: string, from: string | undefined): Promise<string> {
  if (from) {
    const peer = hostByName(inventory, from);
    if (!clusterPeers(inventory, hostByName(inventory, host)).includes(peer)) throw new GamedayError('BAD_PEER', `${from} is not another MariaDB host of ${host}'s cluster (tier ${hostByName(inventory, host).tier})`, '--from', `one of: ${clusterPeers(inventory, hostByName(inventory, host)).map((h) => h.name).join(', ')}`);
    return peer.name;
  }
  const f = fleet(env);
  const candidates = clusterPeers(inventory, hostByName(inventory, host));
  const seen = await Promise.all(
    candidates.map(async (h) =>
      withConnection(f.mysql, h.name, async (c) => ({ host: h.name, pages: (await poolCounters(c)).pagesData, replica: h.role !== 'primary' })).catch((err: Error) => ({ host: h.name, err })),
    ),
  );
  const answered = seen.flatMap((s) => ('err' in s ? [] : [s]));
  const best = answered.sort((a, b) => Number(b.replica) - Number(a.replica) || b.pages - a.pages)[0];
  if (best) return best.host;
  // Say why no peer answered: a missing login is the operator's to fix (its own code and hint), not a fleet with no warm peer.
  const failures = seen.flatMap((s) => ('err' in s ? [s] : []));
  const ours = failures.find((s) => s.err instanceof GamedayError);
  if (ours) throw ours.err;
  const why = failures.map((s) => `${s.host}: ${s.err.message}`).join('; ');
  throw new GamedayError('NO_WARM_PEER', `no other db host answers (${why || 'it has no peer'}), so there is no warm pool to copy for ${host}`, host, 'bring a peer back first, or let the host warm from its reads behind a slow ramp');
}

/**
 * Before weight comes back to a db host: its buffer pool brought to its
 * peers' warmth. Sources, in order: its own dump (the periodic job's, loaded
 * by MariaDB at start-up), a warm peer's pages mapped by table name, and
 * scans of the peer's hottest indexes. Gated on the share of the peer's hot
 * pages, or on the hit rate.
 */
export const mysqlWarmup: Runbook<MysqlWarmupParams, WarmupPlan> = {
  name: 'warmup-mysql',
  summary: 'Warm a db host\'s InnoDB buffer pool from its own dump and a warm peer before its weight comes back; gated on the share of the peer\'s hot pages',
  params: mysqlWarmupParams,
  async resolve({ params, inventory, env }) {
    const host = hostByName(inventory, params.host);
    if (kindOf(inventory, host) !== 'mariadb') throw new GamedayError('NOT_A_DB_HOST', `${host.name} runs no MariaDB: it has no buffer pool to warm`, params.host, 'name a db host, e.g. db-2');
    return { host: host.name, peer: await choosePeer(env, inventory, host.name, params.from) };
  },
  locks: (plan) => [`host:${plan.host}:warmup`],
  steps: (plan, params) => [ownLoadStep(plan, params), loadStep(plan, params), scanStep(plan, params), gateStep(plan, params)],
  examplePlan: { host: 'db-2', peer: 'db-3' },
  exampleParams: { host: 'db-2' },
};
