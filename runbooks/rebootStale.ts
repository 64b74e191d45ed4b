import { z } from 'zod';
import { GamedayError } from '../topology/index.js';
import type { Runbook, Step } from './engine/types.js';
import { durationParam, formatDuration } from './engine/duration.js';
import { fleet, hostByName, membershipsOf } from './fleet.js';
import { drainStep, handOffStep, rampPercents, rebootSteps, returnSteps } from './hostSteps.js';
import { inWindow, maintenanceWindowSchema, windowBlackout, windowDays, windowHours, windowTimeZone } from './maintenanceWindow.js';
import { planWaves, type Wave } from './waves.js';
import { consistencyCheckStep, verifyParams } from './consistencyCheck.js';
import { warmStage, whatWarms, type Warms } from './warmStages.js';
import { gatedRampStep } from './gatedRamp.js';
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
  rampHold: durationParam('3s').describe('how long each weight step is held and checked against the gates'),
  rampRetries: z.coerce.number().int().min(0).max(10).default(2).describe('times a weight step is tried again after a failed gate, before the host is taken out'),
  drainTimeout: durationParam('15s').describe('how long to wait for connections to leave before cutting them'),
  rebootTimeout: durationParam('180s').describe('how long a host may take to come back'),
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
  /** Hosts that serve in a load-balancer pool (they get a weight ramp). */
  pooled: string[];
  /** What warms on each host before its weight comes back (plans made before the warm-up existed have none). */
  warms?: Record<string, Warms>;
}

/** Uptime queries in flight at once while planning. */
const UPTIME_QUERIES = 16;

export const rebootStale: Runbook<RebootStaleParams, RebootStalePlan> = {
  name: 'reboot-stale',
  summary: 'Reboot every host whose uptime passed a limit, one safe wave at a time, draining, waiting, warming and ramping each back',
  description: [
    'Finds the hosts whose uptime is over `--max-uptime` (or within `--margin` before it) and plans waves:',
    'one zone at a time, at most one member of a tier per wave, and no wave whose loss the blast-radius',
    'analysis says would break a tier or pool. Each host in turn: hand off its role (MariaDB primary:',
    'GTID switchover; Redis primary: Sentinel failover; proxy: its clients move to the other proxy), drain',
    'it, wait for its connections to go, reboot, wait until it is back and ready for several samples in a',
    'row, warm it, then give its weight back through a gated ramp (each step held and judged against its',
    'peers, stepped back down when a gate fails; see `gameday ramp`). A host that does not come back stops',
    'the job: no other host is touched, and the summary says which hosts are still drained.',
    'Acts only inside the maintenance window and never on a blackout date.',
    'Ends by checking the notification data in Redis against MariaDB (the users changed during the run plus a',
    'random sample, or `--verify all`): a mismatch fails the run and names the users and the repair command.',
  ].join('\n'),
  params: rebootStaleParams,

  async resolve({ params, inventory, env }) {
    const window = maintenanceWindowSchema.parse({ days: params.days, hours: params.hours, timeZone: params.timeZone, blackout: params.blackout });
    const now = new Date();
    let verdict;
    try {
      verdict = inWindow(window, now);
    } catch (err) {
      throw new GamedayError('BAD_WINDOW', (err as Error).message, '--days/--hours/--time-zone', 'e.g. --days mon-fri --hours 02:00-05:00 --time-zone Europe/Paris');
    }
    if (!verdict.ok) throw new GamedayError('OUTSIDE_WINDOW', `not acting now: ${verdict.reason}`, '--days/--hours/--blackout', 'run again inside the maintenance window');
    const wanted = params.hosts ? params.hosts.split(',').map((h) => hostByName(inventory, h.trim()).name) : inventory.hosts.map((h) => h.name);
    const f = fleet(env);
    // Asked UPTIME_QUERIES at a time: one after another, 10,000 ssh or AWS calls take hours.
    const uptimes: Record<string, number> = {};
    const queue = [...wanted];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const host = hostByName(inventory, name);
        uptimes[name] = Math.round(await f.power(host).uptimeSeconds(host));
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPTIME_QUERIES, queue.length) }, worker));
    // Durations are milliseconds; uptimes are seconds.
    const stale = wanted.filter((n) => uptimes[n] * 1000 >= params.maxUptime - params.margin);
    const { waves, refused } = planWaves(inventory, stale);
    const pooled = stale.filter((n) => membershipsOf(inventory, n).length > 0);
    const warms = Object.fromEntries(stale.flatMap((n) => {
      const w = whatWarms(inventory, hostByName(inventory, n));
      return w ? [[n, w]] : [];
    }));
    return { checkedAt: now.toISOString(), uptimes, stale, waves, refused, pooled, warms };
  },

  locks: () => ['runbook:reboot-stale'],

  steps(plan, params) {
    const steps: Step[] = [];
    const window = maintenanceWindowSchema.parse({ days: params.days, hours: params.hours, timeZone: params.timeZone, blackout: params.blackout });
    plan.waves.forEach((wave, w) => {
      for (const host of wave.hosts) {
        const prefix = `wave-${w + 1}/${host}`;
        steps.push(
          {
            id: `${prefix}/window`,
            kind: 'probe',
            title: `check the maintenance window and ${host}'s uptime (${formatDuration(plan.uptimes[host] * 1000)} at plan time)`,
            async run() {
              const v = inWindow(window, new Date());
              if (!v.ok) throw new GamedayError('OUTSIDE_WINDOW', `stopping before ${host}: ${v.reason}`, host, 'resume the run inside the window');
              return v;
            },
          },
          handOffStep(`${prefix}/hand-off`, host),
          drainStep(`${prefix}/drain`, host, params.drainTimeout / 1000),
          ...rebootSteps(prefix, host, params.rebootTimeout / 1000),
          ...returnSteps(prefix, host, {
            maxLagMs: params.maxLagMs,
            readySamples: params.readySamples,
            readyTimeoutS: params.rebootTimeout / 1000,
            rampPercents: [], // the weight comes back through the gated ramp below
            rampHoldMs: params.rampHold,
            beforeRamp: params.warmup === 'on' ? warmStage(`${prefix}/warm`, host, plan.warms?.[host]) : [],
          }),
          // A host in no pool (Sentinel, Redis, a proxy) has no weight to give back.
          ...(plan.pooled.includes(host) ? [gatedRampStep(`${prefix}/ramp`, host, { steps: params.ramp, holdMs: params.rampHold, retries: params.rampRetries, maxLagMs: params.maxLagMs })] : []),
        );
      }
    });
    steps.push(consistencyCheckStep('verify-notifications', plan.checkedAt, params));
    return steps;
  },
};
