import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileRebootLedger, rebootLedgerFile, uptimeWithLedger } from '../../../runbooks/planning/rebootLedger.js';
import { GamedayError } from '../../../core/errors.js';

const DAY = 86_400;

describe('the reboot ledger', () => {
  it('stops with a message naming the file when it cannot be parsed, and keeps the file as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gd-ledger-'));
    const file = rebootLedgerFile(dir);
    writeFileSync(file, '{"db-1": "2026-12-01T02:00:00.000Z", "db-2": ');
    const ledger = fileRebootLedger(dir);
    const err = (() => {
      try {
        ledger.record('db-3', new Date());
      } catch (e) {
        return e as GamedayError;
      }
    })();
    expect(err).toBeInstanceOf(GamedayError);
    expect(err!.code).toBe('REBOOT_LEDGER_UNREADABLE');
    expect(err!.input).toBe(file);
    expect(() => ledger.last('db-1')).toThrow(/not JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{"db-1": "2026-12-01T02:00:00.000Z", "db-2": ');
  });

  it('writes through a temporary name of its own (every Fargate task is pid 1) and leaves none behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gd-ledger-'));
    const ledger = fileRebootLedger(dir);
    ledger.record('db-1', new Date('2026-12-01T02:00:00.000Z'));
    ledger.record('db-2', new Date('2026-12-02T02:00:00.000Z'));
    expect(readdirSync(dir)).toEqual(['reboots.json']);
    expect(ledger.last('db-1')?.toISOString()).toBe('2026-12-01T02:00:00.000Z');
    expect(ledger.last('db-2')?.toISOString()).toBe('2026-12-02T02:00:00.000Z');
  });

  it('never overrides an exact uptime (ssh reads /proc/uptime): a recorded reboot the host never made does not hide 200 days', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gd-ledger-'));
    const ledger = fileRebootLedger(dir);
    const now = Date.parse('2026-12-06T03:00:00.000Z');
    ledger.record('db-1', new Date(now - DAY * 1000));
    expect(uptimeWithLedger('db-1', 200 * DAY, ledger, now, true)).toBe(200 * DAY);
    // An uptime that cannot see a reboot (EC2 LaunchTime) still takes the ledger's.
    expect(uptimeWithLedger('db-1', 200 * DAY, ledger, now, false)).toBe(DAY);
  });
});
