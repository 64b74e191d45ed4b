import { redisWipeScript, startUnitScript } from '../sshScripts.js';
import type { SshFaultType } from './context.js';

/**
 * redis-data-loss: every Redis killed and stopped, its files deleted, then
 * all started again; undo: the units are started (the data comes back only
 * by the repair, from MariaDB).
 */
export const redisDataLoss: SshFaultType = {
  check(ctx, _f, hosts) {
    for (const h of hosts) ctx.units.serviceUnit(h, 'redis');
  },

  async inject(ctx, f, hosts) {
    const { privilege, units, options: o } = ctx;
    // Every Redis empty before any starts again: none can resync from one still full.
    await ctx.onEach(f, 'inject', hosts, (h) => ctx.exec(h, 'stop Redis and delete its files', redisWipeScript(privilege, units.serviceUnit(h, 'redis'), o.redisDataPaths)));
    await ctx.onEach(f, 'inject', hosts, (h) => ctx.exec(h, 'start Redis', startUnitScript(privilege, units.serviceUnit(h, 'redis')), o.startTimeoutSeconds));
    return { emptied: hosts.map((h) => h.name), deleted: o.redisDataPaths };
  },

  async undo(ctx, f, hosts) {
    // Started in case the inject stopped half-way; the data comes back only by the repair.
    await ctx.onEach(f, 'undo', hosts, (h) => ctx.exec(h, 'start Redis', startUnitScript(ctx.privilege, ctx.units.serviceUnit(h, 'redis')), ctx.options.startTimeoutSeconds));
    return { note: 'Redis data is rebuilt from MariaDB by the repair, not by an undo' };
  },
};
