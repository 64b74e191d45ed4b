import { z } from 'zod';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "180d", "12h", "90m", "30s" (whole numbers) → seconds. */
export function parseDuration(text: string): number | undefined {
  const m = text.trim().match(/^(\d+)\s*([smhd])$/);
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

export const durationSchema = z.string().transform((text, ctx) => {
  const s = parseDuration(text);
  if (s === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; use a whole number and s, m, h or d, e.g. 180d` });
    return z.NEVER;
  }
  return s;
});

export function formatDuration(seconds: number): string {
  if (seconds >= 86400) return `${(seconds / 86400).toFixed(1)}d`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)}h`;
  if (seconds >= 60) return `${(seconds / 60).toFixed(1)}m`;
  return `${Math.round(seconds)}s`;
}
