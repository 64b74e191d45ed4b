import type { Command } from 'commander';
import { Listr } from 'listr2';
import Table from 'cli-table3';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { GamedayError } from '../topology/index.js';
import { defaultLabDir, requireLab, openLab, seedSchema, DEFAULT_SEED, type SeedSize } from '../lab/context.js';
import { labUpPhases, type LabUpOptions } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { labStatus, type LabStatus } from '../lab/status.js';
import { withLabLock } from '../lab/labLock.js';
import { powerOff, powerOn } from '../lab/power.js';
import { loseRedisData } from '../lab/faultDriver.js';
import { cloneReplica } from '../lab/cloneReplica.js';
import { WARM_KEY } from '../drivers/notificationStore.js';
import { DEFAULT_LAB_LAYOUT, DEFAULT_LAB_OCTET, isLabLayout, LAB_LAYOUT_NAMES, LAB_LAYOUTS, labInventory, type LabLayout } from '../lab/layout.js';
import { action } from './run.js';
import { registerDemo } from './demoCommand.js';

function intFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GamedayError('BAD_FLAG', `must be a whole number from ${min} to ${max}, got "${value}"`, flag, `e.g. ${flag} ${min}`);
  }
  return n;
}

export interface LabUpFlags {
  dir?: string;
  octet?: string;
  users?: string;
  perUser?: string;
  readPercent?: string;
  layout?: string;
}

/** The --layout flag's value, checked: one clear error naming the flag and the valid layouts. */
export function layoutFlag(value: string | undefined): LabLayout | undefined {
  if (value === undefined) return undefined;
  if (!isLabLayout(value)) {
    throw new GamedayError('BAD_FLAG', `unknown layout "${value}"; valid layouts: ${LAB_LAYOUT_NAMES.join(', ')}`, '--layout', 'see "gameday lab up --help" for what each layout is');
  }
  return value;
}

function layoutHelp(): string {
  return `\nLayouts (--layout):\n${LAB_LAYOUTS.map((l) => `  ${l.name.padEnd(12)} ${l.description}${l.name === DEFAULT_LAB_LAYOUT ? ' (default)' : ''}`).join('\n')}\n`;
}

export function labUpOptions(flags: LabUpFlags): LabUpOptions {
  const users = intFlag('--users', flags.users, 1, 10_000_000);
  const perUser = intFlag('--per-user', flags.perUser, 1, 10_000);
  const readPercent = intFlag('--read-percent', flags.readPercent, 0, 100);
  const seed: SeedSize | undefined =
    users ?? perUser ?? readPercent
      ? seedSchema.parse({
          users: users ?? DEFAULT_SEED.users,
          notificationsPerUser: perUser ?? DEFAULT_SEED.notificationsPerUser,
          readPercent: readPercent ?? DEFAULT_SEED.readPercent,
        })
      : undefined;
  const layout = layoutFlag(flags.layout);
  return { dir: flags.dir ?? defaultLabDir(), octet: intFlag('--octet', flags.octet, 1, 254), seed, ...(layout ? { layout } : {}) };
}

/** Brings the lab up with a step list on the terminal; returns the wall time in ms. */
export async function runLabUp(opts: LabUpOptions): Promise<number> {
  const started = Date.now();
  const { phases } = labUpPhases(opts);
  const tasks = new Listr(
    phases.map((p) => ({
      title: p.title,
      task: async (_: unknown, task: { output: string; title: string }) => {
        const t0 = Date.now();
        const detail = await p.run();
        task.title = `${p.title}${detail ? `: ${detail}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
      },
    })),
    { exitOnError: true, renderer: process.stderr.isTTY ? 'default' : 'simple', rendererOptions: {} },
  );
  try {
    await withLabLock(opts.dir, 'lab up', () => tasks.run());
  } catch (err) {
    throw err instanceof GamedayError ? err : new GamedayError('LAB_UP_FAILED', (err as Error).message, opts.dir, 'see the logs under the lab folder; "gameday lab down" cleans up');
  }
  return Date.now() - started;
}

export function renderStatus(s: LabStatus): string {
  const table = new Table({ head: ['host', 'tier', 'zone/rack', 'address', 'state', 'role now'], style: { head: [], border: [] } });
  for (const h of s.hosts) {
    const live = s.live.hosts[h.name];
    table.push([h.name, h.tier, `${h.zone}/${h.rack}`, h.address, live.state, live.role ?? '']);
  }
  const description = LAB_LAYOUTS.find((l) => l.name === s.live.layout)?.description;
  const lines = [`Layout: ${s.live.layout}${description ? ` (${description})` : ''}`, table.toString()];
  const views = Object.entries(s.live.sentinel).map(([k, v]) => `${k}: ${v ?? 'unknown'}`);
  lines.push(`Sentinel's Redis primary: ${views.join(', ') || 'no Sentinel answers'}`);
  for (const [proxy, servers] of Object.entries(s.live.haproxy)) {
    const byBackend = new Map<string, string[]>();
    for (const sv of servers) byBackend.set(sv.backend, [...(byBackend.get(sv.backend) ?? []), `${sv.server} ${sv.status} w${sv.weight}`]);
    lines.push(`${proxy}: ${[...byBackend].map(([b, list]) => `${b} [${list.join(', ')}]`).join('  ')}`);
  }
  const apps = Object.entries(s.live.hosts).filter(([, h]) => h.redisWrites).map(([name, h]) => {
    const w = h.redisWrites!;
    return `${name} ${w.applied + w.retried} applied (${w.retried} after a retry), ${w.repaired} repaired later, ${w.pending} pending`;
  });
  if (apps.length) lines.push(`App writes to Redis: ${apps.join('; ')}`);
  return lines.join('\n');
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('The embedded lab: real MariaDB, Redis, Sentinel, HAProxy and the reference app on loopback addresses');
  const dirOption = ['--dir <path>', 'lab folder (default: .gameday/lab, or $GAMEDAY_LAB_DIR)'] as const;

  lab
    .command('up')
    .description('Start the lab (idempotent: starts only what is missing, powers on hosts left off)')
    .option(...dirOption)
    .option('--octet <n>', 'second octet of the lab addresses 127.<n>.x.y (default 20)')
    .option('--users <n>', `users to seed (default ${DEFAULT_SEED.users})`)
    .option('--per-user <n>', `notifications per user (default ${DEFAULT_SEED.notificationsPerUser})`)
    .option('--read-percent <n>', `share of notifications already read (default ${DEFAULT_SEED.readPercent})`)
    .option('--layout <name>', `where the hosts stand: ${LAB_LAYOUT_NAMES.join(' or ')} (default ${DEFAULT_LAB_LAYOUT}; fixed for the lab's life)`)
    .addHelpText('after', layoutHelp())
    .action(
      action(async (flags: LabUpFlags) => {
        const ms = await runLabUp(labUpOptions(flags));
        process.stdout.write(`lab up in ${(ms / 1000).toFixed(1)} s\n`);
      }),
    );

  lab
    .command('status')
    .description('Each host\'s state and role now, Sentinel\'s primary and HAProxy\'s view of every pool server')
    .option(...dirOption)
    .option('--json', 'the inventory plus live state, as JSON')
    .action(
      action(async (flags: { dir?: string; json?: boolean }) => {
        const status = await labStatus(requireLab(flags.dir ?? defaultLabDir()));
        process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status)}\n`);
      }),
    );

  lab
    .command('inventory')
    .description("The lab's inventory as an inventory file (for \"gameday placement check <file>\" and runbooks' --inventory)")
    .option(...dirOption)
    .option('--layout <name>', `a layout's inventory without a lab: ${LAB_LAYOUT_NAMES.join(' or ')} (addresses of --octet, default ${DEFAULT_LAB_OCTET})`)
    .option('--octet <n>', 'with --layout: second octet of the addresses')
    .option('--out <file>', 'write it here instead of stdout')
    .addHelpText('after', layoutHelp())
    .action(
      action(async (flags: { dir?: string; layout?: string; octet?: string; out?: string }) => {
        const layout = layoutFlag(flags.layout);
        const octet = intFlag('--octet', flags.octet, 1, 254);
        if (octet !== undefined && layout === undefined) {
          throw new GamedayError('USAGE', 'only with --layout (a running lab has its own addresses)', '--octet', 'e.g. gameday lab inventory --layout outage-2017 --octet 30');
        }
        const dir = flags.dir ?? defaultLabDir();
        const found = layout ? undefined : requireLab(dir);
        const inv = found ? found.inventory : labInventory(octet ?? DEFAULT_LAB_OCTET, layout);
        const source = found ? `the lab in ${dir} (layout ${found.layout})` : `layout ${layout}, addresses 127.${octet ?? DEFAULT_LAB_OCTET}.x.y`;
        const text = `# gameday lab inventory: ${source}\n${stringify(inv)}`;
        if (flags.out) {
          writeFileSync(flags.out, text);
          process.stderr.write(`wrote ${flags.out}: ${source}\n`);
        } else process.stdout.write(text);
      }),
    );

  lab
    .command('down')
    .description('Stop every lab process by PID, remove its firewall table and its folder')
    .option(...dirOption)
    .action(
      action(async (flags: { dir?: string }) => {
        const existing = openLab(flags.dir ?? defaultLabDir());
        if (!existing) {
          process.stdout.write('no lab here: nothing to stop\n');
          return;
        }
        const stopped = await labDown(existing);
        process.stdout.write(`lab down: stopped ${stopped.length} processes\n`);
      }),
    );

  for (const [name, fn, verb] of [
    ['power-off', powerOff, 'Cut the power of a host, rack or zone: blackhole its addresses and SIGKILL its processes'],
    ['power-on', powerOn, 'Restore the power of a host, rack or zone: lift the blackhole and start its processes cold'],
  ] as const) {
    lab
      .command(name)
      .description(verb)
      .argument('<target>', 'a host (db-2), a rack (b1 or az-b/b1) or a zone (az-b)')
      .option(...dirOption)
      .action(
        action(async (target: string, flags: { dir?: string }) => {
          const r = await fn(requireLab(flags.dir ?? defaultLabDir()), target);
          const how = name === 'power-on' ? 'restarted' : r.blackholed ? 'blackholed and killed' : 'killed (no nftables: addresses are refused, not hung)';
          process.stdout.write(`${name} ${r.domain.kind} ${r.domain.name}: ${r.domain.hosts.join(', ')} ${how} (${r.processes.length} processes)\n`);
        }),
      );
  }

  lab
    .command('clone-replica')
    .description('Rebuild a db replica as a physical clone of the primary (mariadb-backup --backup, --prepare, --copy-back), replicating from the backup\'s GTID position: the way real fleets build replicas')
    .argument('<host>', 'a db replica, e.g. db-3')
    .option(...dirOption)
    .action(
      action(async (host: string, flags: { dir?: string }) => {
        const r = await cloneReplica(requireLab(flags.dir ?? defaultLabDir()), host);
        process.stdout.write(`clone-replica: ${r.host} is a physical copy of ${r.from} (backup ${(r.backupMs / 1000).toFixed(1)} s, in all ${(r.totalMs / 1000).toFixed(1)} s), replicating from GTID ${r.gtid}\n`);
      }),
    );

  lab
    .command('lose-redis-data')
    .description('Lose the Redis data set, as in 2017: SIGKILL every Redis server, delete its RDB and AOF files, start it empty (rehearse "gameday runbook run recover-redis-data")')
    .option(...dirOption)
    .action(
      action(async (flags: { dir?: string }) => {
        const emptied = await loseRedisData(requireLab(flags.dir ?? defaultLabDir()));
        process.stdout.write(`lose-redis-data: ${emptied.join(', ')} restarted empty (no data, no ${WARM_KEY}): the app reads notifications from MariaDB until "gameday runbook run recover-redis-data" rebuilds them\n`);
      }),
    );

  registerDemo(lab);
}
