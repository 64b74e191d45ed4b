import { formatDuration } from '../core/duration.js';
import { safeWrite } from './signals.js';

export type ProgressEvent =
  | { type: 'run'; runId: string; runbook: string; total: number; resumed: boolean }
  | { type: 'step-start'; index: number; total: number; id: string; title: string; kind: string; what?: string }
  | { type: 'step-done-before'; index: number; total: number; id: string; title: string; status: string }
  | { type: 'wait-sample'; index: number; total: number; id: string; what: string; ok: boolean; detail: string; streak: number; needed: number; elapsedMs: number; timeoutMs: number }
  | { type: 'step-end'; index: number; total: number; id: string; title: string; status: string; durationMs: number; error?: string }
  | { type: 'message'; text: string };

/** Receives the run's progress; must not throw. */
export type ProgressSink = (event: ProgressEvent) => void;

export const silentProgress: ProgressSink = () => {};

const MARK: Record<string, string> = { succeeded: 'ok', skipped: 'skipped', failed: 'FAILED', interrupted: 'interrupted', 'waiting-approval': 'waiting for approval', denied: 'denied' };

/**
 * One line per event on stderr (stdout is for the summary): the step n/N and
 * its title, and for a wait what it waits for with the latest detail
 * (printed when the detail changes, or every 15 s while it does not).
 */
export function lineProgress(write: (line: string) => void = (l) => void safeWrite(process.stderr, `${l}\n`)): ProgressSink {
  let lastSample = { id: '', text: '', at: 0 };
  return (e) => {
    switch (e.type) {
      case 'run':
        write(`${e.resumed ? 'resuming' : 'run'} ${e.runId}: ${e.runbook}, ${e.total} steps`);
        break;
      case 'step-done-before':
        write(`[${e.index + 1}/${e.total}] ${e.title}: already ${e.status}`);
        break;
      case 'step-start':
        write(`[${e.index + 1}/${e.total}] ${e.title}${e.what ? ` (waiting for ${e.what})` : ''} ...`);
        break;
      case 'wait-sample': {
        const text = `${e.ok ? 'holds' : 'not yet'}: ${e.detail}`;
        const now = Date.now();
        if (lastSample.id !== e.id || lastSample.text !== text || now - lastSample.at > 15_000 || e.streak >= e.needed) {
          write(`      ${e.what}: ${text} [${e.streak}/${e.needed} in a row, ${formatDuration(e.elapsedMs)} of ${formatDuration(e.timeoutMs)}]`);
          lastSample = { id: e.id, text, at: now };
        }
        break;
      }
      case 'step-end':
        write(`[${e.index + 1}/${e.total}] ${e.title}: ${MARK[e.status] ?? e.status} in ${formatDuration(e.durationMs)}${e.error ? `: ${e.error}` : ''}`);
        break;
      case 'message':
        write(e.text);
        break;
    }
  };
}
