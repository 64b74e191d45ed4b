import type { Step } from '../../engine/types.js';
import { formatDuration } from '../../core/duration.js';
import { ramp, sourceFile as rampSource } from '../ramp.js';
import { GamedayError } from '../../core/errors.js';

export interface GatedRampOptions {
  steps: number[];
  holdMs: number;
  retries: number;
  maxLagMs: number;
}

/**
 * The weight back through `gameday ramp` (a nested run: its journal holds
 * every weight change and gate verdict): each step held behind the gates
 * against the host's peers, stepped back down when one fails, the host
 * taken out (maint) when they keep failing. Shared by recover-host,
 * reboot-stale and rejoin-db; a resume never raises after a failed ramp.
 */
export function gatedRampStep(id: string, host: string, o: GatedRampOptions): Step {
  return {
    id,
    kind: 'action',
    semantics: 'idempotent',
    title: `ramp ${host} to full weight behind the gates (${o.steps.join(', ')} %, each held ${formatDuration(o.holdMs)})`,
    locks: [`host:${host}`],
    describe: () => ({ target: host, inputs: { steps: o.steps.join(','), hold: formatDuration(o.holdMs), retries: o.retries }, consequence: `${host} takes its share again, step by step; out again (maint) if the gates keep failing` }),
    async run(ctx) {
      if (ctx.previously === 'failed') {
        throw new GamedayError('RAMP_GATE_FAILED_BEFORE', `the ramp of ${host} failed in this run: it is not raised again by a resume`, host, `see the ramp's nested run (gameday runbook status), fix ${host}, then: gameday ramp ${host}`);
      }
      const out = await ctx.runChild!({ runbook: ramp, sourceFile: rampSource }, { host, steps: o.steps.join(','), hold: `${o.holdMs}ms`, retries: o.retries, maxLagMs: o.maxLagMs });
      if (out.state !== 'succeeded') throw new GamedayError('RAMP_FAILED', `the ramp of ${host} ${out.state}: ${out.failedStep?.error ?? 'see its run'}`, host, `gameday runbook status ${out.runId}`);
      await ctx.note(`${host} back at full weight (ramp ${out.runId})`, { degraded: null, host, rampRun: out.runId });
      return { rampRun: out.runId };
    },
  };
}
