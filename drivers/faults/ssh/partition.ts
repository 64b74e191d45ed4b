import { isIP } from 'node:net';
import type { Host } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { dropTableCommand, partitionScript } from '../sshScripts.js';
import type { SshFaultContext, SshFaultType } from './context.js';

/**
 * partition: on every host of each side, a table dropping packets from and
 * to the other side's addresses; undo: the tables go. nft matches IP
 * addresses, so every host needs one, or a DNS name the controller resolves.
 */
export const partition: SshFaultType = {
  hostNames: (f) => (f.sides ? [...f.sides[0], ...f.sides[1]] : f.hosts),

  check(_ctx, f, hosts) {
    if (!f.sides) throw new GamedayError('FAULT_INVALID', 'a partition fault has no sides', `fault ${f.id}`);
    for (const h of hosts) partitionAddress(h);
  },

  async inject(ctx, f, hosts) {
    const t = ctx.table(f);
    const [a, b] = f.sides!.map((side) => side.map((n) => ctx.hostOf(n, f)));
    const [addrA, addrB] = await Promise.all([addressesOf(ctx, a!), addressesOf(ctx, b!)]);
    const peersOf = new Map<string, string[]>([...a!.map((h) => [h.name, addrB!] as const), ...b!.map((h) => [h.name, addrA!] as const)]);
    await ctx.onEach(f, 'inject', hosts, (h) => ctx.exec(h, 'partition', partitionScript(ctx.privilege, t, peersOf.get(h.name)!)));
    return { table: t, between: [addrA, addrB] };
  },

  async undo(ctx, f, hosts) {
    const t = ctx.table(f);
    await ctx.onEach(f, 'undo', hosts, (h) => ctx.exec(h, 'heal the partition', dropTableCommand(ctx.privilege, t)));
    return { table: t, healed: true };
  },
};

function partitionAddress(host: Host): void {
  const a = host.address;
  if (a.includes('%') || a.startsWith('asg/')) {
    throw new GamedayError('FAULT_BAD_ADDRESS', `a partition needs the host's IP address or DNS name, not ${JSON.stringify(a)}`, `host ${host.name}: address`, 'give the address the other hosts reach it at');
  }
}

/** The IP addresses of a side: its hosts' own, or what their names resolve to here. */
async function addressesOf(ctx: SshFaultContext, hosts: Host[]): Promise<string[]> {
  const out: string[] = [];
  for (const h of hosts) {
    if (isIP(h.address)) {
      out.push(h.address);
      continue;
    }
    let found: string[];
    try {
      found = await ctx.resolveName(h.address);
    } catch (err) {
      throw new GamedayError('FAULT_BAD_ADDRESS', `cannot resolve ${h.address}: ${(err as Error).message}`, `host ${h.name}: address`, 'a partition matches IP addresses: give the host\'s IP address, or a name this machine resolves');
    }
    const ips = found.filter((a) => isIP(a) && !a.includes('%'));
    if (ips.length === 0) throw new GamedayError('FAULT_BAD_ADDRESS', `${h.address} resolves to no IP address`, `host ${h.name}: address`);
    out.push(...ips);
  }
  return [...new Set(out)];
}
