/** The reboot job's command and schedule expression. Pure. */

/** Where the task mounts the job's EFS state (journal and locks): GAMEDAY_STATE_DIR. */
export const JOB_STATE_DIR = '/var/lib/gameday';

/** The job's window: the Scheduler starts the task at a random time in it, and reboot-stale starts no host outside it. */
export interface RebootWindow {
  /** HH:MM */
  start: string;
  minutes: number;
  timezone: string;
}

/** "03:00" + 120 minutes → "03:00-05:00" (past midnight it wraps: "23:00-01:00"). */
export function windowHours(w: Pick<RebootWindow, 'start' | 'minutes'>): string {
  const [h, m] = w.start.split(':').map(Number);
  const end = (h! * 60 + m! + w.minutes) % 1440;
  const hhmm = (t: number) => `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  return `${w.start}-${hhmm(end)}`;
}

/**
 * The command the task runs: the inventory comes in through the environment,
 * written to a file first. `--resume-unfinished`: a run that failed, stopped
 * at the end of the window, or whose task died is carried on by the next
 * day's task from the shared journal; one still held by a live task makes
 * this one exit 2 (its lock), so runs never overlap. `--hours`: no host is
 * started outside the window (a window of a whole day is no limit).
 */
export function rebootCommand(maxUptime: string, window?: RebootWindow): string {
  const hours = window && window.minutes < 1440 ? ` --hours ${windowHours(window)} --time-zone ${window.timezone}` : '';
  return (
    'printf "%s" "$GAMEDAY_INVENTORY" > /tmp/inventory.json && ' +
    `exec gameday runbook run reboot-stale --max-uptime ${maxUptime}${hours} --inventory /tmp/inventory.json --yes --resume-unfinished`
  );
}

/** "03:30" → the EventBridge Scheduler expression that fires daily at that time. */
export function dailyCron(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  return `cron(${m} ${h} * * ? *)`;
}
