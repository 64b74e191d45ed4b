import { GamedayError } from '../../../core/errors.js';
import { killUnitScript, startUnitScript } from '../sshScripts.js';
import type { SshFaultType } from './context.js';

/** kill-process: SIGKILL (and stop) of the service's unit; undo: start it. */
export const killProcess: SshFaultType = {
  check(ctx, f, hosts) {
    if (!f.service) throw new GamedayError('FAULT_INVALID', 'a kill-process fault names no service', `fault ${f.id}`);
    for (const h of hosts) ctx.units.serviceUnit(h, f.service);
  },

  async inject(ctx, f, hosts) {
    const units = await ctx.onEach(f, 'inject', hosts, async (h) => {
      const u = ctx.units.serviceUnit(h, f.service!);
      await ctx.exec(h, `kill ${u}`, killUnitScript(ctx.privilege, u));
      return u;
    });
    return { killed: Object.fromEntries(hosts.map((h, i) => [h.name, units[i]])) };
  },

  async undo(ctx, f, hosts) {
    const units = await ctx.onEach(f, 'undo', hosts, async (h) => {
      const u = ctx.units.serviceUnit(h, f.service!);
      await ctx.exec(h, `start ${u}`, startUnitScript(ctx.privilege, u), ctx.options.startTimeoutSeconds);
      return u;
    });
    return { started: Object.fromEntries(hosts.map((h, i) => [h.name, units[i]])) };
  },
};
