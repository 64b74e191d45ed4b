import { z } from 'zod';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** When the reboot job may act: days, hours and a time zone, minus blackout dates. */
export const maintenanceWindowSchema = z.object({
  /** "mon-fri", "sat,sun", "all" */
  days: z.string().default('all'),
  /** "02:00-05:00" (may wrap midnight: "22:00-04:00"); "00:00-24:00" for all day */
  hours: z.string().default('00:00-24:00'),
  /** IANA time zone, e.g. "Europe/Paris" */
  timeZone: z.string().default('UTC'),
  /** "2026-12-24,2026-12-31" in the window's time zone */
  blackout: z.string().default(''),
});
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

function dayIndexes(spec: string): Set<number> {
  if (spec.trim() === 'all') return new Set([0, 1, 2, 3, 4, 5, 6]);
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
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new Error(`"${hhmm}" is not a time; use HH:MM`);
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
