import { pino, type Logger } from 'pino';

/**
 * The one logger: JSON to stderr, pretty when stderr is a terminal.
 * Stdout stays free for results. Secrets are redacted by key name.
 */
function makeLogger(): Logger {
  const options = {
    level: process.env.GAMEDAY_LOG_LEVEL ?? 'info',
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  };
  if (process.stderr.isTTY) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } } });
  }
  return pino(options, pino.destination(2));
}

export const log: Logger = makeLogger();
