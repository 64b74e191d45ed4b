import { setTimeout as sleep } from 'node:timers/promises';
import type { StepContext, WaitForStep } from './types.js';
import { formatDuration } from '../core/duration.js';

export interface WaitSample {
  ok: boolean;
  detail: string;
  /** Samples in a row that held, this one included. */
  streak: number;
  needed: number;
  elapsedMs: number;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly step: WaitForStep,
    readonly lastDetail: string,
  ) {
    super(`timed out after ${formatDuration(step.timeoutMs)} waiting for ${step.what} (last: ${lastDetail})`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `step.check` every intervalMs until it holds `consecutive` samples in
 * a row, or throws WaitTimeoutError after timeoutMs. A check that throws counts
 * as a sample that does not hold (a host coming back refuses connections for a
 * while); its message is the detail. Aborts (rejects) as soon as ctx.signal does.
 */
export async function waitFor(step: WaitForStep, ctx: StepContext, onSample: (s: WaitSample) => void): Promise<{ detail: string; samples: number; elapsedMs: number }> {
  const needed = Math.max(1, step.consecutive ?? 1);
  const started = Date.now();
  let streak = 0;
  let samples = 0;
  let detail = 'not checked yet';
  for (;;) {
    ctx.signal.throwIfAborted();
    let ok: boolean;
    try {
      const r = await step.check(ctx);
      ok = r.ok;
      detail = r.detail;
    } catch (err) {
      ctx.signal.throwIfAborted();
      ok = false;
      detail = `check failed: ${(err as Error).message}`;
    }
    samples += 1;
    streak = ok ? streak + 1 : 0;
    const elapsedMs = Date.now() - started;
    onSample({ ok, detail, streak, needed, elapsedMs });
    if (streak >= needed) return { detail, samples, elapsedMs };
    if (elapsedMs + step.intervalMs > step.timeoutMs) throw new WaitTimeoutError(step, detail);
    await sleep(step.intervalMs, undefined, { signal: ctx.signal });
  }
}
