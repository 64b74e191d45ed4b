import { Option, type Command } from 'commander';

/*
 * The flags several commands share, each written once: one spelling, one
 * wording in every --help. A command adds them by key, in the order it lists
 * them (the order of its --help). A table's key is the name commander gives
 * the flag's value (--state-dir -> stateDir), so the keys are also the names
 * a command's flags object has (cli/runbookCommand.ts reserves them against
 * runbook parameters).
 */

export interface OptionSpec {
  /** Commander's flags, e.g. '--state-dir <path>'. */
  flags: string;
  description: string;
  /** How a repeatable option gathers its values. */
  repeatable?: true;
}

/** A repeatable option's values, in the order given. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const SHARED_OPTIONS = {
  // Where a command acts.
  inventory: { flags: '--inventory <file>', description: "inventory YAML file (default: the lab's inventory)" },
  labDir: { flags: '--lab-dir <path>', description: 'lab folder whose inventory and drivers to use (default: .gameday/lab, or $GAMEDAY_LAB_DIR)' },
  dir: { flags: '--dir <path>', description: 'lab folder (default: .gameday/lab, or $GAMEDAY_LAB_DIR)' },
  stateDir: { flags: '--state-dir <path>', description: 'where runs and locks live (default: .gameday, or $GAMEDAY_STATE_DIR)' },
  // What a command prints.
  json: { flags: '--json', description: 'print the result as JSON' },
  out: { flags: '--out <file>', description: 'write it here instead of stdout' },
  // The power drivers of a fleet given with --inventory (docs/reference.md, "Driver options").
  sshUser: { flags: '--ssh-user <user>', description: "ssh power driver: remote user (over the inventory's drivers.ssh and $GAMEDAY_SSH_USER)" },
  sshPort: { flags: '--ssh-port <port>', description: 'ssh power driver: port' },
  sshKey: { flags: '--ssh-key <file>', description: 'ssh power driver: private key (ssh -i)' },
  sshJump: { flags: '--ssh-jump <[user@]host[:port]>', description: 'ssh power driver: bastion (ssh -J)' },
  sshTrustInventory: { flags: '--ssh-trust-inventory', description: "accept the inventory's own ssh rebootCommand, configFile, jumpHost and hostKeyChecking off (each runs or reaches what the inventory chooses); also GAMEDAY_SSH_TRUST_INVENTORY=1" },
  awsRegion: { flags: '--aws-region <region>', description: 'AWS power drivers: region for hosts whose zone is not an AWS zone name' },
  awsUptime: { flags: '--aws-uptime <source>', description: 'AWS power driver: uptime from launch-time (default) or ssm (/proc/uptime through SSM Run Command)' },
  // How a run (a runbook's, or a game day's) behaves.
  yes: { flags: '--yes', description: "approve without asking: a run's approval steps, a game day's faults on a real fleet (required without a terminal; never assumed)" },
  waitLock: { flags: '--wait-lock <duration>', description: 'wait up to this long for a lock another run holds (default: fail at once), e.g. 30m' },
  lockTtl: { flags: '--lock-ttl <duration>', description: 'lock time-to-live, renewed while the run lives (default 10m)' },
  slackWebhook: { flags: '--slack-webhook <url>', description: 'Slack incoming webhook for run notifications (default: $GAMEDAY_SLACK_WEBHOOK)' },
  resumeUnfinished: {
    flags: '--resume-unfinished',
    description: "if this runbook's last run in the state folder did not finish (failed, stopped, crashed), resume it instead of starting a new one (what a scheduled job wants)",
  },
  allSteps: { flags: '--all-steps', description: 'list every step after the summary (runbooks that lead with one, such as reboot-stale)' },
} as const satisfies Record<string, OptionSpec>;

export type SharedOption = keyof typeof SHARED_OPTIONS;

/** The power driver flags, in their --help order; the keys of DriverFlags (cli/wiring/powerWiring.ts). */
export const DRIVER_OPTIONS = ['sshUser', 'sshPort', 'sshKey', 'sshJump', 'sshTrustInventory', 'awsRegion', 'awsUptime'] as const satisfies readonly SharedOption[];

/** A commander option for a table entry. */
export function optionFrom(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description);
  return spec.repeatable ? option.argParser(collect) : option;
}

/** Adds the entries `keys` of `table` to `cmd`, in that order. */
export function addOptions<K extends string>(cmd: Command, table: Readonly<Record<K, OptionSpec>>, keys: readonly K[]): Command {
  for (const key of keys) cmd.addOption(optionFrom(table[key]));
  return cmd;
}

/** Adds the shared options `keys` to `cmd`, in that order. */
export function withOptions(cmd: Command, ...keys: readonly SharedOption[]): Command {
  return addOptions(cmd, SHARED_OPTIONS, keys);
}
