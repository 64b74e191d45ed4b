import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { cli, connectOutcome, sharedLab } from '../helpers.js';

const fixture = fileURLToPath(new URL('../../fixtures/outage-rack.yaml', import.meta.url));

describe('the gameday command', () => {
  it('flags the outage fixture with exit 1 and names exactly what breaks', async () => {
    const r = await cli(['placement', 'check', fixture]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('rack idc-1/r07: tier db-proxy: 0 of 2 left, minHealthy is 1');
    expect(r.stdout).toContain('rack idc-1/r07: pool notif-api: no server left (notif-api-1, notif-api-2 all lost)');
    expect(r.stdout).toContain('FAIL');
  });

  it('passes the lab inventory with exit 0, as a table and as JSON', async () => {
    const r = await cli(['placement', 'check']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('rack az-a/a1');
    const json = await cli(['placement', 'check', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ inventory: 'gameday-lab', ok: true, breaks: [] });
  });

  it('refuses an empty inventory path (an unset variable in CI) instead of checking the lab, and says which inventory it checks when none is named', async () => {
    const empty = await cli(['placement', 'check', '']);
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain('error INVENTORY_PATH_EMPTY: inventory: the inventory path is empty');
    const runbook = await cli(['runbook', 'plan', 'reboot-stale', '--inventory', '', '--max-uptime', '180d', '--assume-uptime', '1d']);
    expect(runbook.exitCode).toBe(2);
    expect(runbook.stderr).toContain('INVENTORY_PATH_EMPTY');
    const unnamed = await cli(['placement', 'check'], { GAMEDAY_LAB_DIR: join(mkdtempSync(join(tmpdir(), 'gameday-nolab-')), 'none') });
    expect(unnamed.stderr).toContain('checking the default lab layout (no file given and no lab is up)');
  });

  it('rejects a malformed inventory with one clear error naming the file and field', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gameday-cli-')), 'broken.yaml');
    writeFileSync(file, 'name: broken\ntiers: { db: {} }\nhosts:\n  - { name: db-1, tier: db, zone: a, address: 10.0.0.1 }\n');
    const r = await cli(['placement', 'check', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`error INVENTORY_INVALID: ${file}`);
    expect(r.stderr).toContain('hosts[0].rack: missing: the rack');
    expect(r.stderr).not.toContain('    at '); // no stack trace
  });

  it('rejects an unknown power-off target and a bad flag without touching the lab', async () => {
    const before = JSON.stringify(sharedLab().state.processes);
    const r = await cli(['lab', 'power-off', 'rack-99', '--dir', inject('labDir')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('"rack-99" is not a host, rack or zone of the lab; nothing was touched');
    expect(r.stderr).toContain('hint: hosts: db-1');
    const bad = await cli(['lab', 'up', '--users', 'lots', '--dir', inject('labDir')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--users: must be a whole number');
    expect(JSON.stringify(sharedLab().state.processes)).toBe(before);
  });

  it('power-off cuts the host off (a connect hangs, as to a dark host) and power-on brings it back', async () => {
    const dir = inject('labDir');
    const app = sharedLab().host('app-3');
    const off = await cli(['lab', 'power-off', 'app-3', '--dir', dir]);
    expect(off.exitCode, off.stderr).toBe(0);
    expect(off.stdout).toContain('power-off host app-3: app-3 cut off and killed (1 processes)');
    expect(await connectOutcome(app.address, app.services.http, 1500)).toBe('hung');
    const on = await cli(['lab', 'power-on', 'app-3', '--dir', dir]);
    expect(on.exitCode, on.stderr).toBe(0);
    expect(await connectOutcome(app.address, app.services.http, 1500)).toBe('connected');
  });

  it('prints live status as JSON that is itself an inventory', async () => {
    const r = await cli(['lab', 'status', '--json', '--dir', inject('labDir')]);
    expect(r.exitCode).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.hosts).toHaveLength(13);
    expect(status.live.hosts['db-1']).toMatchObject({ state: 'up', role: 'primary' });
    expect(status.live.sentinel['sentinel-1']).toBe('redis-1');
    expect(status.live.haproxy['proxy-1'].find((s: any) => s.backend === 'db_write' && s.server === 'db-1')).toMatchObject({ status: 'UP', weight: 100 });
    const { parseInventory } = await import('../../../topology/index.js');
    expect(() => parseInventory(status, 'status')).not.toThrow();
  });

  it('explains every subcommand with --help', async () => {
    for (const args of [['--help'], ['lab', '--help'], ['lab', 'power-off', '--help'], ['placement', 'check', '--help']]) {
      const r = await cli(args);
      expect(r.exitCode, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: gameday');
    }
  });
});
