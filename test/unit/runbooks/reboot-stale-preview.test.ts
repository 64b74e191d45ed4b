import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { fleetFromEnvironment } from '../../../cli/wiring/fleetFromEnv.js';
import { requireRunbook } from '../../../runbooks/registry.js';
import { planRun, renderPlan } from '../../../engine/index.js';
import { GamedayError } from '../../../core/errors.js';
import { rebootStale, rebootStaleParams } from '../../../runbooks/rebootStale.js';

const inv = labInventory(22);
// A fleet that cannot be reached: a preview must never ask it.
const unreachable = {
  kind: 'ssh' as const,
  async uptimeSeconds(host: { name: string }): Promise<number> {
    throw new Error(`the preview asked ${host.name} for its uptime`);
  },
  reboot: async () => {},
  waitUntilBack: async () => {},
};
const env = { fleet: { ...fleetFromEnvironment(inv, {}), power: () => unreachable } };
const dir = mkdtempSync(join(tmpdir(), 'gameday-uptimes-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
type Plan = { stale: string[]; uptimes: Record<string, number>; unreadable: Array<{ host: string; reason: string }> };

describe('runbook plan reboot-stale without reaching the fleet', () => {
  it('--assume-uptime plans every host with that uptime and says the plan is a preview', async () => {
    const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d', assumeUptime: '200d' }, { inventory: inv, env });
    const plan = view.plan as Plan;
    expect(plan.stale).toEqual(inv.hosts.map((h) => h.name));
    expect(renderPlan(view)).toContain('PREVIEW: uptimes from 200d assumed, not from the hosts');
  });

  it('--uptimes reads CSV and JSON, seconds or durations; hosts it leaves out are unknown unless --assume-uptime covers them', async () => {
    const csv = file('uptimes.csv', 'host,uptime\ndb-1,200d\napp-1,86400\n');
    const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d', uptimes: csv }, { inventory: inv, env });
    const plan = view.plan as Plan;
    expect(plan.uptimes).toEqual({ 'db-1': 200 * 86_400, 'app-1': 86_400 });
    expect(plan.stale).toEqual(['db-1']);
    expect(plan.unreadable.length).toBe(inv.hosts.length - 2);
    expect(plan.unreadable[0].reason).toContain('not in the --uptimes file');
    const json = file('uptimes.json', '{"db-1": 1000, "app-1": "181d"}');
    const both = (await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d', uptimes: json, assumeUptime: '1d' }, { inventory: inv, env })).plan as Plan;
    expect(both.stale).toEqual(['app-1']);
    expect(both.unreadable).toEqual([]);
  });

  it('refuses a file naming hosts the inventory does not have, and a run with either flag', async () => {
    const typo = file('typo.csv', 'db-01,200d\n');
    const err = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d', uptimes: typo }, { inventory: inv, env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).describe()).toContain('not hosts of the inventory: db-01');
    const params = rebootStaleParams.parse({ maxUptime: '180d', assumeUptime: '200d' });
    const run = await rebootStale.resolve({ params, inventory: inv, env, dryRun: false } as never).catch((e: unknown) => e);
    expect((run as GamedayError).code).toBe('PREVIEW_ONLY');
  });
});
