import { z } from 'zod';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether a string passes `check` (which throws a message when it does not), as a zod refinement. */
function checked(check: (value: string) => void) {
  return (value: string, ctx: z.RefinementCtx) => {
    try {
      check(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  };
}

function checkHours(spec: string): void {
  const m = spec.trim().match(/^(\S+)-(\S+)$/);
  if (!m) throw new Error(`"${spec}" is not a range of hours; use HH:MM-HH:MM, e.g. 02:00-05:00 (00:00-24:00 for all day)`);
  const [start, end] = [minutes(m[1]), minutes(m[2])];
  if (start >= 24 * 60) throw new Error(`"${spec}" starts at ${m[1]}; a window starts at 23:59 at the latest`);
  if (start === end) throw new Error(`"${spec}" is empty; use 00:00-24:00 for all day`);
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new Error(`"${tz}" is not a time zone; use an IANA name such as UTC or Europe/Paris`);
  }
}

function checkBlackout(list: string): void {
  for (const date of list.split(',').map((d) => d.trim()).filter(Boolean)) {
    const m = date.match(/^(\d{4})-(\d{2})-(\d{2})$/);
    const parsed = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
    if (!m || !parsed || parsed.toISOString().slice(0, 10) !== date) throw new Error(`"${date}" is not a date; use YYYY-MM-DD, e.g. 2026-12-24`);
  }
}

/** The window's fields, each validated whole when parsed (shared by every runbook that has a window). */
export const windowDays = z.string().superRefine(checked((d) => void dayIndexes(d)));
export const windowHours = z.string().superRefine(checked(checkHours));
export const windowTimeZone = z.string().superRefine(checked(checkTimeZone));
export const windowBlackout = z.string().superRefine(checked(checkBlackout));

/** When the reboot job may act: days, hours and a time zone, minus blackout dates. */
export const maintenanceWindowSchema = z.object({
  /** "mon-fri", "sat,sun", "all" */
  days: windowDays.default('all'),
  /** "02:00-05:00" (may wrap midnight: "22:00-04:00"); "00:00-24:00" for all day */
  hours: windowHours.default('00:00-24:00'),
  /** IANA time zone, e.g. "Europe/Paris" */
  timeZone: windowTimeZone.default('UTC'),
  /** "2026-12-24,2026-12-31" in the window's time zone */
  blackout: windowBlackout.default(''),
});
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

function dayIndexes(spec: string): Set<number> {
  if (spec.trim() === 'all') return new Set([0, 1, 2, 3, 4, 5, 6]);
  if (spec.trim() === '') throw new Error('no days given; use sun..sat, ranges like mon-fri, or all');
  const out = new Set<number>();
  for (const part of spec.toLowerCase().split(',').map((p) => p.trim())) {
    const [a, b] = part.split('-');
    const from = DAYS.indexOf(a);
    const to = b === undefined ? from : DAYS.indexOf(b);
    if (from < 0 || to < 0) throw new Error(`unknown day in "${spec}"; use sun..sat, ranges like mon-fri, or all`);
    for (let d = from; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return out;
}

function minutes(hhmm: string): number {
  const m = hhmm.match(/^(\d{2}):(\d{2})$/);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) > 0)) throw new Error(`"${hhmm}" is not a time; use HH:MM from 00:00 to 24:00`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** The local date, weekday and minute of the day of `at` in a time zone. */
function localParts(at: Date, timeZone: string): { date: string; day: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, day: DAYS.indexOf(parts.weekday.toLowerCase()), minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** Whether `at` falls inside the window; the reason when it does not. Throws on a malformed window. */
export function inWindow(w: MaintenanceWindow, at: Date): { ok: boolean; reason: string } {
  const local = localParts(at, w.timeZone);
  const blackout = w.blackout.split(',').map((d) => d.trim()).filter(Boolean);
  if (blackout.includes(local.date)) return { ok: false, reason: `${local.date} is a blackout date` };
  // A window that wraps midnight belongs to the day it starts on.
  const [start, end] = w.hours.split('-').map(minutes);
  const wraps = end <= start;
  const inHours = wraps ? local.minute >= start || local.minute < end : local.minute >= start && local.minute < end;
  if (!inHours) return { ok: false, reason: `${local.date} ${String(Math.floor(local.minute / 60)).padStart(2, '0')}:${String(local.minute % 60).padStart(2, '0')} ${w.timeZone} is outside ${w.hours}` };
  const day = wraps && local.minute < end ? (local.day + 6) % 7 : local.day;
  if (!dayIndexes(w.days).has(day)) return { ok: false, reason: `${DAYS[day]} is not in ${w.days}` };
  return { ok: true, reason: `inside ${w.days} ${w.hours} ${w.timeZone}` };
}
