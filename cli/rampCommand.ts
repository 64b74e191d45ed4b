import type { Command } from 'commander';
import { requireRunbook } from '../runbooks/registry.js';
import { runsRunbook } from './runbookCommand.js';
import { summaryOf } from './summaries.js';

/** `gameday ramp <host>`: the ramp runbook, with the host as its argument. */
export function registerRamp(program: Command): void {
  runsRunbook(
    program
      .command('ramp')
      .description(summaryOf('ramp'))
      .argument('[host]', 'the server, e.g. app-2 or db-2 (or --host)'),
    requireRunbook('ramp'),
  );
}
