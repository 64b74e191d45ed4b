import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { DEFAULT_DISK_MODEL, DISK_MODEL_NAMES } from '../lab/diskModels.js';
import { stringify } from 'yaml';
import { GamedayError } from '../core/errors.js';
import { defaultLabDir, requireLab, openLab, DEFAULT_SEED } from '../lab/context.js';
import { labDown } from '../lab/down.js';
import { labStatus } from '../lab/status.js';
import { powerOff, powerOn, rebootHost } from '../lab/power.js';
import { loseRedisData } from '../lab/faultDriver.js';
import { cloneReplica } from '../lab/cloneReplica.js';
import { WARM_KEY } from '../drivers/notificationStore.js';
import { DEFAULT_LAB_LAYOUT, DEFAULT_LAB_OCTET, LAB_LAYOUT_NAMES, labInventory } from '../lab/layout.js';
import { withOptions } from './options.js';
import { action } from './run.js';
import { registerDemo } from './demoCommand.js';
import { intFlag, labUpOptions, layoutFlag, layoutHelp, diskHelp, renderStatus, runLabUp, type LabUpFlags } from './labUp.js';
import { summaryOf } from './summaries.js';

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description(summaryOf('lab'));
  registerUp(lab);
  registerStatus(lab);
  registerInventory(lab);
  registerDown(lab);
  registerPower(lab);
  registerReboot(lab);
  registerCloneReplica(lab);
  registerLoseRedisData(lab);
  registerDemo(lab);
}

/** A lab subcommand, with the --dir every one of them takes. */
function labCommand(lab: Command, name: string, description: string): Command {
  return withOptions(lab.command(name).description(description), 'dir');
}

function registerUp(lab: Command): void {
  labCommand(lab, 'up', 'Start the lab (idempotent: starts only what is missing, powers on hosts left off)')
    .option('--octet <n>', 'third octet of the lab addresses 198.18.<n>.x (default 20)')
    .option('--users <n>', `users to seed (default ${DEFAULT_SEED.users})`)
    .option('--per-user <n>', `notifications per user (default ${DEFAULT_SEED.notificationsPerUser})`)
    .option('--read-percent <n>', `share of notifications already read (default ${DEFAULT_SEED.readPercent})`)
    .option('--layout <name>', `where the hosts stand: ${LAB_LAYOUT_NAMES.join(' or ')} (default ${DEFAULT_LAB_LAYOUT}; fixed for the lab's life)`)
    .option('--no-guards', 'boot hosts as an unguarded fleet does (the deployed primary\'s my.cnf writable, Redis from its own config, no boot guard), to measure what the guards prevent; fixed for the lab\'s life')
    .option('--disk <model>', `the db hosts' disks: ${DISK_MODEL_NAMES.join(', ')} (default ${DEFAULT_DISK_MODEL}; fixed for the lab's life)`)
    .option('--power <kind>', "how gameday powers the hosts: lab (the lab's own driver) or ssh (an sshd on every host; uptime and reboots over ssh, as on a fleet) (default lab; fixed for the lab's life)")
    .addHelpText('after', layoutHelp() + diskHelp())
    .action(
      action(async (flags: LabUpFlags) => {
        const ms = await runLabUp(labUpOptions(flags));
        process.stdout.write(`lab up in ${(ms / 1000).toFixed(1)} s\n`);
      }),
    );
}

function registerStatus(lab: Command): void {
  withOptions(labCommand(lab, 'status', 'Each host\'s state and role now, Sentinel\'s primary and HAProxy\'s view of every pool server'), 'json').action(
    action(async (flags: { dir?: string; json?: boolean }) => {
      const status = await labStatus(requireLab(flags.dir ?? defaultLabDir()));
      process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status)}\n`);
    }),
  );
}

function registerInventory(lab: Command): void {
  const inventory = labCommand(lab, 'inventory', "The lab's inventory as an inventory file (for \"gameday placement check <file>\" and runbooks' --inventory)")
    .option('--layout <name>', `a layout's inventory without a lab: ${LAB_LAYOUT_NAMES.join(' or ')} (addresses of --octet, default ${DEFAULT_LAB_OCTET})`)
    .option('--octet <n>', 'with --layout: second octet of the addresses');
  withOptions(inventory, 'out')
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
        const source = found ? `the lab in ${dir} (layout ${found.layout})` : `layout ${layout}, addresses 198.18.${octet ?? DEFAULT_LAB_OCTET}.x`;
        const text = `# gameday lab inventory: ${source}\n${stringify(inv)}`;
        if (flags.out) {
          writeFileSync(flags.out, text);
          process.stderr.write(`wrote ${flags.out}: ${source}\n`);
        } else process.stdout.write(text);
      }),
    );
}

function registerDown(lab: Command): void {
  labCommand(lab, 'down', 'Stop every lab process by PID, remove its firewall table and its folder').action(
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
}

function registerPower(lab: Command): void {
  for (const [name, fn, verb] of [
    ['power-off', powerOff, 'Cut the power of a host, rack or zone: freeze its processes, drop its links, SIGKILL the processes'],
    ['power-on', powerOn, 'Restore the power of a host, rack or zone: bring its links up and start its processes cold'],
  ] as const) {
    labCommand(lab, name, verb)
      .argument('<target>', 'a host (db-2), a rack (b1 or az-b/b1) or a zone (az-b)')
      .action(
        action(async (target: string, flags: { dir?: string }) => {
          const r = await fn(requireLab(flags.dir ?? defaultLabDir()), target);
          const how = name === 'power-on' ? 'restarted' : 'cut off and killed';
          process.stdout.write(`${name} ${r.domain.kind} ${r.domain.name}: ${r.domain.hosts.join(', ')} ${how} (${r.processes.length} processes)\n`);
        }),
      );
  }
}

function registerReboot(lab: Command): void {
  labCommand(lab, 'reboot', "A clean reboot of a host: its processes stop as on a shutdown (MariaDB dumps its buffer pool, Redis saves), then boot again. A --power ssh lab's reboot command runs it")
    .argument('<host>', 'a host, e.g. db-2')
    .action(
      action(async (host: string, flags: { dir?: string }) => {
        const started = await rebootHost(requireLab(flags.dir ?? defaultLabDir()), host);
        process.stdout.write(`reboot ${host}: ${started.length} processes started again\n`);
      }),
    );
}

function registerCloneReplica(lab: Command): void {
  labCommand(lab, 'clone-replica', 'Rebuild a db replica as a physical clone of the primary (mariadb-backup --backup, --prepare, --copy-back), replicating from the backup\'s GTID position: the way real fleets build replicas')
    .argument('<host>', 'a db replica, e.g. db-3')
    .action(
      action(async (host: string, flags: { dir?: string }) => {
        const r = await cloneReplica(requireLab(flags.dir ?? defaultLabDir()), host);
        process.stdout.write(`clone-replica: ${r.host} is a physical copy of ${r.from} (backup ${(r.backupMs / 1000).toFixed(1)} s, in all ${(r.totalMs / 1000).toFixed(1)} s), replicating from GTID ${r.gtid}\n`);
      }),
    );
}

function registerLoseRedisData(lab: Command): void {
  labCommand(lab, 'lose-redis-data', 'Lose the Redis data set, as in 2017: SIGKILL every Redis server, delete its RDB and AOF files, start it empty (rehearse "gameday runbook run recover-redis-data")').action(
    action(async (flags: { dir?: string }) => {
      const emptied = await loseRedisData(requireLab(flags.dir ?? defaultLabDir()));
      process.stdout.write(`lose-redis-data: ${emptied.join(', ')} restarted empty (no data, no ${WARM_KEY}): the app reads notifications from MariaDB until "gameday runbook run recover-redis-data" rebuilds them\n`);
    }),
  );
}
