/** The reboot job's command and schedule expression. Pure. */

/** The command the task runs: the inventory comes in through the environment, written to a file first. */
export function rebootCommand(maxUptime: string): string {
  return (
    'printf "%s" "$GAMEDAY_INVENTORY" > /tmp/inventory.json && ' +
    `exec gameday runbook run reboot-stale --max-uptime ${maxUptime} --inventory /tmp/inventory.json --yes`
  );
}

/** "03:30" → the EventBridge Scheduler expression that fires daily at that time. */
export function dailyCron(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  return `cron(${m} ${h} * * ? *)`;
}
