import { Command, CommanderError } from 'commander';
import { registerPlacement } from './placementCommand.js';
import { registerLab } from './labCommand.js';
import { registerInventory } from './inventoryCommand.js';
import { registerRunbook } from './runbookCommand.js';
import { registerWarmup } from './warmupCommand.js';
import { registerChaos } from './chaosCommand.js';
import { registerRamp } from './rampCommand.js';
import { ignoreOutputErrors, exitWhenDone } from '../runbooks/engine/signals.js';

ignoreOutputErrors();

const program = new Command();
program
  .name('gameday')
  .description('Game days, safe reboots and post-outage recovery for MariaDB, Redis and HAProxy fleets')
  .version('0.1.0')
  .showHelpAfterError()
  // Usage errors exit 2 (bad input), not commander's 1, which here means "a check failed".
  .exitOverride();

registerPlacement(program);
registerLab(program);
registerInventory(program);
registerRunbook(program);
registerWarmup(program);
registerChaos(program);
registerRamp(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  const informational = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code);
  process.exitCode = informational ? 0 : 2;
}
exitWhenDone();
