import type { Notifier } from './types.js';

export const silentNotifier: Notifier = { send: async () => {} };

/** The texts the engine sends on its own (runbooks add theirs with notify steps). */
export const notices = {
  started: (runId: string, runbook: string, steps: number, resumed: boolean) =>
    `:arrow_forward: gameday ${runbook} ${resumed ? 'resumed' : 'started'} (run ${runId}, ${steps} steps)`,
  stepFailed: (runId: string, runbook: string, stepId: string, title: string, error: string) =>
    `:x: gameday ${runbook}: step ${stepId} "${title}" failed: ${error} (run ${runId})`,
  waitingApproval: (runId: string, runbook: string, stepId: string, prompt: string, interactive: boolean) =>
    `:raised_hand: gameday ${runbook} waits for approval at step ${stepId}: ${prompt} (run ${runId}; ${
      interactive ? 'asked on the terminal' : `approve with: gameday runbook resume ${runId} --yes`
    })`,
  finished: (runId: string, runbook: string, state: string, duration: string, detail?: string) =>
    `${state === 'succeeded' ? ':white_check_mark:' : state === 'failed' ? ':x:' : ':double_vertical_bar:'} gameday ${runbook} ${state} in ${duration}${detail ? `: ${detail}` : ''} (run ${runId})`,
  refused: (what: string, error: string) => `:no_entry: gameday ${what} refused, nothing was done: ${error.replace(/\n\s*/g, ' ')}`,
  degraded: (runId: string, runbook: string, items: string[]) => `:warning: gameday ${runbook} left degraded: ${items.join('; ')} (run ${runId})`,
};
