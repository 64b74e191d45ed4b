import { z } from 'zod';
import { kindOf } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { Runbook, Step } from '../engine/types.js';
import { durationParam, formatDuration } from '../core/duration.js';
import { fleet, hostByName } from './steps/fleet.js';
import { drainStep, handOffPlan, handOffStep, rampPercents, rebootSteps, returnSteps } from './steps/hostSteps.js';
import { inWindow, maintenanceWindowSchema, windowBlackout, windowDays, windowHours, windowTimeZone } from './planning/maintenanceWindow.js';
import { DEFAULT_MAX_PER_WAVE, planWaves, type TierLimit, type Wave } from './planning/waves.js';
import { rebootStaleOverview } from './planning/rebootStaleOverview.js';
import { uptimeWithLedger } from './planning/rebootLedger.js';
import { readUptimesFile } from './planning/uptimeFile.js';
import { estimateCycle, formatCycleEstimate, hostTime, type CycleEstimate } from './planning/cycleEstimate.js';
import { consistencyCheckStep, verifyParams } from './steps/consistencyCheck.js';
import { readOnlyContractStep } from './steps/configContract.js';
import { warmStage, whatWarms, type Warms } from './nested/warmStages.js';
import { gatedRampStep } from './nested/gatedRamp.js';
import { sourceFileOf } from '../core/paths.js';

export const sourceFile = sourceFileOf(import.meta.url);

export const rebootStaleParams = z.object({
  maxUptime: durationParam().describe('reboot hosts up longer than this, e.g. 180d (or 1m in the lab)'),
  margin: durationParam('0s').describe('also reboot hosts within this margin before the limit, e.g. 7d'),
  hosts: z.string().optional().describe('only these hosts (comma-separated names)'),
  days: windowDays.default('all').describe('maintenance window days: all, mon-fri, sat,sun'),
  hours: windowHours.default('00:00-24:00').describe('maintenance window hours, e.g. 02:00-05:00 (may wrap midnight)'),
  timeZone: windowTimeZone.default('UTC').describe('time zone of the window and blackout dates, e.g. Europe/Paris'),
  blackout: windowBlackout.default('').describe('dates never to act on, e.g. 2026-12-24,2026-12-31'),
  maxLagMs: z.coerce.number().int().min(0).default(1000).describe('replica lag (heartbeat) under which a db host is ready'),
  readySamples: z.coerce.number().int().min(1).default(3).describe('ready samples in a row (1 s apart) before weight is given back'),
  ramp: rampPercents.prefault('25,50,100').describe('weight steps in percent'),
  rampHold: durationParam('3s', { minMs: 1000 }).describe('how long each weight step is held and checked against the gates'),
  rampRetries: z.coerce.number().int().min(0).max(10).default(2).describe('times a weight step is tried again after a failed gate, before the host is taken out'),
  drainTimeout: durationParam('15s').describe('how long to wait for connections to leave before cutting them'),
  rebootTimeout: durationParam('180s').describe('how long a host may take to come back'),
  maxPerWave: z.coerce
    .number()
    .int('must be a whole number of hosts, e.g. 50')
    .min(1, 'must be 1 or more: the most hosts one wave may take down together')
    .default(DEFAULT_MAX_PER_WAVE)
    .describe('at most this many hosts in one wave, all tiers together (each tier also keeps to its maxUnavailable and blast radius)'),
  hostTime: durationParam()
    .optional()
    .describe("one host's turn for the cycle estimate, e.g. 6m (default: 30s hand-off + drain timeout + reboot timeout + ready samples + 1m warm-up + ramp holds)"),
  concurrency: z.coerce
    .number()
    .int('must be a whole number of hosts, e.g. 4')
    .min(1, 'must be 1 or more: hosts of one wave rebooted at the same time')
    .max(100, 'must be 100 or fewer')
    .default(1)
    .describe("hosts of one wave rebooted at the same time (a wave is planned to be lost whole); 1: one after another"),
  uptimes: z.string().optional().describe('plan only, a preview without reaching the fleet: host uptimes from this file (JSON {"db-1": "200d"} or CSV host,uptime; seconds or durations)'),
  assumeUptime: durationParam().optional().describe('plan only, a preview without reaching the fleet: every host (or, with --uptimes, every host the file leaves out) has this uptime, e.g. 200d'),
  warmup: z.enum(['on', 'off']).default('on').describe('warm each host before its weight comes back: a db host\'s buffer pool measured against a warm peer and filled from it (warmup mysql); Redis rebuilt from MariaDB if its data set was lost'),
  ...verifyParams,
});
export type RebootStaleParams = z.infer<typeof rebootStaleParams>;

export interface RebootStalePlan {
  checkedAt: string;
  uptimes: Record<string, number>;
  stale: string[];
  waves: Wave[];
  refused: Array<{ host: string; reason: string }>;
  /** Where the uptimes came from when not from the hosts (a preview: --uptimes, --assume-uptime). */
  uptimeSource?: string;
  /** Hosts whose uptime could not be read, and why: not rebooted this run, named so someone looks (plans made before this have none). */
  unreadable?: Array<{ host: string; reason: string }>;
  /** The MariaDB hosts to reboot: each one's config is checked to start it read-only before anything is done to it. */
  mariadb?: string[];
  /** Hosts that serve in a load-balancer pool (they get a weight ramp). */
  pooled: string[];
  /** What warms on each host before its weight comes back (plans made before the warm-up existed have none). */
  warms?: Record<string, Warms>;
  /** How many members of each tier a wave may hold, and why (plans made before parallel waves have none). */
  limits?: TierLimit[];
  /** The most hosts in one wave the plan was made with. */
  maxPerWave?: number;
  /** How long the cycle takes and how many windows it needs (see estimateOf). */
  estimate?: CycleEstimate;
  /** Set on a plan (dry run) made outside the maintenance window: why a run would not act now. */
  outsideWindow?: string;
  /** The stale hosts that are proxies (haproxy): with --concurrency they go first in their wave, alone. */
  proxies?: string[];
  /** Host → what its hand-off does, for the hosts that have a role to hand off (plans made before this hand every host off). */
  handOffs?: Record<string, string>;
}

/**
 * One host's turn as this runbook's parameters make it: `--host-time` when
 * given, else its timeouts taken as durations (a hand-off of 30 s, the drain
 * timeout, the reboot timeout, the ready samples 1 s apart, a minute of
 * warm-up when it is on, and every ramp step held for its time).
 */
export function hostTimeOf(params: Pick<RebootStaleParams, 'hostTime' | 'drainTimeout' | 'rebootTimeout' | 'readySamples' | 'warmup' | 'ramp' | 'rampHold'>): number {
  if (params.hostTime !== undefined) return params.hostTime;
  return hostTime({
    drainMs: params.drainTimeout,
    rebootMs: params.rebootTimeout,
    readyMs: params.readySamples * 1000,
    ...(params.warmup === 'off' ? { warmupMs: 0 } : {}),
    rampMs: params.ramp.length * params.rampHold,
  });
}

/** The cycle estimate of a plan's waves in the runbook's window. */
export function estimateOf(waves: Wave[], params: RebootStaleParams): CycleEstimate {
  return estimateCycle(waves, { hostMs: hostTimeOf(params), window: { days: params.days, hours: params.hours }, concurrency: params.concurrency });
}

/** The uptimes a preview plans with (--uptimes, --assume-uptime), or undefined when they are read from the hosts. */
function previewUptimes(params: RebootStaleParams, inventory: { hosts: Array<{ name: string }> }): { source: string; of(host: string): number | undefined } | undefined {
  if (params.uptimes === undefined && params.assumeUptime === undefined) return undefined;
  const file = params.uptimes === undefined ? undefined : readUptimesFile(params.uptimes, new Set(inventory.hosts.map((h) => h.name)));
  const assumed = params.assumeUptime === undefined ? undefined : params.assumeUptime / 1000;
  const parts = [file ? `${params.uptimes} (${file.size} hosts)` : '', assumed !== undefined ? `${formatDuration(params.assumeUptime!).replace(/^(\d+d)0h$/, '$1')} assumed${file ? ' for the others' : ''}` : ''].filter(Boolean);
  return { source: parts.join(', '), of: (host) => file?.get(host) ?? assumed };
}

/** Uptime queries in flight at once while planning. */
const UPTIME_QUERIES = 16;

export const rebootStale: Runbook<RebootStaleParams, RebootStalePlan> = {
  name: 'reboot-stale',
  summary: 'Reboot every host whose uptime passed a limit, one safe wave at a time, draining, waiting, warming and ramping each back',
  description: [
    'Finds the hosts whose uptime is over `--max-uptime` (or within `--margin` before it) and plans waves:',
    'one zone at a time; hosts of different tiers together; of one tier at most its `maxUnavailable`',
    '(default 1 for mariadb, redis, sentinel and haproxy tiers, for http and generic what the blast radius',
    'allows); at most `--max-per-wave` hosts a wave; and no wave whose loss the blast-radius analysis says',
    'would break a tier or pool. The plan begins with the wave count and a cycle estimate (time and nights',
    'in the window, with `--host-time` a host). A wave\'s hosts go one after another, or `--concurrency`',
    'of them side by side (a wave is planned so that losing it whole is safe). Each host: hand off its role (MariaDB primary:',
    'GTID switchover; Redis primary: Sentinel failover; proxy: its clients move to the other proxy), drain',
    'it, wait for its connections to go, reboot, wait until it is back and ready for several samples in a',
    'row, warm it, then give its weight back through a gated ramp (each step held and judged against its',
    'peers, stepped back down when a gate fails; see `gameday ramp`). A host that does not come back stops',
    'the job: no other host is touched, and the summary says which hosts are still drained.',
    'Uptimes are the drivers\' (ssh: /proc/uptime; EC2: LaunchTime or SSM; ElastiCache: the node\'s create',
    'time), or the time since gameday last rebooted the host (the state folder\'s reboots.json) if that is shorter:',
    'launch and create times do not move on a reboot.',
    'Acts only inside the maintenance window and never on a blackout date.',
    'Ends by checking the notification data in Redis against MariaDB (the users changed during the run plus a',
    'random sample, or `--verify all`): a mismatch fails the run and names the users and the repair command.',
  ].join('\n'),
  params: rebootStaleParams,

  async resolve({ params, inventory, env, dryRun }) {
    const window = maintenanceWindowSchema.parse({ days: params.days, hours: params.hours, timeZone: params.timeZone, blackout: params.blackout });
    const now = new Date();
    let verdict;
    try {
      verdict = inWindow(window, now);
    } catch (err) {
      throw new GamedayError('BAD_WINDOW', (err as Error).message, '--days/--hours/--time-zone', 'e.g. --days mon-fri --hours 02:00-05:00 --time-zone Europe/Paris');
    }
    // A plan made outside the window says so; a run refuses.
    if (!verdict.ok && !dryRun) throw new GamedayError('OUTSIDE_WINDOW', `not acting now: ${verdict.reason}`, '--days/--hours/--blackout', 'run again inside the maintenance window');
    const preview = previewUptimes(params, inventory);
    // A run acts on what the hosts say now, never on a file or a guess.
    if (preview && !dryRun) {
      throw new GamedayError('PREVIEW_ONLY', 'uptimes from a file or assumed are for a preview only', '--uptimes/--assume-uptime', 'use them with "gameday runbook plan reboot-stale"; "runbook run" reads every uptime from the hosts');
    }
    const wanted = params.hosts ? params.hosts.split(',').map((h) => hostByName(inventory, h.trim()).name) : inventory.hosts.map((h) => h.name);
    const f = fleet(env);
    // By name once: hostByName looks through the fleet, once per host that is quadratic at 10,000 hosts.
    const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
    // Asked UPTIME_QUERIES at a time: one after another, 10,000 ssh or AWS calls take hours.
    const uptimes: Record<string, number> = {};
    // One host that does not answer (dead, an empty Auto Scaling slot) must not stop every other reboot, every day.
    const unreadable: Array<{ host: string; reason: string }> = [];
    // A reboot ledger that cannot be read stops the plan here, whole, rather than as one "unreadable uptime" per host.
    if (wanted.length) f.reboots?.last(wanted[0]);
    const queue = [...wanted];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const host = byName.get(name)!;
        if (preview) {
          const given = preview.of(name);
          if (given === undefined) unreadable.push({ host: name, reason: 'not in the --uptimes file (give --assume-uptime for the hosts it leaves out)' });
          else uptimes[name] = Math.round(given);
          continue;
        }
        try {
          const power = f.power(host);
          uptimes[name] = Math.round(uptimeWithLedger(name, await power.uptimeSeconds(host), f.reboots, Date.now(), power.kind === 'ssh'));
        } catch (err) {
          unreadable.push({ host: name, reason: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPTIME_QUERIES, queue.length) }, worker));
    // Durations are milliseconds; uptimes are seconds.
    const stale = wanted.filter((n) => uptimes[n] !== undefined && uptimes[n] * 1000 >= params.maxUptime - params.margin);
    unreadable.sort((a, b) => wanted.indexOf(a.host) - wanted.indexOf(b.host));
    const { waves, refused, limits, maxPerWave } = planWaves(inventory, stale, { maxPerWave: params.maxPerWave });
    // A pool server (what membershipsOf finds) gets a ramp: one set of them, not a look through every pool per host.
    const servers = new Set(inventory.pools.flatMap((p) => p.servers));
    const pooled = stale.filter((n) => servers.has(n));
    const warms = Object.fromEntries(stale.flatMap((n) => {
      const w = whatWarms(inventory, byName.get(n)!);
      return w ? [[n, w]] : [];
    }));
    const handOffs = Object.fromEntries(stale.flatMap((n) => {
      const h = handOffPlan(inventory, hostByName(inventory, n));
      return h ? [[n, h.title]] : [];
    }));
    const proxies = stale.filter((n) => kindOf(inventory, hostByName(inventory, n)) === 'haproxy');
    const mariadb = stale.filter((n) => kindOf(inventory, byName.get(n)!) === 'mariadb');
    return { mariadb, checkedAt: now.toISOString(), ...(verdict.ok ? {} : { outsideWindow: verdict.reason }), ...(preview ? { uptimeSource: preview.source } : {}), proxies, uptimes, stale, waves, refused, unreadable, pooled, warms, limits, maxPerWave, estimate: estimateOf(waves, params), handOffs };
  },

  locks: () => ['runbook:reboot-stale'],
  exampleParams: { maxUptime: '180d' },
  // A preview (uptimes assumed) reads no host: `runbook show` prints its plan on the lab's layout.
  previewParams: { assumeUptime: '200d' },

  overview: (plan, params, inventory) => rebootStaleOverview(plan, inventory, params.maxUptime),
  steps(plan, params) {
    const steps: Step[] = [];
    const window = maintenanceWindowSchema.parse({ days: params.days, hours: params.hours, timeZone: params.timeZone, blackout: params.blackout });
    // From the waves and the parameters, not plan.estimate: a plan journaled before the estimate existed gets one too.
    const estimate = estimateOf(plan.waves, params);
    const refused = plan.refused.length ? `; ${plan.refused.length} refused (${plan.refused.slice(0, 3).map((r) => r.host).join(', ')}${plan.refused.length > 3 ? ', …' : ''})` : '';
    const unknown = plan.unreadable?.length ? `; uptime unknown for ${plan.unreadable.length} (${plan.unreadable.slice(0, 3).map((r) => r.host).join(', ')}${plan.unreadable.length > 3 ? ', …' : ''}): not rebooted` : '';
    steps.push({
      id: 'estimate',
      kind: 'probe',
      title: `cycle estimate: ${formatCycleEstimate(estimate, { oneByOneNow: true })}${refused}${unknown}`,
      async run() {
        return estimate;
      },
    });
    // Each tier's limit a wave and what set it (plans journaled before the limits existed have none).
    if (plan.limits?.length) {
      const limits = plan.limits;
      steps.push({
        id: 'wave-limits',
        kind: 'probe',
        title: `a wave takes down at most ${plan.maxPerWave ?? params.maxPerWave} hosts, and of each tier: ${limits.map((l) => `${l.tier} ${l.perWave} (${l.by})`).join('; ')}`,
        async run() {
          return limits;
        },
      });
    }
    const pooled = new Set(plan.pooled);
    const proxies = new Set(plan.proxies ?? []);
    plan.waves.forEach((wave, w) => {
      // With --concurrency, a wave's proxies go first, one after another: every other host's hand-off,
      // drain and ramp talks to every proxy, so none may be down while the others run side by side.
      const order = params.concurrency > 1 ? [...wave.hosts.filter((h) => proxies.has(h)), ...wave.hosts.filter((h) => !proxies.has(h))] : wave.hosts;
      for (const host of order) {
        const prefix = `wave-${w + 1}/${host}`;
        const own: Step[] = [];
        own.push(
          {
            id: `${prefix}/window`,
            kind: 'probe',
            title: `wave ${w + 1} of ${plan.waves.length} (${wave.zone}, ${wave.hosts.length} ${wave.hosts.length === 1 ? 'host' : 'hosts'}): check the maintenance window and ${host}'s uptime (${formatDuration(plan.uptimes[host] * 1000)} at plan time)`,
            async run() {
              const v = inWindow(window, new Date());
              if (!v.ok) throw new GamedayError('OUTSIDE_WINDOW', `stopping before ${host}: ${v.reason}`, host, 'resume the run inside the window');
              return v;
            },
          },
          ...(plan.mariadb?.includes(host) ? [readOnlyContractStep(`${prefix}/config`, host)] : []),
          // Runs journaled before hand-offs were planned per host hand every host off, as they did.
          // The switchover never picks a host of the same wave: it goes down too (side by side with --concurrency, or next).
          ...(plan.handOffs === undefined
            ? [handOffStep(`${prefix}/hand-off`, host)]
            : plan.handOffs[host]
              ? [handOffStep(`${prefix}/hand-off`, host, plan.handOffs[host], { avoid: wave.hosts.filter((h) => h !== host) })]
              : []),
          drainStep(`${prefix}/drain`, host, params.drainTimeout / 1000),
          ...rebootSteps(prefix, host, params.rebootTimeout / 1000),
          ...returnSteps(prefix, host, {
            maxLagMs: params.maxLagMs,
            readySamples: params.readySamples,
            readyTimeoutS: params.rebootTimeout / 1000,
            beforeRamp: params.warmup === 'on' ? warmStage(`${prefix}/warm`, host, plan.warms?.[host]) : [],
          }),
          // A host in no pool (Sentinel, Redis, a proxy) has no weight to give back.
          ...(pooled.has(host) ? [gatedRampStep(`${prefix}/ramp`, host, { steps: params.ramp, holdMs: params.rampHold, retries: params.rampRetries, maxLagMs: params.maxLagMs })] : []),
        );
        // With --concurrency, a wave's other hosts are lanes side by side (the engine runs each host's steps in order).
        const lane = { block: `wave-${w + 1}`, lane: host, concurrency: params.concurrency };
        steps.push(...(params.concurrency > 1 && !proxies.has(host) ? own.map((s) => ({ ...s, lane })) : own));
      }
    });
    steps.push(consistencyCheckStep('verify-notifications', plan.checkedAt, params));
    return steps;
  },
};
