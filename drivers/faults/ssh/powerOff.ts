import { powerOffScript, powerOnScript } from '../sshScripts.js';
import type { SshFaultType } from './context.js';
import { noUnit } from './units.js';

/**
 * power-off: every unit of the host frozen (SIGSTOP), an nft table of
 * gameday's own drops every packet in and out but the loopback and ssh with
 * the controller, then SIGKILL of every unit
 * of the host (then `systemctl stop`, so Restart= does not bring them
 * back); undo: the table goes, the units start cold.
 */
export const powerOff: SshFaultType = {
  check(ctx, _f, hosts) {
    for (const h of hosts) ctx.units.unitsOfHost(h);
  },

  async inject(ctx, f, hosts) {
    const t = ctx.table(f);
    const units = await ctx.onEach(f, 'inject', hosts, async (h) => {
      const u = ctx.units.unitsOfHost(h);
      await ctx.exec(h, 'power off', powerOffScript({ privilege: ctx.privilege, table: t, units: u, allowSshFrom: ctx.options.allowSshFrom }));
      return u;
    });
    return { table: t, killed: Object.fromEntries(hosts.map((h, i) => [h.name, units[i]])) };
  },

  async undo(ctx, f, hosts) {
    const t = ctx.table(f);
    await ctx.onEach(f, 'undo', hosts, async (h) => {
      // The table goes even when a unit is unknown now (options changed since the inject): the host comes back to the network first.
      const services = Object.keys(h.services);
      const unknown = services.filter((s) => ctx.units.unitOf(h, s) === undefined);
      const units = [...new Set(services.map((s) => ctx.units.unitOf(h, s)).filter((u): u is string => u !== undefined && u !== ''))];
      await ctx.exec(h, 'power on', powerOnScript({ privilege: ctx.privilege, table: t, units }), ctx.options.startTimeoutSeconds);
      if (unknown.length) throw noUnit(h, unknown);
    });
    return { table: t, started: hosts.map((h) => h.name) };
  },
};
