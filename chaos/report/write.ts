import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GamedayError } from '../../core/errors.js';
import { renderReportHtml } from './html.js';
import { renderReportMarkdown } from './markdown.js';
import type { GameDayReport } from './types.js';
import type { LoopSample } from '../load/loop.js';

const NO_REPORT_HINT = 'the run has no report yet: it is still running or was killed; "gameday chaos status" shows it';

/** Write then rename, so a reader (or a crash) never sees half a file. */
function writeWhole(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text, { mode: 0o600 });
  renameSync(partial, path);
}

/**
 * requests.jsonl: one line per request of the load (start, end, kind, the
 * frontend and the app instance that answered, status, error), so a verdict
 * can be derived again, and a failed check explained, after the fact.
 */
export function writeRequests(runFolder: string, requests: LoopSample[]): string {
  const path = join(runFolder, 'requests.jsonl');
  const line = (r: LoopSample) => JSON.stringify({ start: new Date(r.at).toISOString(), end: new Date(r.at + r.ms).toISOString(), kind: r.kind, frontend: r.frontend ?? null, servedBy: r.servedBy ?? null, readSource: r.readSource ?? null, status: r.status, ok: r.ok, error: r.error ?? null });
  writeWhole(path, requests.map((r) => `${line(r)}\n`).join(''));
  return path;
}

/** Writes report.json, report.md and report.html into the run's folder (which exists) and returns their paths. */
export function writeReport(runFolder: string, r: GameDayReport): { json: string; md: string; html: string } {
  const paths = { json: join(runFolder, 'report.json'), md: join(runFolder, 'report.md'), html: join(runFolder, 'report.html') };
  writeWhole(paths.md, renderReportMarkdown(r));
  writeWhole(paths.html, renderReportHtml(r));
  // JSON last: its presence says the run's report is complete.
  writeWhole(paths.json, `${JSON.stringify(r, null, 2)}\n`);
  return paths;
}

/** Reads a run's report.json; a missing or unreadable one is a GamedayError naming the file. */
export function readReport(runFolder: string): GameDayReport {
  const path = join(runFolder, 'report.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new GamedayError('REPORT_NOT_FOUND', `no report.json in ${runFolder}`, path, NO_REPORT_HINT);
    throw new GamedayError('REPORT_NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, path, 'check the file permissions of the run folder');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new GamedayError('REPORT_INVALID', `${path} is not JSON: ${(e as Error).message}`, path, 'the report was cut short or edited by hand; run the game day again to get a new one');
  }
  // Not a full schema: enough that the renderers do not fail on something else's JSON.
  const r = parsed as Partial<GameDayReport> | null;
  const shapeOk =
    r !== null && typeof r === 'object' && typeof r.runId === 'string' && typeof r.verdict === 'string' &&
    Array.isArray(r.timeline) && Array.isArray(r.checks) && Array.isArray(r.events) && typeof r.load === 'object' && r.load !== null;
  if (!shapeOk) {
    throw new GamedayError('REPORT_INVALID', `${path} is JSON but not a game day report (needs runId, verdict, timeline, checks, events, load)`, path, 'point at a run folder under .gameday/runs/');
  }
  return r as GameDayReport;
}
