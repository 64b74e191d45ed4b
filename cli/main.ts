import { Command, CommanderError } from 'commander';
import { COMMANDS, requestedCommand } from './commands.js';
import { ignoreOutputErrors, exitWhenDone } from '../engine/signals.js';
import { logLevelOf } from '../core/logLevel.js';

ignoreOutputErrors();

// A bad log level is the user's mistake: one clear error, before any command loads the logger (pino would throw its stack).
const logLevel = logLevelOf(process.env);
if ('error' in logLevel) {
  process.stderr.write(logLevel.error);
  process.exit(2);
}

const program = new Command();
program
  .name('gameday')
  .description('Game days, safe reboots and post-outage recovery for MariaDB, Redis and HAProxy fleets')
  .version('0.1.0')
  .showHelpAfterError()
  // Usage errors exit 2 (bad input), not commander's 1, which here means "a check failed".
  .exitOverride();

// Only the command asked for is loaded; without one (help, a typo), every
// command is listed by name and summary alone.
const requested = requestedCommand(process.argv.slice(2));
if (requested) (await requested.register())(program);
else for (const c of COMMANDS) program.command(c.usage ? `${c.name} ${c.usage}` : c.name).description(c.summary);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  const informational = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code);
  process.exitCode = informational ? 0 : 2;
}
exitWhenDone();
