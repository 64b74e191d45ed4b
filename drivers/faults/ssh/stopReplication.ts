import { GamedayError } from '../../../core/errors.js';
import { startReplicationScript, stopReplicationCommand } from '../sshScripts.js';
import type { SshFaultType } from './context.js';

/**
 * stop-replication: `mariadb -e 'STOP SLAVE SQL_THREAD'` (or IO_THREAD);
 * undo: START SLAVE, unless the server no longer replicates (promoted meanwhile).
 */
export const stopReplication: SshFaultType = {
  check(_ctx, _f, hosts) {
    for (const h of hosts) if (!('mysql' in h.services)) throw new GamedayError('FAULT_NO_SERVICE', `${h.name} runs no MariaDB`, `host ${h.name}: services`);
  },

  async inject(ctx, f, hosts) {
    const thread = f.thread ?? 'sql';
    await ctx.onEach(f, 'inject', hosts, (h) => ctx.exec(h, `stop the ${thread} thread`, stopReplicationCommand(ctx.privilege, ctx.options.mariadbCommand, thread)));
    return { stopped: `${thread} thread`, hosts: hosts.map((h) => h.name) };
  },

  async undo(ctx, f, hosts) {
    const thread = f.thread ?? 'sql';
    const out = await ctx.onEach(f, 'undo', hosts, (h) => ctx.exec(h, `start the ${thread} thread`, startReplicationScript(ctx.privilege, ctx.options.mariadbCommand, thread)));
    // The script prints "started" when it started the thread, "not a replica" when the server no longer replicates.
    return { thread, hosts: Object.fromEntries(hosts.map((h, i) => [h.name, out[i]!.stdout.trim() === 'started' ? 'started' : 'not a replica any more: left as it is'])) };
  },
};
