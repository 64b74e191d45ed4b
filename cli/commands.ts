import type { Command } from 'commander';

/*
 * The top-level commands, each loaded only when it is the one asked for:
 * `gameday --help` must not pay for the AWS SDK, zod, the drivers or the lab
 * (see bench/cli-startup.ts). This file stays free of imports beyond commander's types.
 */
export interface TopCommand {
  name: string;
  summary: string;
  /** Shown after the name in the top-level help, e.g. "[host]". */
  usage?: string;
  register: () => Promise<(program: Command) => void>;
}

export const COMMANDS: readonly TopCommand[] = [
  {
    name: 'placement',
    summary: 'Check how the inventory survives the loss of a host, rack or zone',
    register: async () => (await import('./placementCommand.js')).registerPlacement,
  },
  {
    name: 'lab',
    summary: 'The embedded lab: real MariaDB, Redis, Sentinel, HAProxy and the reference app on loopback addresses',
    register: async () => (await import('./labCommand.js')).registerLab,
  },
  {
    name: 'inventory',
    summary: 'Write inventory files from other sources',
    register: async () => (await import('./inventoryCommand.js')).registerInventory,
  },
  {
    name: 'runbook',
    summary: 'Runbooks: ordered steps with a journal, resume after a crash, locks, approvals and a dry-run plan',
    register: async () => (await import('./runbookCommand.js')).registerRunbook,
  },
  {
    name: 'warmup',
    summary: "Bring a recovered host back to its peers' warmth (buffer pool), and its data to what the truth says (Redis from MariaDB)",
    register: async () => (await import('./warmupCommand.js')).registerWarmup,
  },
  {
    name: 'chaos',
    summary: 'Game days: cut power to a host, rack or zone under load, check failover against invariants, always undo, report with a timeline',
    register: async () => (await import('./chaosCommand.js')).registerChaos,
  },
  {
    name: 'ramp',
    usage: '[options] [host]',
    summary:
      "Raise a server's weight step by step on every proxy (or an ALB target group's, or a Route 53 weighted record's), each step held behind gates (errors, response time, queue and lag against its peers; target health, health checks, alarms); a failing gate steps it back down, then takes it out",
    register: async () => (await import('./rampCommand.js')).registerRamp,
  },
];

export function summaryOf(name: string): string {
  const found = COMMANDS.find((c) => c.name === name);
  if (!found) throw new Error(`no top-level command "${name}" in cli/commands.ts`);
  return found.summary;
}

/** The top-level command the arguments ask for ("gameday help lab" asks for lab), if any. */
export function requestedCommand(args: readonly string[]): TopCommand | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}
