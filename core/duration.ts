import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "500ms", "30s", "5m", "2h", "180d", "1w" (or a sum: "1h30m") to milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNITS[m[2]];
  return Math.round(total);
}

/** Milliseconds as a short human duration: 850ms, 12.3s, 4m05s, 2h10m, 3d4h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/** No duration a runbook takes is longer than this: a value past it is a typo (99999999999999999999d). */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/**
 * A runbook parameter given as a duration ("180d", "90s"), parsed to milliseconds.
 * Use `.default("180d")`-style defaults through `durationParam("180d")`; `minMs`
 * refuses shorter values (a hold of 0 s checks nothing).
 */
export function durationParam(defaultValue?: string, bounds: { minMs?: number } = {}) {
  const schema = z.string().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `not a duration: "${value}" (use e.g. 90s, 5m, 2h, 180d)` });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is longer than anything this takes (at most 3650d)` });
      return z.NEVER;
    }
    if (bounds.minMs !== undefined && ms < bounds.minMs) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is too short: at least ${formatDuration(bounds.minMs)}` });
      return z.NEVER;
    }
    return ms;
  });
  return defaultValue === undefined ? schema : schema.prefault(defaultValue);
}
