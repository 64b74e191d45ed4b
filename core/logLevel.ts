/** pino's levels: what GAMEDAY_LOG_LEVEL may say (default info). No imports: the CLI checks it before loading anything. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The level GAMEDAY_LOG_LEVEL asks for, or the error to print when it names none. */
export function logLevelOf(env: NodeJS.ProcessEnv): { level: string } | { error: string } {
  const v = env.GAMEDAY_LOG_LEVEL?.trim() || 'info';
  if ((LOG_LEVELS as readonly string[]).includes(v)) return { level: v };
  return { error: `error BAD_ENV: GAMEDAY_LOG_LEVEL: "${v}" is not a log level\n  hint: one of ${LOG_LEVELS.join(', ')} (default info)\n` };
}
