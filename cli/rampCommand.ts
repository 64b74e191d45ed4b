import type { Command } from 'commander';
import { requireRunbook } from '../runbooks/registry.js';
import { runsRunbook } from './runbookCommand.js';

/** `gameday ramp <host>`: the ramp runbook, with the host as its argument. */
export function registerRamp(program: Command): void {
  runsRunbook(
    program
      .command('ramp')
      .description('Raise a server\'s weight step by step on every proxy (or an ALB target group\'s, or a Route 53 weighted record\'s), each step held behind gates (errors, response time, queue and lag against its peers; target health, health checks, alarms); a failing gate steps it back down, then takes it out')
      .argument('[host]', 'the server, e.g. app-2 or db-2 (or --host)'),
    requireRunbook('ramp'),
  );
}
