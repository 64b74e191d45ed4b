import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GamedayError } from '../../core/errors.js';

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
  // No file yet is an empty ledger; a file that cannot be read or parsed stops the job and is kept as it is
  // (read as empty, the next record would wipe every host's last reboot, and they would all look stale).
  const read = (): Record<string, string> => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new GamedayError('REBOOT_LEDGER_UNREADABLE', `cannot read the reboot ledger: ${(err as Error).message}`, file, 'fix its permissions; it was left as it is');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new GamedayError('REBOOT_LEDGER_UNREADABLE', `the reboot ledger is not JSON: ${(err as Error).message}`, file, 'mend it (host -> ISO time of gameday\'s last reboot) or move it aside; it was left as it is');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
      throw new GamedayError('REBOOT_LEDGER_UNREADABLE', 'the reboot ledger is not an object of host -> ISO time', file, 'mend it or move it aside; it was left as it is');
    }
    return parsed as Record<string, string>;
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
      // A name no other writer shares: every Fargate task is pid 1.
      const tmp = `${file}.${randomUUID()}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ ...read(), [host]: at.toISOString() }, null, 1)}\n`);
      renameSync(tmp, file);
    },
  };
}

/**
 * The uptime reboot-stale acts on: the driver's, or the time since gameday's
 * last reboot of the host if that is shorter. A driver that reads the
 * kernel's own uptime (ssh: /proc/uptime) sees every reboot: the ledger
 * never overrides it (a reboot recorded but lost, or one the host undid by
 * crashing later, would otherwise hide a 200-day uptime).
 */
export function uptimeWithLedger(host: string, driverSeconds: number, ledger: RebootLedger | undefined, now = Date.now(), exact = false): number {
  if (exact) return driverSeconds;
  const last = ledger?.last(host);
  return last ? Math.min(driverSeconds, Math.max(0, (now - last.getTime()) / 1000)) : driverSeconds;
}
