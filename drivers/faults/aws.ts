import type { EC2Client } from '@aws-sdk/client-ec2';
import type { FisClient } from '@aws-sdk/client-fis';
import { z } from 'zod';
import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { log as rootLog } from '../../core/log.js';
import { instanceIdOf, regionOfZone, type AwsClientConfig } from '../power/aws.js';
import { awsApiError } from '../power/awsErrors.js';
import { systemClock, type Clock } from '../power/clock.js';
import { assertSupported, hostLookup, settleAll, valuesOrThrow, type CheckedFaultDriver } from './common.js';
import type { ResolvedFault } from './types.js';

/**
 * Faults on EC2: a power loss is StopInstances with Force (no clean OS
 * shutdown, no flush of file system caches: what a power cut does), per
 * region, for every host of the fault; its undo is StartInstances, then a
 * wait until every instance runs. An instance still `stopping` is waited
 * for before it is started, and one already running is left alone, so the
 * undo can run again.
 *
 * With `fisTemplates` (fault label → FIS experiment template id, e.g. the
 * stack's zoneExperiments and rackExperiments outputs), a power-off whose
 * label is mapped starts that experiment instead (tagged with the fault id;
 * the template picks its own targets, ElastiCache nodes included); its undo
 * stops every experiment of that template still running with that tag (FIS
 * then starts the instances again).
 *
 * Nothing else: an ElastiCache node or a managed database has no process to
 * kill and no shell to partition, so kill-process, stop-replication,
 * partition and redis-data-loss are unsupported here.
 */

const log = rootLog.child({ driver: 'faults.aws' });

export const awsFaultOptionsSchema = z
  .object({
    /** Region for hosts whose zone is not an AWS zone name (else the SDK's: AWS_REGION, the profile). */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region, e.g. "eu-west-1"')
      .optional(),
    /** Fault label ("zone eu-west-1a", "rack web-pg-1") → FIS experiment template id (EXT…). */
    fisTemplates: z.record(z.string().min(1), z.string().regex(/^EXT[A-Za-z0-9]{1,64}$/, 'must be a FIS experiment template id, e.g. EXTabc123')).default({}),
    /** Pause between two Describe/Get calls while waiting. */
    pollIntervalMs: z.number().int().min(1).default(5_000),
    /** How long the undo waits for the instances to run again. */
    startTimeoutMs: z.number().int().min(1).default(600_000),
    /** How long a FIS experiment may take to reach running (inject) or stopped (undo). */
    fisTimeoutMs: z.number().int().min(1).default(180_000),
  })
  .strict();

export type AwsFaultOptionsInput = z.input<typeof awsFaultOptionsSchema>;
export type AwsFaultOptions = z.output<typeof awsFaultOptionsSchema>;

export interface AwsFaultDeps {
  clock?: Clock;
  clientConfig?: AwsClientConfig;
}

/** The tag that ties a FIS experiment to the game-day fault that started it. */
export const FIS_FAULT_TAG = 'gameday:fault';

const SUPPORTS = ['power-off'] as const;
const FIS_ACTIVE = new Set(['pending', 'initiating', 'running']);

const describeAnswer = z.object({
  Reservations: z
    .array(z.object({ Instances: z.array(z.object({ InstanceId: z.string().optional(), State: z.object({ Name: z.string().optional() }).optional() })).optional() }))
    .optional(),
});

interface Clients {
  ec2: EC2Client;
  fis: FisClient;
}

/** Faults on the EC2 instances among the hosts of `inventory`. */
type FaultSdk = { ec2: typeof import('@aws-sdk/client-ec2'); fis: typeof import('@aws-sdk/client-fis') };
let sdk: FaultSdk | undefined;
/** The SDK loads when a fault acts, not when the CLI starts (EC2's client alone costs about half a second). */
async function loadSdk(): Promise<void> {
  if (sdk) return;
  const [ec2, fis] = await Promise.all([import('@aws-sdk/client-ec2'), import('@aws-sdk/client-fis')]);
  sdk = { ec2, fis };
}

export function awsFaultDriver(inventory: Inventory, options: AwsFaultOptionsInput = {}, deps: AwsFaultDeps = {}): CheckedFaultDriver {
  const parsed = awsFaultOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new GamedayError('FAULT_OPTIONS', z.prettifyError(parsed.error), 'aws fault options', 'see AwsFaultOptions in drivers/faults/aws.ts (GAMEDAY_AWS_REGION, GAMEDAY_FIS_TEMPLATES)');
  }
  const o = parsed.data;
  const clock = deps.clock ?? systemClock;
  const clientConfig = deps.clientConfig ?? {};
  const hostOf = hostLookup(inventory);
  const clients = new Map<string, Clients>();
  /** Experiments this process started, by fault id (an abort from another process finds them by tag). */
  const started = new Map<string, { region: string | undefined; id: string }>();

  const regionFor = (h: Host): string | undefined => regionOfZone(h.zone) ?? o.region;
  const regionName = (r: string | undefined) => r ?? 'the default region';

  function clientsFor(region: string | undefined): Clients {
    if (!sdk) throw new Error('bug: an AWS client was asked for before the SDK was loaded (loadSdk)');
    const key = region ?? '(sdk default)';
    let c = clients.get(key);
    if (!c) {
      const config = { ...clientConfig, ...(region ? { region } : {}) };
      c = { ec2: new sdk.ec2.EC2Client(config), fis: new sdk.fis.FisClient(config) };
      clients.set(key, c);
    }
    return c;
  }

  async function call<T>(what: string, subject: string, input: string, fn: () => Promise<T>): Promise<T> {
    await loadSdk();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof GamedayError) throw err;
      throw awsApiError(what, subject, input, err);
    }
  }

  const templateOf = (f: ResolvedFault): string | undefined => (Object.hasOwn(o.fisTemplates, f.label) ? o.fisTemplates[f.label] : undefined);

  /** The instance ids of a fault's hosts, by region; a host without one is a GamedayError naming it. */
  function instancesByRegion(f: ResolvedFault): Map<string | undefined, { ids: string[]; hosts: string[] }> {
    const out = new Map<string | undefined, { ids: string[]; hosts: string[] }>();
    for (const name of f.hosts) {
      const h = hostOf(name, f);
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
      const region = regionFor(h);
      const entry = out.get(region) ?? { ids: [], hosts: [] };
      entry.ids.push(id);
      entry.hosts.push(h.name);
      out.set(region, entry);
    }
    return out;
  }

  /** The one region of a FIS fault: its hosts' (all the same), else the region option. */
  function fisRegion(f: ResolvedFault): string | undefined {
    const regions = [...new Set(f.hosts.map((n) => regionFor(hostOf(n, f))))].filter((r): r is string => r !== undefined);
    if (regions.length > 1) {
      throw new GamedayError('FAULT_FIS_REGIONS', `the hosts of ${f.label} are in ${regions.join(' and ')}: one FIS experiment runs in one region`, `fault ${f.id}`, 'target one region per fault');
    }
    return regions[0] ?? o.region;
  }

  function checkOne(f: ResolvedFault): void {
    assertSupported(driver, f);
    if (templateOf(f)) fisRegion(f);
    else instancesByRegion(f);
  }

  async function states(region: string | undefined, ids: string[], input: string): Promise<Map<string, string>> {
    const raw = await call('EC2 DescribeInstances', `${ids.join(', ')} in ${regionName(region)}`, input, () => clientsFor(region).ec2.send(new sdk!.ec2.DescribeInstancesCommand({ InstanceIds: ids })));
    const r = describeAnswer.safeParse(raw);
    if (!r.success) throw new GamedayError('FAULT_AWS_ANSWER', `EC2 DescribeInstances answered in an unexpected shape: ${z.prettifyError(r.error)}`, input, 'an SDK or API change: report it');
    const out = new Map<string, string>();
    for (const i of r.data.Reservations?.flatMap((x) => x.Instances ?? []) ?? []) if (i.InstanceId) out.set(i.InstanceId, i.State?.Name ?? 'unknown');
    return out;
  }

  /** Starts every instance that is stopped, waits for those stopping, until all run. */
  async function startAndWait(region: string | undefined, ids: string[], input: string): Promise<void> {
    const deadline = clock.now() + o.startTimeoutMs;
    let last = '';
    for (;;) {
      const st = await states(region, ids, input);
      const missing = ids.filter((id) => !st.has(id));
      if (missing.length) throw new GamedayError('FAULT_INSTANCE_GONE', `EC2 does not know ${missing.join(', ')} in ${regionName(region)}`, input, 'the instance may have been terminated and replaced (Auto Scaling): start its replacement by hand');
      const gone = ids.filter((id) => ['terminated', 'shutting-down'].includes(st.get(id)!));
      if (gone.length) throw new GamedayError('FAULT_INSTANCE_GONE', `${gone.join(', ')} ${gone.length > 1 ? 'are' : 'is'} terminated: it cannot be started again`, input, 'Auto Scaling replaces a stopped member it finds unhealthy: suspend its ReplaceUnhealthy process during game days, or use a FIS template');
      const stopped = ids.filter((id) => st.get(id) === 'stopped');
      if (stopped.length) {
        log.info({ region, instances: stopped }, 'starting instances (EC2 StartInstances)');
        await call('EC2 StartInstances', `${stopped.join(', ')} in ${regionName(region)}`, input, () => clientsFor(region).ec2.send(new sdk!.ec2.StartInstancesCommand({ InstanceIds: stopped })));
      }
      if (ids.every((id) => st.get(id) === 'running')) return;
      last = ids.map((id) => `${id} ${st.get(id)}`).join(', ');
      const pause = Math.min(o.pollIntervalMs, deadline - clock.now());
      if (pause <= 0) break;
      await clock.sleep(pause);
    }
    throw new GamedayError('FAULT_NOT_RUNNING', `instances not running within ${Math.round(o.startTimeoutMs / 1000)} s: ${last}`, input, 'look at the EC2 console; once they run, the undo is done (run gameday chaos abort again to check)');
  }

  async function waitExperiment(fis: FisClient, id: string, done: (status: string) => boolean, input: string, region: string | undefined): Promise<string> {
    const deadline = clock.now() + o.fisTimeoutMs;
    let status = 'unknown';
    let reason = '';
    for (;;) {
      const r = await call('FIS GetExperiment', `${id} in ${regionName(region)}`, input, () => fis.send(new sdk!.fis.GetExperimentCommand({ id })));
      status = r.experiment?.state?.status ?? 'unknown';
      reason = r.experiment?.state?.reason ?? '';
      if (done(status)) return status;
      if (['failed', 'stopped', 'completed', 'cancelled'].includes(status)) {
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
      const page = await call('FIS ListExperiments', `template ${template} in ${regionName(region)}`, `fault ${f.id}`, () => fis.send(new sdk!.fis.ListExperimentsCommand({ nextToken, maxResults: 100 })));
      for (const e of page.experiments ?? []) {
        if (e.id && e.experimentTemplateId === template && e.tags?.[FIS_FAULT_TAG] === f.id && FIS_ACTIVE.has(e.state?.status ?? '')) ids.push(e.id);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return ids;
  }

  const driver: CheckedFaultDriver = {
    kind: 'aws',
    supports: SUPPORTS,
    check(faults) {
      for (const f of faults) checkOne(f);
    },
    async inject(f) {
      await loadSdk();
      checkOne(f);
      const input = `fault ${f.id}`;
      const template = templateOf(f);
      if (template) {
        const region = fisRegion(f);
        const { fis } = clientsFor(region);
        log.info({ fault: f.id, template, region }, 'starting FIS experiment');
        const r = await call('FIS StartExperiment', `template ${template} in ${regionName(region)}`, input, () =>
          fis.send(new sdk!.fis.StartExperimentCommand({ experimentTemplateId: template, tags: { [FIS_FAULT_TAG]: f.id, 'gameday:label': f.label.slice(0, 256) } })),
        );
        const id = r.experiment?.id;
        if (!id) throw new GamedayError('FAULT_FIS', `FIS StartExperiment for ${template} returned no experiment id`, input);
        started.set(f.id, { region, id });
        await waitExperiment(fis, id, (s) => s === 'running', input, region);
        return { experiment: id, template, region: region ?? null };
      }
      const byRegion = [...instancesByRegion(f)];
      const settled = await settleAll(byRegion, byRegion.length, async ([region, { ids }]) => {
        log.info({ fault: f.id, region, instances: ids }, 'cutting power (EC2 StopInstances, Force)');
        await call('EC2 StopInstances', `${ids.join(', ')} in ${regionName(region)}`, input, () => clientsFor(region).ec2.send(new sdk!.ec2.StopInstancesCommand({ InstanceIds: ids, Force: true })));
      });
      valuesOrThrow(`power-off ${f.label}`, byRegion.map(([r]) => regionName(r)), settled, input);
      return { stopped: Object.fromEntries(byRegion.map(([r, { ids }]) => [r ?? 'default', ids])) };
    },
    async undo(f) {
      await loadSdk();
      assertSupported(driver, f);
      const input = `fault ${f.id}`;
      const template = templateOf(f);
      if (template) {
        const region = fisRegion(f);
        const { fis } = clientsFor(region);
        const mine = started.get(f.id);
        const ids = [...new Set([...(mine ? [mine.id] : []), ...(await activeExperiments(fis, template, f, region))])];
        for (const id of ids) {
          log.info({ fault: f.id, experiment: id }, 'stopping FIS experiment');
          try {
            await fis.send(new sdk!.fis.StopExperimentCommand({ id }));
          } catch (err) {
            // Already ended: nothing left to stop.
            if ((err as { name?: string }).name !== 'ConflictException' && (err as { name?: string }).name !== 'ResourceNotFoundException') throw awsApiError('FIS StopExperiment', `${id} in ${regionName(region)}`, input, err);
          }
          await waitExperiment(fis, id, (s) => ['stopped', 'completed', 'failed', 'cancelled'].includes(s), input, region);
        }
        started.delete(f.id);
        return { stoppedExperiments: ids };
      }
      const byRegion = [...instancesByRegion(f)];
      const settled = await settleAll(byRegion, byRegion.length, ([region, { ids }]) => startAndWait(region, ids, input));
      valuesOrThrow(`undo of power-off ${f.label}`, byRegion.map(([r]) => regionName(r)), settled, input);
      return { started: Object.fromEntries(byRegion.map(([r, { ids }]) => [r ?? 'default', ids])) };
    },
  };
  return driver;
}
