import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { fleetFromEnvironment } from '../../../cli/wiring/fleetFromEnv.js';
import { requireRunbook } from '../../../runbooks/registry.js';
import { planRun, renderPlan } from '../../../engine/index.js';
import { GamedayError } from '../../../core/errors.js';

describe('reboot-stale with a host whose uptime cannot be read', () => {
  it('plans every other host and names the dead one with why, instead of failing the whole plan', async () => {
    const inv = labInventory(22);
    const power = {
      kind: 'ssh' as const,
      async uptimeSeconds(host: { name: string }) {
        if (host.name === 'app-2') throw new GamedayError('POWER_SSH_UNREACHABLE', 'cannot reach app-2 over ssh: Connection timed out', 'host app-2');
        return 200 * 86_400;
      },
      reboot: async () => {},
      waitUntilBack: async () => {},
    };
    const fleet = { ...fleetFromEnvironment(inv, {}), power: () => power };
    const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d' }, { inventory: inv, env: { fleet } });
    const plan = view.plan as { stale: string[]; unreadable: Array<{ host: string; reason: string }> };
    expect(plan.stale).toEqual(inv.hosts.map((h) => h.name).filter((n) => n !== 'app-2'));
    expect(plan.unreadable).toEqual([{ host: 'app-2', reason: 'cannot reach app-2 over ssh: Connection timed out' }]);
    const text = renderPlan(view);
    expect(text).toContain(`${inv.hosts.length} hosts checked: ${inv.hosts.length - 1} up 180d or longer`);
    expect(text).toContain('UPTIME UNKNOWN for 1 host: not rebooted by this run, the others go on; look at it (the waves do not count it as down: if it is, a wave may leave its tier short):');
    expect(text).toContain('  app-2: cannot reach app-2 over ssh: Connection timed out');
    expect(view.steps[0].title).toContain('uptime unknown for 1 (app-2): not rebooted');
  });
});
