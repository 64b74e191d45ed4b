import { pino, type Logger } from 'pino';
import { logLevelOf } from './logLevel.js';

/**
 * The one logger: JSON to stderr, pretty when stderr is a terminal.
 * Stdout stays free for results. Secrets are redacted by key name.
 */
function makeLogger(): Logger {
  const checked = logLevelOf(process.env);
  const options = {
    // The CLI refuses a bad one before it gets here (cli/main.ts); anything else that logs falls back to info.
    level: 'level' in checked ? checked.level : 'info',
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  };
  if (process.stderr.isTTY) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } } });
  }
  return pino(options, pino.destination(2));
}

export const log: Logger = makeLogger();
