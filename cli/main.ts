import { Command } from 'commander';
import { registerPlacement } from './placementCommand.js';
import { registerLab } from './labCommand.js';
import { registerInventory } from './inventoryCommand.js';
import { registerRunbook } from './runbookCommand.js';
import { registerWarmup } from './warmupCommand.js';

const program = new Command();
program
  .name('gameday')
  .description('Game days, safe reboots and post-outage recovery for MariaDB, Redis and HAProxy fleets')
  .version('0.1.0')
  .showHelpAfterError();

registerPlacement(program);
registerLab(program);
registerInventory(program);
registerRunbook(program);
registerWarmup(program);

await program.parseAsync(process.argv);
