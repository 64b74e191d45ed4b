import { z } from 'zod';
import { GamedayError } from '../../../core/errors.js';
import { instanceIdOf } from '../../power/aws.js';
import { settleAll, valuesOrThrow } from '../common.js';
import type { ResolvedFault } from '../types.js';
import { log, regionName, type AwsFaultContext } from './context.js';
import { call } from './sdk.js';

/**
 * A power loss on EC2 instances: StopInstances with Force (no clean OS
 * shutdown, no flush of file system caches: what a power cut does), per
 * region; its undo is StartInstances, then a wait until every instance
 * runs. An instance still `stopping` is waited for before it is started,
 * and one already running is left alone, so the undo can run again.
 */

const describeAnswer = z.object({
  Reservations: z
    .array(z.object({ Instances: z.array(z.object({ InstanceId: z.string().optional(), State: z.object({ Name: z.string().optional() }).optional() })).optional() }))
    .optional(),
});

/** The instance ids of a fault's hosts, by region; a host without one is a GamedayError naming it. */
export function instancesByRegion(ctx: AwsFaultContext, f: ResolvedFault): Map<string | undefined, { ids: string[]; hosts: string[] }> {
  const out = new Map<string | undefined, { ids: string[]; hosts: string[] }>();
  for (const name of f.hosts) {
    const h = ctx.hostOf(name, f);
    let id: string;
    try {
      id = instanceIdOf(h);
    } catch (err) {
      if (!(err instanceof GamedayError)) throw err;
      throw new GamedayError(
        'FAULT_NO_INSTANCE',
        `${h.name} cannot lose power on aws: ${err.message}${h.id ? ` (it is "${h.id}")` : ''}`,
        `host ${h.name}: id`,
        `only EC2 instances can be stopped; for an Auto Scaling member or an ElastiCache node, map the fault's label "${f.label}" to a FIS experiment template (fisTemplates, GAMEDAY_FIS_TEMPLATES), or leave the host out of the target`,
      );
    }
    const region = ctx.regionFor(h);
    const entry = out.get(region) ?? { ids: [], hosts: [] };
    entry.ids.push(id);
    entry.hosts.push(h.name);
    out.set(region, entry);
  }
  return out;
}

/** The inject: every instance of the fault stopped with Force, all regions at once. */
export async function stopInstances(ctx: AwsFaultContext, f: ResolvedFault): Promise<Record<string, unknown>> {
  const input = `fault ${f.id}`;
  const byRegion = [...instancesByRegion(ctx, f)];
  const settled = await settleAll(byRegion, byRegion.length, async ([region, { ids }]) => {
    log.info({ fault: f.id, region, instances: ids }, 'cutting power (EC2 StopInstances, Force)');
    await call('EC2 StopInstances', `${ids.join(', ')} in ${regionName(region)}`, input, (sdk) => ctx.clientsFor(region).ec2.send(new sdk.ec2.StopInstancesCommand({ InstanceIds: ids, Force: true })));
  });
  valuesOrThrow(`power-off ${f.label}`, byRegion.map(([r]) => regionName(r)), settled, input);
  return { stopped: Object.fromEntries(byRegion.map(([r, { ids }]) => [r ?? 'default', ids])) };
}

/** The undo: every instance of the fault started again and waited for, all regions at once. */
export async function startInstances(ctx: AwsFaultContext, f: ResolvedFault): Promise<Record<string, unknown>> {
  const input = `fault ${f.id}`;
  const byRegion = [...instancesByRegion(ctx, f)];
  const settled = await settleAll(byRegion, byRegion.length, ([region, { ids }]) => startAndWait(ctx, region, ids, input));
  valuesOrThrow(`undo of power-off ${f.label}`, byRegion.map(([r]) => regionName(r)), settled, input);
  return { started: Object.fromEntries(byRegion.map(([r, { ids }]) => [r ?? 'default', ids])) };
}

async function states(ctx: AwsFaultContext, region: string | undefined, ids: string[], input: string): Promise<Map<string, string>> {
  const raw = await call('EC2 DescribeInstances', `${ids.join(', ')} in ${regionName(region)}`, input, (sdk) => ctx.clientsFor(region).ec2.send(new sdk.ec2.DescribeInstancesCommand({ InstanceIds: ids })));
  const r = describeAnswer.safeParse(raw);
  if (!r.success) throw new GamedayError('FAULT_AWS_ANSWER', `EC2 DescribeInstances answered in an unexpected shape: ${z.prettifyError(r.error)}`, input, 'an SDK or API change: report it');
  const out = new Map<string, string>();
  for (const i of r.data.Reservations?.flatMap((x) => x.Instances ?? []) ?? []) if (i.InstanceId) out.set(i.InstanceId, i.State?.Name ?? 'unknown');
  return out;
}

/** Starts every instance that is stopped, waits for those stopping, until all run. */
async function startAndWait(ctx: AwsFaultContext, region: string | undefined, ids: string[], input: string): Promise<void> {
  const { clock, options: o } = ctx;
  const deadline = clock.now() + o.startTimeoutMs;
  let last = '';
  for (;;) {
    const st = await states(ctx, region, ids, input);
    const missing = ids.filter((id) => !st.has(id));
    if (missing.length) throw new GamedayError('FAULT_INSTANCE_GONE', `EC2 does not know ${missing.join(', ')} in ${regionName(region)}`, input, 'the instance may have been terminated and replaced (Auto Scaling): start its replacement by hand');
    const gone = ids.filter((id) => ['terminated', 'shutting-down'].includes(st.get(id)!));
    if (gone.length) throw new GamedayError('FAULT_INSTANCE_GONE', `${gone.join(', ')} ${gone.length > 1 ? 'are' : 'is'} terminated: it cannot be started again`, input, 'Auto Scaling replaces a stopped member it finds unhealthy: suspend its ReplaceUnhealthy process during game days, or use a FIS template');
    const stopped = ids.filter((id) => st.get(id) === 'stopped');
    if (stopped.length) {
      log.info({ region, instances: stopped }, 'starting instances (EC2 StartInstances)');
      await call('EC2 StartInstances', `${stopped.join(', ')} in ${regionName(region)}`, input, (sdk) => ctx.clientsFor(region).ec2.send(new sdk.ec2.StartInstancesCommand({ InstanceIds: stopped })));
    }
    if (ids.every((id) => st.get(id) === 'running')) return;
    last = ids.map((id) => `${id} ${st.get(id)}`).join(', ');
    const pause = Math.min(o.pollIntervalMs, deadline - clock.now());
    if (pause <= 0) break;
    await clock.sleep(pause);
  }
  throw new GamedayError('FAULT_NOT_RUNNING', `instances not running within ${Math.round(o.startTimeoutMs / 1000)} s: ${last}`, input, 'look at the EC2 console; once they run, the undo is done (run gameday chaos abort again to check)');
}
