import { randomBytes } from 'node:crypto';

/** Run ids sort by start time: 2026-11-24T20-01-02Z-ab12 (UTC, then 4 random hex digits). */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export const RUN_ID_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-[0-9a-f]{4}$/;

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}
