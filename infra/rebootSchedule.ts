/** The reboot job's command and schedule expression. Pure. */

/** Where the task mounts the job's EFS state (journal and locks): GAMEDAY_STATE_DIR. */
export const JOB_STATE_DIR = '/var/lib/gameday';

/**
 * The command the task runs: the inventory comes in through the environment,
 * written to a file first. `--resume-unfinished`: a run that failed or whose
 * task died is carried on by the next day's task from the shared journal; one
 * still held by a live task makes this one exit 2 (its lock), so runs never overlap.
 */
export function rebootCommand(maxUptime: string): string {
  return (
    'printf "%s" "$GAMEDAY_INVENTORY" > /tmp/inventory.json && ' +
    `exec gameday runbook run reboot-stale --max-uptime ${maxUptime} --inventory /tmp/inventory.json --yes --resume-unfinished`
  );
}

/** "03:30" → the EventBridge Scheduler expression that fires daily at that time. */
export function dailyCron(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  return `cron(${m} ${h} * * ? *)`;
}
