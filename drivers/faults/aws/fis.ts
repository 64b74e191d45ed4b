import type { FisClient } from '@aws-sdk/client-fis';
import { GamedayError } from '../../../core/errors.js';
import { awsApiError } from '../../power/awsErrors.js';
import type { ResolvedFault } from '../types.js';
import { log, regionName, type AwsFaultContext } from './context.js';
import { call, loadSdk } from './sdk.js';

/**
 * A power loss by a FIS experiment: with `fisTemplates` (fault label → FIS
 * experiment template id, e.g. the stack's zoneExperiments and
 * rackExperiments outputs), a power-off whose label is mapped starts that
 * experiment instead of stopping instances (tagged with the fault id; the
 * template picks its own targets, ElastiCache nodes included); its undo
 * stops every experiment of that template still running with that tag
 * (FIS then starts the instances again).
 */

/** The tag that ties a FIS experiment to the game-day fault that started it. */
export const FIS_FAULT_TAG = 'gameday:fault';

const FIS_ACTIVE = new Set(['pending', 'initiating', 'running']);
const FIS_ENDED = ['stopped', 'completed', 'failed', 'cancelled'];

/** The FIS template mapped to the fault's label, if any. */
export const templateOf = (ctx: AwsFaultContext, f: ResolvedFault): string | undefined => (Object.hasOwn(ctx.options.fisTemplates, f.label) ? ctx.options.fisTemplates[f.label] : undefined);

/** The one region of a FIS fault: its hosts' (all the same), else the region option. */
export function fisRegion(ctx: AwsFaultContext, f: ResolvedFault): string | undefined {
  const regions = [...new Set(f.hosts.map((n) => ctx.regionFor(ctx.hostOf(n, f))))].filter((r): r is string => r !== undefined);
  if (regions.length > 1) {
    throw new GamedayError('FAULT_FIS_REGIONS', `the hosts of ${f.label} are in ${regions.join(' and ')}: one FIS experiment runs in one region`, `fault ${f.id}`, 'target one region per fault');
  }
  return regions[0] ?? ctx.options.region;
}

/** The inject: the template's experiment started, tagged with the fault, and waited for until it runs. */
export async function startExperiment(ctx: AwsFaultContext, f: ResolvedFault, template: string): Promise<Record<string, unknown>> {
  const input = `fault ${f.id}`;
  const region = fisRegion(ctx, f);
  const { fis } = ctx.clientsFor(region);
  log.info({ fault: f.id, template, region }, 'starting FIS experiment');
  const r = await call('FIS StartExperiment', `template ${template} in ${regionName(region)}`, input, (sdk) =>
    fis.send(new sdk.fis.StartExperimentCommand({ experimentTemplateId: template, tags: { [FIS_FAULT_TAG]: f.id, 'gameday:label': f.label.slice(0, 256) } })),
  );
  const id = r.experiment?.id;
  if (!id) throw new GamedayError('FAULT_FIS', `FIS StartExperiment for ${template} returned no experiment id`, input);
  ctx.started.set(f.id, { region, id });
  await waitExperiment(ctx, fis, id, (s) => s === 'running', input, region);
  return { experiment: id, template, region: region ?? null };
}

/** The undo: every experiment of the fault still active (this process's, and any found by its tag) stopped and waited for. */
export async function stopExperiments(ctx: AwsFaultContext, f: ResolvedFault, template: string): Promise<Record<string, unknown>> {
  const input = `fault ${f.id}`;
  const region = fisRegion(ctx, f);
  const { fis } = ctx.clientsFor(region);
  const sdk = await loadSdk();
  const mine = ctx.started.get(f.id);
  const ids = [...new Set([...(mine ? [mine.id] : []), ...(await activeExperiments(fis, template, f, region))])];
  for (const id of ids) {
    log.info({ fault: f.id, experiment: id }, 'stopping FIS experiment');
    try {
      await fis.send(new sdk.fis.StopExperimentCommand({ id }));
    } catch (err) {
      // Already ended: nothing left to stop.
      if ((err as { name?: string }).name !== 'ConflictException' && (err as { name?: string }).name !== 'ResourceNotFoundException') throw awsApiError('FIS StopExperiment', `${id} in ${regionName(region)}`, input, err);
    }
    await waitExperiment(ctx, fis, id, (s) => FIS_ENDED.includes(s), input, region);
  }
  ctx.started.delete(f.id);
  return { stoppedExperiments: ids };
}

async function waitExperiment(ctx: AwsFaultContext, fis: FisClient, id: string, done: (status: string) => boolean, input: string, region: string | undefined): Promise<string> {
  const { clock, options: o } = ctx;
  const deadline = clock.now() + o.fisTimeoutMs;
  let status = 'unknown';
  let reason = '';
  for (;;) {
    const r = await call('FIS GetExperiment', `${id} in ${regionName(region)}`, input, (sdk) => fis.send(new sdk.fis.GetExperimentCommand({ id })));
    status = r.experiment?.state?.status ?? 'unknown';
    reason = r.experiment?.state?.reason ?? '';
    if (done(status)) return status;
    if (FIS_ENDED.includes(status)) {
      throw new GamedayError('FAULT_FIS', `FIS experiment ${id} ended ${status}${reason ? `: ${reason}` : ''}`, input, 'see the experiment in the FIS console (a stop condition alarm, the role\'s permissions, no target found)');
    }
    const pause = Math.min(o.pollIntervalMs, deadline - clock.now());
    if (pause <= 0) break;
    await clock.sleep(pause);
  }
  throw new GamedayError('FAULT_FIS', `FIS experiment ${id} still ${status} after ${Math.round(o.fisTimeoutMs / 1000)} s${reason ? `: ${reason}` : ''}`, input, 'see the experiment in the FIS console');
}

/** Experiments of this template still active and tagged with this fault, found by listing (for an abort from another process). */
async function activeExperiments(fis: FisClient, template: string, f: ResolvedFault, region: string | undefined): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('FIS ListExperiments', `template ${template} in ${regionName(region)}`, `fault ${f.id}`, (sdk) => fis.send(new sdk.fis.ListExperimentsCommand({ nextToken, maxResults: 100 })));
    for (const e of page.experiments ?? []) {
      if (e.id && e.experimentTemplateId === template && e.tags?.[FIS_FAULT_TAG] === f.id && FIS_ACTIVE.has(e.state?.status ?? '')) ids.push(e.id);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}
