import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { rebootStale } from '../../../runbooks/rebootStale.js';

const file = (p: string) => fileURLToPath(new URL(`../../../deploy/${p}`, import.meta.url));

/** The runbook flags of a "gameday runbook run reboot-stale ..." command line, as the runbook's params. */
function runbookParams(command: string): Record<string, string> {
  const args = command.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);
  const start = args.indexOf('reboot-stale');
  expect(start).toBeGreaterThan(0);
  const params: Record<string, string> = {};
  for (let i = start + 1; i < args.length; i++) {
    if (!args[i].startsWith('--') || ['--inventory', '--yes'].includes(args[i])) {
      if (args[i] === '--inventory') i++;
      continue;
    }
    const key = args[i].slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    params[key] = args[++i];
  }
  return params;
}

describe('scheduling examples', () => {
  it('ships a systemd service and timer that systemd accepts', async () => {
    const r = await execa('systemd-analyze', ['verify', '--man=no', file('systemd/gameday-reboot-stale.timer'), file('systemd/gameday-reboot-stale.service')], { reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const cal = await execa('systemd-analyze', ['calendar', 'Mon..Thu *-*-* 02:05:00 Europe/Paris']);
    expect(cal.stdout).toContain('Next elapse');
  });

  it('runs reboot-stale with flags the runbook accepts, in the window it names', () => {
    const service = readFileSync(file('systemd/gameday-reboot-stale.service'), 'utf8');
    const exec = service.slice(service.indexOf('ExecStart='), service.indexOf('Environment='));
    const fromUnit = rebootStale.params.parse(runbookParams(exec));
    expect(fromUnit).toMatchObject({ maxUptime: 180 * 86_400_000, margin: 7 * 86_400_000, days: 'mon-thu', hours: '02:00-05:00', timeZone: 'Europe/Paris' });
    expect(exec).toContain('--yes'); // unattended: no terminal for approvals

    const cron = readFileSync(file('cron/gameday-reboot-stale'), 'utf8').split('\n').find((l) => /^\d/.test(l))!;
    const [minute, hour, dom, month, dow, user] = cron.split(/\s+/);
    expect([minute, hour, dom, month, dow, user]).toEqual(['5', '2', '*', '*', '1-4', 'root']);
    expect(rebootStale.params.parse(runbookParams(cron))).toEqual(fromUnit);
  });
});

describe('the Pulumi reboot job\'s window', () => {
  it('gives reboot-stale the Scheduler\'s window as --hours, wrapping past midnight, and no limit for a whole day', async () => {
    const { rebootCommand, windowHours } = await import('../../../infra/rebootSchedule.js');
    expect(windowHours({ start: '03:00', minutes: 120 })).toBe('03:00-05:00');
    expect(windowHours({ start: '23:30', minutes: 90 })).toBe('23:30-01:00');
    expect(rebootCommand('180d', { start: '23:30', minutes: 90, timezone: 'Europe/Paris' })).toContain('--max-uptime 180d --hours 23:30-01:00 --time-zone Europe/Paris --inventory');
    expect(rebootCommand('180d', { start: '00:00', minutes: 1440, timezone: 'UTC' })).not.toContain('--hours');
  });
});
