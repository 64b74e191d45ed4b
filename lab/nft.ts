import { execa } from '../drivers/exec.js';

/**
 * The lab's network faults: one nftables table per lab in the bridge family,
 * which sees every frame the bridge passes between two host namespaces (and
 * none of the operator's own traffic, which the bridge delivers, not forwards).
 * Each fault is a chain of its own, named after the fault, so any number
 * compose and each undo removes only its own; removing what is gone is a no-op.
 */
export async function nftAvailable(): Promise<boolean> {
  try {
    await execa('nft', ['list', 'tables'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function nft(script: string): Promise<void> {
  await execa('nft', ['-f', '-'], { input: script, timeout: 5000 });
}

/** The lab's tables: `bridge` for the network faults' chains, `netdev` for the delay lines' guards (lab/linkDelay.ts). */
export type NftFamily = 'bridge' | 'netdev';

export async function listTable(table: string, family: NftFamily = 'bridge'): Promise<string | undefined> {
  const r = await execa('nft', ['list', 'table', family, table], { timeout: 5000, reject: false });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** A fault's chain name: nft names are letters, digits and "_". */
export function faultChain(faultId: string): string {
  return `fault_${faultId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** One direction of traffic a fault acts on: frames from any of `from` to any of `to`. */
export interface Flow {
  from: string[];
  to: string[];
}

const set = (addresses: string[]) => `{ ${addresses.join(', ')} }`;

/** The rule for one flow: every frame dropped, or each with probability `lossPercent`. */
export function flowRule(flow: Flow, lossPercent?: number): string {
  const match = `ip saddr ${set(flow.from)} ip daddr ${set(flow.to)}`;
  return lossPercent === undefined ? `${match} drop` : `${match} numgen random mod 100 < ${lossPercent} drop`;
}

/** Adds one fault's chain (replacing a chain of the same name, so a replayed inject does not double it). */
export async function addFaultChain(table: string, chain: string, rules: string[]): Promise<void> {
  await removeFaultChain(table, chain);
  await nft(`table bridge ${table} {
  chain ${chain} {
    type filter hook forward priority 0; policy accept;
${rules.map((r) => `    ${r}`).join('\n')}
  }
}
`);
}

/** Removes one fault's chain; nothing to do when it (or the table) is gone. */
export async function removeFaultChain(table: string, chain: string): Promise<void> {
  const listed = await listTable(table);
  if (listed && new RegExp(`chain ${chain} \\{`).test(listed)) await nft(`delete chain bridge ${table} ${chain}\n`);
}

export async function dropTable(table: string, family: NftFamily = 'bridge'): Promise<void> {
  if ((await listTable(table, family)) !== undefined) await execa('nft', ['delete', 'table', family, table], { timeout: 5000 });
}
