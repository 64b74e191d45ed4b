import { GamedayError } from '../core/errors.js';
import type { Runbook, Step } from './types.js';
import type { StepOutline } from './runState.js';

const KINDS = new Set(['probe', 'action', 'wait-for', 'approval', 'notify']);

/** The runbook's steps for a plan, checked: unique, stable ids ("run" is reserved) and known kinds. */
export function buildSteps(runbook: Runbook, plan: unknown, params: unknown): Step[] {
  const steps = runbook.steps(plan, params);
  const seen = new Set<string>();
  for (const [i, step] of steps.entries()) {
    const where = `runbook ${runbook.name}, step ${i + 1}`;
    if (!step || typeof step.id !== 'string' || step.id === '' || step.id === 'run') {
      throw new GamedayError('RUNBOOK_INVALID', 'every step needs an id other than "run"', where, 'give each step a stable id such as "wave-1/db-2/drain"');
    }
    if (seen.has(step.id)) throw new GamedayError('RUNBOOK_INVALID', `step id "${step.id}" is used twice`, where, 'step ids must be unique within a run');
    if (!KINDS.has(step.kind)) throw new GamedayError('RUNBOOK_INVALID', `unknown step kind "${String((step as { kind: unknown }).kind)}"`, where, `one of ${[...KINDS].join(', ')}`);
    if (step.kind === 'action' && step.semantics !== 'idempotent' && step.semantics !== 'at-most-once') {
      throw new GamedayError('RUNBOOK_INVALID', `action "${step.id}" must declare semantics idempotent or at-most-once`, where);
    }
    seen.add(step.id);
  }
  return steps;
}

export function outline(steps: Step[]): StepOutline[] {
  return steps.map((s) => ({
    id: s.id,
    title: s.title,
    kind: s.kind,
    ...(s.kind === 'action' ? { semantics: s.semantics } : {}),
    ...(s.group ? { group: s.group } : {}),
  }));
}
