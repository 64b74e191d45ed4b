import type { Command } from 'commander';
import { SUMMARIES } from './summaries.js';

/*
 * The top-level commands, each loaded only when it is the one asked for:
 * `gameday --help` must not pay for the AWS SDK, zod, the drivers or the lab
 * (see bench/cli-startup.ts). This file imports nothing else but the summaries.
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
    summary: SUMMARIES.placement,
    register: async () => (await import('./placementCommand.js')).registerPlacement,
  },
  {
    name: 'lab',
    summary: SUMMARIES.lab,
    register: async () => (await import('./labCommand.js')).registerLab,
  },
  {
    name: 'inventory',
    summary: SUMMARIES.inventory,
    register: async () => (await import('./inventoryCommand.js')).registerInventory,
  },
  {
    name: 'runbook',
    summary: SUMMARIES.runbook,
    register: async () => (await import('./runbookCommand.js')).registerRunbook,
  },
  {
    name: 'warmup',
    summary: SUMMARIES.warmup,
    register: async () => (await import('./warmupCommand.js')).registerWarmup,
  },
  {
    name: 'chaos',
    summary: SUMMARIES.chaos,
    register: async () => (await import('./chaosCommand.js')).registerChaos,
  },
  {
    name: 'guard',
    summary: SUMMARIES.guard,
    register: async () => (await import('./guardCommand.js')).registerGuard,
  },
  {
    name: 'agent',
    summary: SUMMARIES.agent,
    register: async () => (await import('./agentCommand.js')).registerAgent,
  },
  {
    name: 'ramp',
    summary: SUMMARIES.ramp,
    usage: '[options] [host]',
    register: async () => (await import('./rampCommand.js')).registerRamp,
  },
];

/** The top-level command the arguments ask for ("gameday help lab" asks for lab), if any. */
export function requestedCommand(args: readonly string[]): TopCommand | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}
