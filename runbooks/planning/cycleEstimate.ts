import { formatDuration } from '../../core/duration.js';
import { inWindow, type MaintenanceWindow } from './maintenanceWindow.js';
import type { Wave } from './waves.js';

/**
 * What one host's turn takes, from hand-off to full weight. The defaults are
 * reboot-stale's own defaults, its timeouts taken as durations (so the
 * estimate leans long): a hand-off (switchover or failover) of 30 s, the
 * 15 s drain timeout, the 180 s reboot timeout, 3 ready samples 1 s apart, a
 * minute of warm-up, and a ramp of 3 steps held 3 s each.
 */
export interface HostTimeParts {
  handOffMs: number;
  drainMs: number;
  rebootMs: number;
  readyMs: number;
  warmupMs: number;
  rampMs: number;
}

export const DEFAULT_HOST_TIME_PARTS: HostTimeParts = { handOffMs: 30_000, drainMs: 15_000, rebootMs: 180_000, readyMs: 3_000, warmupMs: 60_000, rampMs: 9_000 };

/** One host's turn: the sum of its parts (any not given from DEFAULT_HOST_TIME_PARTS). */
export function hostTime(parts: Partial<HostTimeParts> = {}): number {
  const p = { ...DEFAULT_HOST_TIME_PARTS, ...parts };
  return p.handOffMs + p.drainMs + p.rebootMs + p.readyMs + p.warmupMs + p.rampMs;
}

/** 4m57s: one host's turn with every default. */
export const DEFAULT_HOST_MS = hostTime();

/** The window the job runs in: its days and hours (time zone and blackout dates do not change how long it is). */
export type WindowShape = Pick<MaintenanceWindow, 'days' | 'hours'>;

export const ALL_DAY: WindowShape = { days: 'all', hours: '00:00-24:00' };

export interface CycleEstimateOptions {
  /** One host's turn in milliseconds (default DEFAULT_HOST_MS), or a function of the host's name. */
  hostMs?: number | ((host: string) => number);
  /** The maintenance window (default ALL_DAY: always open). */
  window?: WindowShape;
  /** Hosts of a wave the run takes down at the same time (reboot-stale --concurrency); default 1. */
  concurrency?: number;
}

/** One way of running the plan: how many units (waves or hosts) one after another, how long, and how many windows. */
export interface CycleRun {
  /** Waves (all of a wave's hosts together) or hosts (one after another). */
  units: number;
  /** Their durations end to end, in milliseconds. */
  totalMs: number;
  /** Maintenance windows (nights) it takes: a unit starts while the window is open, and may run past its end. */
  windows: number;
  /** Units that start in one window (the first windows; the last may hold fewer). */
  perWindow: number;
  /** Calendar days the windows fall on, about (windows on some weekdays only take longer). */
  calendarDays: number;
}

export interface CycleEstimate {
  hosts: number;
  waves: number;
  /** One host's turn, when it is one figure for all. */
  hostMs?: number;
  /** Waves one after another, a wave's hosts all at once: a wave lasts as long as its slowest host. */
  together: CycleRun;
  /** Every host one after another, wave by wave. */
  oneByOne: CycleRun;
  /** Hosts of a wave `concurrency` at a time: what this run does. */
  concurrency: number;
  asRun: CycleRun;
  window: WindowShape & {
    lengthMs: number;
    /** Days of the week it opens on. */
    perWeek: number;
    /** Open all day every day: a cycle goes on across midnight without waiting. */
    continuous: boolean;
  };
}

const DAY_MS = 86_400_000;

/** The length of a window's hours: "02:00-05:00" 3 h, "22:00-04:00" 6 h, "00:00-24:00" 24 h. Throws on a range it cannot read. */
export function windowLengthMs(hours: string): number {
  const m = hours.trim().match(/^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/);
  if (!m) throw new Error(`"${hours}" is not a range of hours; use HH:MM-HH:MM, e.g. 02:00-05:00`);
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  const minutes = end > start ? end - start : end + 24 * 60 - start;
  return minutes * 60_000;
}

/** The days of a week a window opens on: "all" 7, "mon-fri" 5, "sat,sun" 2 (read by inWindow itself, so the same words mean the same days). */
export function windowDaysPerWeek(days: string): number {
  // 2026-01-04 is a Sunday; noon UTC of seven days in a row, in a window open all day.
  let n = 0;
  for (let d = 0; d < 7; d++) if (inWindow({ days, hours: '00:00-24:00', timeZone: 'UTC', blackout: '' }, new Date(Date.UTC(2026, 0, 4 + d, 12))).ok) n++;
  return n;
}

function run(units: number[], windowMs: number, continuous: boolean, perWeek: number): CycleRun {
  const totalMs = units.reduce((a, b) => a + b, 0);
  if (units.length === 0) return { units: 0, totalMs: 0, windows: 0, perWindow: 0, calendarDays: 0 };
  // Into the current window: a unit starts only while it is open (reboot-stale checks the window before each host).
  let windows = 1;
  let at = 0;
  let inFirst = 0;
  for (const u of units) {
    if (at >= windowMs) {
      if (continuous) {
        const spill = Math.floor(at / windowMs);
        windows += spill;
        at -= spill * windowMs;
      } else {
        windows++;
        at = 0;
      }
    }
    if (windows === 1) inFirst++;
    at += u;
  }
  const calendarDays = continuous ? Math.ceil(totalMs / DAY_MS) : perWeek >= 7 ? windows : Math.ceil((windows * 7) / perWeek);
  return { units: units.length, totalMs, windows, perWindow: inFirst, calendarDays };
}

/** A wave's hosts `c` at a time, each batch as long as its slowest host. */
function batchesMs(times: number[], c: number): number {
  let total = 0;
  for (let i = 0; i < times.length; i += c) total += Math.max(...times.slice(i, i + c));
  return total;
}

/**
 * How long a wave plan takes and how many maintenance windows it needs: waves
 * one after another, a wave's hosts at once (a wave lasts one host's turn,
 * its slowest), and for comparison every host one after another. Blackout
 * dates are not counted (each one adds a calendar day, not a window), nor the
 * consistency check at the end of a run.
 */
export function estimateCycle(waves: Wave[], opts: CycleEstimateOptions = {}): CycleEstimate {
  const hostMs = opts.hostMs ?? DEFAULT_HOST_MS;
  const timeOf = typeof hostMs === 'number' ? () => hostMs : hostMs;
  const shape = opts.window ?? ALL_DAY;
  const lengthMs = windowLengthMs(shape.hours);
  const perWeek = windowDaysPerWeek(shape.days);
  const continuous = lengthMs >= DAY_MS && perWeek === 7;
  const hostTimes = waves.map((w) => w.hosts.map((h) => timeOf(h)));
  return {
    hosts: hostTimes.reduce((n, w) => n + w.length, 0),
    waves: waves.length,
    ...(typeof hostMs === 'number' ? { hostMs } : {}),
    together: run(hostTimes.map((w) => w.reduce((a, b) => Math.max(a, b), 0)), lengthMs, continuous, perWeek),
    oneByOne: run(hostTimes.flat(), lengthMs, continuous, perWeek),
    concurrency: Math.max(1, opts.concurrency ?? 1),
    asRun: run(hostTimes.map((w) => batchesMs(w, Math.max(1, opts.concurrency ?? 1))), lengthMs, continuous, perWeek),
    window: { days: shape.days, hours: shape.hours, lengthMs, perWeek, continuous },
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** The window in words: "nightly windows of 02:00-05:00", "windows of 02:00-05:00 on mon-fri", "the window always open". */
export function describeWindow(e: CycleEstimate): string {
  if (e.window.continuous) return 'the window always open';
  return `${e.window.days === 'all' ? 'daily windows' : 'windows'} of ${e.window.hours}${e.window.days === 'all' ? '' : ` on ${e.window.days}`}`;
}

/** How long one way of running takes, and in how many windows: "~1d17h, ~14 nights (~20 calendar days)"; just the time when the window is always open. */
export function formatRun(r: CycleRun, e: CycleEstimate): string {
  const time = `~${formatDuration(r.totalMs)}`;
  if (e.window.continuous) return time;
  const nights = `~${plural(r.windows, e.window.lengthMs >= DAY_MS ? 'day-long window' : 'night')}`;
  return e.window.perWeek < 7 && r.windows > 1 ? `${time}, ${nights} (~${plural(r.calendarDays, 'calendar day')})` : `${time}, ${nights}`;
}

/** Kept for callers that want the windows alone: "~14 nights", "~3 days (the window is always open)". */
export function formatWindows(r: CycleRun, e: CycleEstimate): string {
  if (e.window.continuous) return `~${plural(r.calendarDays, 'day')} (the window is always open)`;
  return `~${plural(r.windows, e.window.lengthMs >= DAY_MS ? 'day-long window' : 'night')}`;
}

/**
 * The estimate in one line for a person, e.g. "10,000 hosts in 500 waves at
 * 4m57s a host, daily windows of 02:00-05:00: ~1d17h, ~14 nights if a wave's
 * hosts run together; this version runs them one after another: ~34d9h, ~271
 * nights" (with oneByOneNow), else "...: a wave's hosts together ~1d17h, ~14
 * nights; one after another ~34d9h, ~271 nights".
 */
export function formatCycleEstimate(e: CycleEstimate, opts: { oneByOneNow?: boolean } = {}): string {
  if (e.hosts === 0) return 'nothing to reboot: no wave';
  const per = e.hostMs !== undefined ? ` at ${formatDuration(e.hostMs)} a host` : '';
  const head = `${plural(e.hosts, 'host')} in ${plural(e.waves, 'wave')}${per}, ${describeWindow(e)}`;
  if (opts.oneByOneNow && e.concurrency > 1) {
    return `${head}: ${formatRun(e.together, e)} if a wave's hosts all run together; this run takes ${e.concurrency} of a wave's hosts at a time: ${formatRun(e.asRun, e)} (one after another: ${formatRun(e.oneByOne, e)})`;
  }
  return opts.oneByOneNow
    ? `${head}: ${formatRun(e.together, e)} if a wave's hosts run together; this run takes them one after another (--concurrency raises it): ${formatRun(e.oneByOne, e)}`
    : `${head}: a wave's hosts together ${formatRun(e.together, e)}; one after another ${formatRun(e.oneByOne, e)}`;
}
