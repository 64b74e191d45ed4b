import { readFileSync } from 'node:fs';
import { GamedayError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';

/*
 * Uptimes for a preview of reboot-stale that does not reach the fleet
 * (`runbook plan reboot-stale --uptimes <file>`): what a CMDB or a monitoring
 * export says, as JSON or CSV. Each uptime is seconds (a number) or a
 * duration ("200d"). Host names are checked against the inventory: a typo
 * would otherwise plan nothing for that host, silently.
 */

const HINT = 'JSON {"db-1": "200d", "app-1": 86400} (seconds or a duration), or CSV lines "host,uptime" (a header line "host,uptime" is allowed)';

function seconds(value: unknown, where: string, file: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const ms = parseDuration(text);
    if (ms !== undefined) return ms / 1000;
  }
  throw new GamedayError('UPTIMES_INVALID', `${where}: not an uptime: ${JSON.stringify(value)}`, file, HINT);
}

function fromJson(text: string, file: string): Map<string, number> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new GamedayError('UPTIMES_INVALID', `not valid JSON: ${(err as Error).message}`, file, HINT);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new GamedayError('UPTIMES_INVALID', 'not an object of host names to uptimes', file, HINT);
  return new Map(Object.entries(data as Record<string, unknown>).map(([host, v]) => [host, seconds(v, host, file)]));
}

function fromCsv(text: string, file: string): Map<string, number> {
  const uptimes = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    if (i === 0 && cells[0].toLowerCase() === 'host') return;
    if (cells.length !== 2 || cells[0] === '') throw new GamedayError('UPTIMES_INVALID', `line ${i + 1}: want "host,uptime", got "${line}"`, file, HINT);
    if (uptimes.has(cells[0])) throw new GamedayError('UPTIMES_INVALID', `line ${i + 1}: ${cells[0]} is given twice`, file, 'give each host once');
    uptimes.set(cells[0], seconds(cells[1], `line ${i + 1}`, file));
  });
  return uptimes;
}

/** Host -> uptime in seconds from a JSON or CSV file; every name must be a host of the inventory. */
export function readUptimesFile(file: string, hostNames: ReadonlySet<string>): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GamedayError('UPTIMES_UNREADABLE', `cannot read the uptimes file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, file, HINT);
  }
  const uptimes = text.trimStart().startsWith('{') ? fromJson(text, file) : fromCsv(text, file);
  const unknown = [...uptimes.keys()].filter((h) => !hostNames.has(h));
  if (unknown.length) {
    throw new GamedayError('UPTIMES_INVALID', `not hosts of the inventory: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`, file, 'use the inventory\'s host names (gameday placement check --hosts lists them)');
  }
  return uptimes;
}
