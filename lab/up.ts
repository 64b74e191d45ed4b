import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { execa } from '../drivers/exec.js';
import { type Host } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { showServers } from '../drivers/haproxy/runtime.js';
import { sentinelReplicaView } from '../drivers/redis/handoff.js';
import { DEFAULT_SEED, newLab, openLab, type LabContext, type LabPowerKind, type SeedSize } from './context.js';
import { prepareLabSsh } from './sshd.js';
import { DEFAULT_LAB_LAYOUT, DEFAULT_LAB_OCTET, isLabLayout, LAB_LAYOUT_NAMES, labSubnetPrefix, SENTINEL_MASTER_NAME, type LabLayout } from './layout.js';
import { mariadbPaths } from './configs/mariadb.js';
import { haproxyPaths } from './configs/haproxy.js';
import { processSpecsOf } from './processes.js';
import { isRunning, prepareHostDir, startProcess, waitReady, type ProcessSpec } from './supervisor.js';
import { chooseServiceAccounts, type AccountChoice } from './serviceAccounts.js';
import { bootstrapDatabases, confirmRootSecured, writeSecureRootFile } from './bootstrap.js';
import { seedRedisFromDatabase } from './seedRedis.js';
import { claimLabNetwork, ensureLabNetwork, netnsPath } from './network.js';
import { dropTable } from './nft.js';
import { attachDisk, limitDisks } from './disk.js';
import { DEFAULT_DISK_MODEL, DISK_MODELS, type DiskModel } from './diskModels.js';
import { assertSentinelScope } from './sentinelScope.js';
import { withLabLock } from './labLock.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LabUpOptions {
  dir: string;
  octet?: number;
  seed?: SeedSize;
  /** Where the hosts stand (default spread); an existing lab keeps its own and refuses another. */
  layout?: LabLayout;
  /** false: boot without the guards a fleet gets (lab up --no-guards), to measure what an unguarded fleet suffers. */
  guards?: boolean;
  /** The db hosts' disk model (lab/disk.ts; default DEFAULT_DISK_MODEL); an existing lab keeps its own. */
  disk?: DiskModel;
  /** How gameday powers the hosts (default lab; ssh: an sshd on every host, lab/sshd.ts); an existing lab keeps its own. */
  power?: LabPowerKind;
}

/** One step of bringing the lab up, so the CLI can show progress and tests can run it plainly. */
export interface LabPhase {
  title: string;
  run: () => Promise<string | void>;
}

const REQUIRED_TOOLS = ['mariadbd', 'mariadb-install-db', 'redis-server', 'haproxy'];

async function checkTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of REQUIRED_TOOLS) {
    try {
      await execa('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(tool);
    }
  }
  if (missing.length > 0) {
    throw new GamedayError('LAB_TOOLS_MISSING', `the lab needs ${missing.join(', ')}, not found on PATH`, 'PATH', 'run "npm start" (it installs them) or: apt-get install mariadb-server redis-server haproxy nftables');
  }
}

/** Opens the lab in `dir` or prepares a new one; refuses options that contradict an existing lab. */
function prepareLab(opts: LabUpOptions): LabContext {
  if (opts.layout !== undefined && !isLabLayout(opts.layout)) {
    throw new GamedayError('BAD_FLAG', `unknown layout "${String(opts.layout)}"; valid layouts: ${LAB_LAYOUT_NAMES.join(', ')}`, '--layout', `e.g. --layout ${LAB_LAYOUT_NAMES[1]}`);
  }
  const existing = openLab(opts.dir);
  if (!existing) return newLab(opts.dir, opts.octet ?? DEFAULT_LAB_OCTET, opts.seed ?? DEFAULT_SEED, opts.layout ?? DEFAULT_LAB_LAYOUT, { guards: opts.guards ?? true, disk: opts.disk ?? DEFAULT_DISK_MODEL, power: opts.power ?? 'lab' });
  if (opts.power !== undefined && opts.power !== existing.state.power) {
    throw new GamedayError('LAB_EXISTS', `the lab here was brought up with --power ${existing.state.power}, not ${opts.power}; a lab keeps its power for its life`, opts.dir, `run "gameday lab down" first, then "gameday lab up --power ${opts.power}", or use another --dir and --octet`);
  }
  if (opts.disk !== undefined && opts.disk !== existing.state.disk) {
    throw new GamedayError('LAB_EXISTS', `the lab here was brought up with disk model ${existing.state.disk}, not ${opts.disk}; a lab keeps its disks`, opts.dir, `run "gameday lab down" first, then "gameday lab up --disk ${opts.disk}", or use another --dir and --octet`);
  }
  if (opts.guards === false && existing.state.guards) {
    throw new GamedayError('LAB_EXISTS', 'the lab here was brought up with its boot guards; a lab keeps them for its life', opts.dir, 'run "gameday lab down" first, then "gameday lab up --no-guards", or use another --dir and --octet');
  }
  if (opts.layout !== undefined && opts.layout !== existing.state.layout) {
    throw new GamedayError(
      'LAB_EXISTS',
      `the lab here was brought up with layout ${existing.state.layout}, not ${opts.layout}; a lab's hosts cannot move`,
      opts.dir,
      `run "gameday lab down" first, then "gameday lab up --layout ${opts.layout}", or use another --dir and --octet`,
    );
  }
  if (opts.octet !== undefined && opts.octet !== existing.state.octet) {
    throw new GamedayError('LAB_EXISTS', `a lab with addresses ${labSubnetPrefix(existing.state.octet)}.x already lives here`, opts.dir, 'run "gameday lab down" first, or use another --dir');
  }
  const s = existing.state.seed;
  if (opts.seed && (opts.seed.users !== s.users || opts.seed.notificationsPerUser !== s.notificationsPerUser || opts.seed.readPercent !== s.readPercent)) {
    throw new GamedayError('LAB_EXISTS', `the lab here is already seeded with ${s.users} users x ${s.notificationsPerUser} notifications`, opts.dir, 'run "gameday lab down" first to seed another size');
  }
  return existing;
}

/** "services run as mysql, redis, haproxy", and why any runs as root. */
function describeAccounts(choice: AccountChoice): string {
  const names = Object.values(choice.accounts).map((a) => a.name);
  return [names.length ? `services run as ${names.join(', ')}` : '', ...choice.warnings].filter(Boolean).join('; ');
}

/** Starts every process of these hosts that is not running, and waits until each serves. */
export async function startHosts(lab: LabContext, hosts: Host[]): Promise<string[]> {
  const specs = hosts.flatMap((h) => processSpecsOf(lab, h)).filter((s) => !isRunning(lab, s.id));
  // After a machine restart the lab's folder is there and its namespaces are not.
  if (hosts.some((h) => !existsSync(netnsPath(lab.network.netns(h.name))))) await ensureLabNetwork(lab.state.octet, lab.inventory, lab.state.poweredOff);
  return startSpecs(lab, specs);
}

/** Starts these processes side by side and waits until each serves. */
export async function startSpecs(lab: LabContext, specs: ProcessSpec[]): Promise<string[]> {
  // Every start settles before a failure surfaces: a process still starting would otherwise be left unrecorded, and outlive "lab down".
  const results = await Promise.allSettled(specs.map(async (spec) => startAndWait(lab, spec)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return specs.map((s) => s.id);
}

async function startAndWait(lab: LabContext, spec: ProcessSpec): Promise<void> {
  let freshDatadir = false;
  if (spec.id.endsWith('/mariadbd')) {
    const { datadir, tmpdir } = mariadbPaths(lab, lab.host(spec.host));
    prepareHostDir(lab, spec.host, undefined);
    // The host's own disk (the disk model), mounted before the datadir is looked for; its mariadbd joins the disk's cgroup.
    const cgroup = await attachDisk(lab, lab.host(spec.host));
    if (cgroup) spec = { ...spec, cgroup };
    mkdirSync(tmpdir, { recursive: true });
    prepareHostDir(lab, spec.host, spec.runAs);
    if (!existsSync(datadir)) {
      freshDatadir = true;
      // Its own TMPDIR: parallel installs otherwise collide on temporary table names in /tmp.
      await execa('mariadb-install-db', ['--no-defaults', '--auth-root-authentication-method=normal', '--skip-test-db', `--datadir=${datadir}`, `--user=${spec.runAs?.name ?? 'root'}`], {
        env: { TMPDIR: mariadbPaths(lab, lab.host(spec.host)).tmpdir },
      });
      writeSecureRootFile(lab, lab.host(spec.host)); // the config's init-file: root is secured before the first connection
    }
  }
  await startProcess(lab, spec);
  await waitReady(lab, spec);
  if (freshDatadir) await confirmRootSecured(lab, lab.host(spec.host));
}

/** Waits until both proxies see what a healthy lab has: 1 writer, 2 readers, 3 app instances UP. */
export async function waitForPools(lab: LabContext, timeoutMs = 30_000): Promise<void> {
  const expected: Record<string, number> = { db_write: 1, db_read: lab.hostsOf('db').length - 1, web: lab.hostsOf('app').length };
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const views = await Promise.all(lab.hostsOf('proxy').map((p) => showServers(haproxyPaths(lab, p).socket).catch(() => [])));
    const short = views.flatMap((servers, i) =>
      Object.entries(expected)
        .map(([backend, want]) => ({ backend, want, up: servers.filter((s) => s.backend === backend && s.status === 'UP').length }))
        .filter((x) => x.up < x.want)
        .map((x) => `${lab.hostsOf('proxy')[i].name}/${x.backend}: ${x.up} of ${x.want} UP`),
    );
    if (short.length === 0) return;
    last = short.join(', ');
    await sleep(250);
  }
  throw new GamedayError('LAB_POOLS_UNHEALTHY', `HAProxy pools did not become healthy in ${timeoutMs / 1000} s: ${last}`, lab.dir, 'see "gameday lab status" and the logs under the lab folder');
}

/**
 * Waits until every live Sentinel sees every Redis replica linked to its primary: a fresh replica's full sync
 * starts after the primary's 5 s diskless-sync delay, and a Sentinel refreshes what a replica reports only
 * every 10 s. Until then a hand-off (SENTINEL FAILOVER) is refused with NOGOODSLAVE.
 */
export async function waitForRedisReplicas(lab: LabContext, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const live = (tier: string) => lab.hostsOf(tier).filter((h) => !lab.state.poweredOff.includes(h.name));
  const replicasWanted = live('redis').length - 1;
  let last = '';
  while (Date.now() < deadline) {
    const views = await Promise.all(live('sentinel').map(async (s) => {
      const linked = (await sentinelReplicaView(lab.redisEndpoint(s), SENTINEL_MASTER_NAME)).filter((r) => r.linked).length;
      return { sentinel: s.name, linked };
    }));
    const short = views.filter((v) => v.linked < replicasWanted);
    if (short.length === 0) return;
    last = short.map((v) => `${v.sentinel} sees ${v.linked} of ${replicasWanted} replicas linked`).join(', ');
    await sleep(250);
  }
  throw new GamedayError('LAB_POOLS_UNHEALTHY', `the Sentinels do not see every Redis replica linked to its primary after ${timeoutMs / 1000} s: ${last}`, lab.dir, 'see "gameday lab status" and the Redis logs under the lab folder');
}

/** The phases of `lab up`: idempotent, each starts only what is missing. */
export function labUpPhases(opts: LabUpOptions): { phases: LabPhase[]; lab: () => LabContext } {
  let lab: LabContext | undefined;
  const the = () => lab!;
  const phases: LabPhase[] = [
    {
      title: 'Check tools, lab folder and power',
      run: async () => {
        await checkTools();
        const isNew = openLab(opts.dir) === undefined;
        lab = prepareLab(opts);
        const accounts = isNew ? chooseServiceAccounts(opts.dir) : undefined;
        if (accounts) lab.state.serviceAccounts = accounts.accounts;
        // A new lab's addresses must be nobody else's; a crashed lab's leftovers of this octet are cleared.
        if (isNew) {
          try {
            await claimLabNetwork(lab.state.octet, lab.inventory, opts.dir);
            // A crashed lab's fault rules (its cuts, its delay lines' guards) must not act on the new one.
            await dropTable(lab.nftTable);
            await dropTable(lab.nftTable, 'netdev');
          } catch (err) {
            rmSync(opts.dir, { recursive: true, force: true }); // a refused new lab leaves no folder
            throw err;
          }
        }
        // `lab up` brings back hosts left powered off, too.
        const back = lab.state.poweredOff.join(', ');
        lab.state.poweredOff = [];
        await ensureLabNetwork(lab.state.octet, lab.inventory, []);
        lab.save();
        if (lab.state.power === 'ssh') await prepareLabSsh(lab);
        if (back) return `powered on ${back}`;
        if (accounts) return describeAccounts(accounts);
      },
    },
    {
      title: 'Start MariaDB (primary and two replicas)',
      run: async () => {
        const started = await startHosts(the(), the().hostsOf('db'));
        return started.length ? `started ${started.length} processes` : 'already running';
      },
    },
    {
      title: 'Set up GTID replication and seed the notification data',
      run: async () => {
        if (the().state.seeded) return 'already seeded';
        await bootstrapDatabases(the());
        const s = the().state.seed;
        return `${s.users} users x ${s.notificationsPerUser} notifications, ${s.readPercent}% read`;
      },
    },
    {
      title: 'Start Redis (primary, replica) and three Sentinels',
      run: async () => {
        const redis = await startHosts(the(), the().hostsOf('redis'));
        const sentinels = await startHosts(the(), the().hostsOf('sentinel'));
        await assertSentinelScope(the());
        return `started ${redis.length + sentinels.length} processes`;
      },
    },
    {
      title: 'Fill Redis from MariaDB',
      run: async () => {
        if (the().state.seeded) {
          await limitDisks(the()); // a lab up stopped between the fill and the limit left its disks unlimited
          return 'already filled';
        }
        const n = await seedRedisFromDatabase(the());
        the().state.seeded = true;
        the().save();
        await limitDisks(the());
        const iops = DISK_MODELS[the().state.disk].readIops;
        return `${n} notifications${iops ? `; the db hosts' disks now serve ${iops} reads/s (--disk ${the().state.disk})` : ''}`;
      },
    },
    {
      title: 'Start HAProxy on two proxies and three app instances',
      run: async () => {
        const started = await startHosts(the(), [...the().hostsOf('proxy'), ...the().hostsOf('app')]);
        return `started ${started.length} processes`;
      },
    },
    {
      title: 'Wait until HAProxy sees every pool healthy and the Redis replicas are in sync',
      run: async () => {
        await waitForPools(the());
        await waitForRedisReplicas(the());
      },
    },
  ];
  return { phases, lab: the };
}

/** Brings the lab up without progress display (tests, scripts). */
export async function labUp(opts: LabUpOptions): Promise<LabContext> {
  return withLabLock(opts.dir, 'lab up', async () => {
    const { phases, lab } = labUpPhases(opts);
    for (const phase of phases) await phase.run();
    return lab();
  });
}
