import { formatDuration } from '../core/duration.js';
import type { RunState, StepState } from './runState.js';

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

function stepRow(s: StepState, i: number): string[] {
  const status = s.status + (s.compensationFailed ? ' (compensation failed)' : '') + (s.attempts > 1 ? ` (${s.attempts} attempts)` : '');
  const note = s.error ?? s.detail ?? '';
  return [String(i + 1), s.id, s.title, status, s.durationMs === undefined ? '' : formatDuration(s.durationMs), note];
}

/** One run: its state and every step with status and duration (the end-of-run summary, and `status <run-id>`). */
export function renderRun(run: RunState): string {
  const lines = [
    `run ${run.runId}: ${run.start.runbook} ${run.state} (started ${run.startedAt}, ${formatDuration(run.durationMs)}${run.invocations > 1 ? `, ${run.invocations} invocations` : ''})`,
    ...table(['#', 'step', 'title', 'status', 'duration', 'detail'], run.steps.map(stepRow)).map((l) => `  ${l}`),
  ];
  if (run.failedStep && run.state !== 'succeeded') lines.push(`failed at ${run.failedStep.id}: ${run.failedStep.error}`);
  if (run.degraded.size > 0) lines.push(`left degraded: ${[...run.degraded.values()].join('; ')}`);
  if (run.state === 'failed' || run.state === 'stopped' || run.state === 'crashed' || run.state === 'waiting-approval') {
    lines.push(`resume with: gameday runbook resume ${run.runId}${run.state === 'waiting-approval' ? ' --yes' : ''}`);
  }
  return lines.join('\n');
}

/** The list of runs: id, runbook, state, start, duration. */
export function renderRunList(runs: RunState[]): string {
  if (runs.length === 0) return 'no runs yet';
  return table(
    ['run', 'runbook', 'state', 'started', 'duration', 'steps done'],
    runs.map((r) => [
      r.runId,
      r.start.runbook,
      r.state + (r.degraded.size ? ' (degraded)' : ''),
      r.startedAt,
      formatDuration(r.durationMs),
      `${r.steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length}/${r.steps.length}`,
    ]),
  ).join('\n');
}

/** JSON form of a run for --json. */
export function runJson(run: RunState): Record<string, unknown> {
  return {
    runId: run.runId,
    runbook: run.start.runbook,
    state: run.state,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    params: run.start.params,
    parentRunId: run.start.parentRunId,
    degraded: [...run.degraded.values()],
    failedStep: run.failedStep,
    steps: run.steps,
  };
}
