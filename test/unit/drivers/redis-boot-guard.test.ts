import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDecision, decide, replicaOfIn } from '../../../drivers/redis/bootGuard.js';

const self = { host: '198.18.22.21', port: 6379 };
const other = { host: '198.18.22.121', port: 6379 };
const masterConf = 'port 6379\nappendonly yes\n';
const replicaConf = `port 6379\nreplicaof ${other.host} ${other.port}\n`;

describe('the Redis boot guard: never a master that a majority of the Sentinels does not name', () => {
  it('a former primary whose Sentinels promoted another starts as its replica', () => {
    expect(decide(masterConf, self, 3, [other, other, null])).toMatchObject({ start: 'replica', of: other, why: '2 of 3 Sentinels name 198.18.22.121:6379' });
  });

  it('starts as the primary only when a majority names it, whatever its config says', () => {
    expect(decide(replicaConf, self, 3, [self, self, other]).start).toBe('master');
    expect(decide(masterConf, self, 3, [self, null, null]).start).toBe('refused');
  });

  it('with no majority: a replica stays the replica its config says; a master config follows an answering Sentinel that names another, else is refused', () => {
    expect(decide(replicaConf, self, 3, [null, null, null])).toMatchObject({ start: 'replica', of: other });
    expect(decide(masterConf, self, 3, [other, null, null])).toMatchObject({ start: 'replica', of: other });
    const refused = decide(masterConf, self, 3, [null, null, null]);
    expect(refused.start).toBe('refused');
    expect(refused.why).toContain('not starting a master on a doubt');
  });

  it('rewrites the config in one rename, keeping its mode, and leaves it alone when nothing changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-boot-guard-'));
    const path = join(dir, 'redis.conf');
    writeFileSync(path, masterConf, { mode: 0o600 });
    expect(applyDecision(path, masterConf, { start: 'replica', of: other, why: '' })).toBe(true);
    expect(replicaOfIn(readFileSync(path, 'utf8'))).toEqual(other);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const now = readFileSync(path, 'utf8');
    expect(applyDecision(path, now, { start: 'replica', of: other, why: '' })).toBe(false);
    expect(applyDecision(path, now, { start: 'refused', why: '' })).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe(now);
  });
});
