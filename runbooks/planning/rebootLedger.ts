import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * When gameday last asked each host to reboot, kept in the state folder (on
 * shared storage for the scheduled job). Some uptimes cannot see a reboot:
 * EC2's LaunchTime and ElastiCache's node create time stay what they were,
 * so without this a host past its limit would be rebooted by every daily run.
 * reboot-stale takes the smaller of the driver's uptime and the time since
 * the last reboot here.
 */
export interface RebootLedger {
  last(host: string): Date | undefined;
  record(host: string, at: Date): void;
}

export function rebootLedgerFile(stateDir: string): string {
  return join(stateDir, 'reboots.json');
}

export function fileRebootLedger(stateDir: string): RebootLedger {
  const file = rebootLedgerFile(stateDir);
  const read = (): Record<string, string> => {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  };
  return {
    last(host) {
      const at = read()[host];
      const t = at ? Date.parse(at) : NaN;
      return Number.isFinite(t) ? new Date(t) : undefined;
    },
    record(host, at) {
      // Whole file, written to a temporary name and renamed: a reader never sees half of it.
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ ...read(), [host]: at.toISOString() }, null, 1)}\n`);
      renameSync(tmp, file);
    },
  };
}

/** The uptime reboot-stale acts on: the driver's, or the time since gameday's last reboot of the host if that is shorter. */
export function uptimeWithLedger(host: string, driverSeconds: number, ledger: RebootLedger | undefined, now = Date.now()): number {
  const last = ledger?.last(host);
  return last ? Math.min(driverSeconds, Math.max(0, (now - last.getTime()) / 1000)) : driverSeconds;
}
