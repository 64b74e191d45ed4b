/**
 * The systemd unit names a lab host answers to (lab/units.ts), as a fleet's
 * hosts name them, and the lab process each one is; and the systemctl
 * command lines gameday's ssh fault driver sends. Kept free of heavy imports:
 * the lab's systemctl starts a node process per call.
 */
export const LAB_UNITS: Readonly<Record<string, string>> = {
  mariadb: 'mariadbd',
  'gameday-db-health': 'health',
  'redis-server': 'redis',
  'redis-sentinel': 'sentinel',
  haproxy: 'haproxy',
  'gameday-app': 'app',
};

/** A signal to the unit's processes (kill -s …), or stop and start. */
export type SystemctlVerb = 'KILL' | 'STOP' | 'CONT' | 'stop' | 'start';
const SIGNALS = ['KILL', 'STOP', 'CONT'];

/** systemctl's own exit code for a unit it does not know ("Unit … not found"). */
export const EXIT_NO_UNIT = 5;

/** `kill -s KILL -- mariadb`, `stop -- mariadb`, `start -- mariadb`: the verb and the unit, or what is wrong. */
export function parseSystemctl(argv: readonly string[]): { verb: SystemctlVerb; unit: string } | string {
  const words = argv.filter((w) => w !== '--');
  let verb = words[0] ?? '';
  let rest = words.slice(1);
  if (verb === 'kill') {
    // The signals the fault driver sends: freeze (a power loss's first instant), thaw (a cut that failed), kill.
    const signal = rest[0] === '-s' ? rest[1]?.replace(/^SIG/, '') : undefined;
    if (!signal || !SIGNALS.includes(signal)) return `kill needs "-s KILL", "-s STOP" or "-s CONT" here, got ${JSON.stringify(rest.slice(0, 2).join(' '))}`;
    verb = signal;
    rest = rest.slice(2);
  } else if (verb !== 'stop' && verb !== 'start') {
    return `the lab's systemctl knows kill -s KILL|STOP|CONT, stop and start, not ${JSON.stringify(verb)}`;
  }
  if (rest.length !== 1) return `${words[0]} takes one unit, got ${rest.length}`;
  return { verb: verb as SystemctlVerb, unit: rest[0].replace(/\.service$/, '') };
}
