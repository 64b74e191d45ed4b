import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLab } from '../../../lab/context.js';
import { labDown } from '../../../lab/down.js';
import { cli } from '../helpers.js';

/** PIDs of every process whose command line names `dir`. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('lab up --layout outage-2017 (a small lab on 198.18.30.x)', () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-layout-'));
  const dir = join(root, 'lab');
  const lab = (...args: string[]) => cli(['lab', ...args, '--dir', dir]);

  afterAll(async () => {
    const left = openLab(dir);
    if (left) await labDown(left);
  });

  it('refuses an unknown layout, naming the flag and the valid layouts, and starts nothing', async () => {
    const r = await lab('up', '--octet', '30', '--layout', 'nosuch');
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('error BAD_FLAG: --layout: unknown layout "nosuch"; valid layouts: spread, outage-2017\n  hint: see "gameday lab up --help" for what each layout is');
    expect(existsSync(dir)).toBe(false);
  });

  it('comes up with every host where outage-2017 puts it, and status says so', async () => {
    const up = await lab('up', '--octet', '30', '--layout', 'outage-2017', '--users', '200', '--per-user', '5');
    expect(up.exitCode, up.stderr).toBe(0);
    const status = await lab('status', '--json');
    expect(status.exitCode, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.live.layout).toBe('outage-2017');
    const where = Object.fromEntries(s.hosts.map((h: { name: string; zone: string; rack: string; address: string }) => [h.name, `${h.zone}/${h.rack} ${h.address}`]));
    expect(where).toMatchObject({
      'proxy-1': 'az-a/a2 198.18.30.41',
      'proxy-2': 'az-a/a2 198.18.30.42',
      'redis-1': 'az-a/a2 198.18.30.21',
      'redis-2': 'az-a/a2 198.18.30.22',
      'app-3': 'az-a/a2 198.18.30.53',
      'db-3': 'az-a/a2 198.18.30.12',
      'sentinel-1': 'az-c/c1 198.18.30.231',
    });
    expect(Object.values(s.live.hosts).map((h) => (h as { state: string }).state)).toEqual(Array(13).fill('up'));
    expect(s.live.sentinel).toEqual({ 'sentinel-1': 'redis-1', 'sentinel-2': 'redis-1', 'sentinel-3': 'redis-1' });
    expect((await lab('status')).stdout).toMatch(/^Layout: outage-2017 \(the 2017 replay/);
  });

  it('refuses to bring the same lab up in another layout, and changes nothing', async () => {
    const before = openLab(dir)!.state.processes;
    const r = await lab('up', '--layout', 'spread');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('error LAB_EXISTS');
    expect(r.stderr).toContain('brought up with layout outage-2017, not spread');
    expect(r.stderr).toContain('run "gameday lab down" first');
    expect(openLab(dir)!.state.processes).toEqual(before);
    expect(openLab(dir)!.layout).toBe('outage-2017');
    // Without --layout, "up" keeps the lab's own.
    expect((await lab('up')).exitCode).toBe(0);
  });

  it('placement check of the lab\'s inventory names rack a2 as a total outage', async () => {
    const file = join(root, 'inventory.yaml');
    expect((await lab('inventory', '--out', file)).exitCode).toBe(0);
    const check = await cli(['placement', 'check', file, '--json']);
    expect(check.exitCode).toBe(1);
    const breaks: string[] = JSON.parse(check.stdout).breaks;
    expect(breaks).toContain('rack az-a/a2: tier proxy: 0 of 2 left, minHealthy is 1');
    expect(breaks).toContain('rack az-a/a2: pool db-write: no proxy left (proxy-1, proxy-2 all lost)');
  });

  it('powers off rack a2 as the layout places it: both proxies, both Redis, every app and db-3', async () => {
    const r = await lab('power-off', 'a2');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^power-off rack az-a\/a2: db-3, redis-1, redis-2, proxy-1, proxy-2, app-1, app-2, app-3 /);
    expect(openLab(dir)!.state.poweredOff.sort()).toEqual(['app-1', 'app-2', 'app-3', 'db-3', 'proxy-1', 'proxy-2', 'redis-1', 'redis-2']);
  });

  it('goes down without leaving a process or its folder', async () => {
    const r = await lab('down');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(processesNaming(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
