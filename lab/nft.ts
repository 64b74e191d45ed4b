import { execa } from '../drivers/exec.js';

/**
 * The lab's blackhole: an nftables table of its own whose set holds the
 * addresses of powered-off hosts. Packets to or from them are dropped on the
 * output hook, so a connect hangs (as to a dark rack) instead of being refused,
 * and the killed processes' sockets cannot even say goodbye.
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

export async function tableExists(table: string): Promise<boolean> {
  try {
    await execa('nft', ['list', 'table', 'inet', table], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function ensureTable(table: string): Promise<void> {
  if (await tableExists(table)) return;
  await nft(`table inet ${table} {
  set blackholed { type ipv4_addr; }
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr @blackholed drop
    ip saddr @blackholed drop
  }
}
`);
}

export async function blackhole(table: string, addresses: string[]): Promise<void> {
  await ensureTable(table);
  await nft(`add element inet ${table} blackholed { ${addresses.join(', ')} }\n`);
}

export async function lift(table: string, addresses: string[]): Promise<void> {
  if (!(await tableExists(table))) return;
  const { stdout } = await execa('nft', ['list', 'set', 'inet', table, 'blackholed'], { timeout: 5000 });
  const present = addresses.filter((a) => new RegExp(`\\b${a.replace(/\./g, '\\.')}\\b`).test(stdout));
  if (present.length > 0) await nft(`delete element inet ${table} blackholed { ${present.join(', ')} }\n`);
}

export async function dropTable(table: string): Promise<void> {
  if (await tableExists(table)) await execa('nft', ['delete', 'table', 'inet', table], { timeout: 5000 });
}

/**
 * A network partition between two groups of lab addresses: packets from one
 * side to the other are dropped both ways (each lab service binds its source
 * to its own address, so the source names the host). One chain per table.
 */
export async function partition(table: string, sideA: string[], sideB: string[]): Promise<void> {
  await ensureTable(table);
  await heal(table);
  await nft(`table inet ${table} {
  set part_a { type ipv4_addr; elements = { ${sideA.join(', ')} } }
  set part_b { type ipv4_addr; elements = { ${sideB.join(', ')} } }
  chain partition {
    type filter hook output priority 1; policy accept;
    ip saddr @part_a ip daddr @part_b drop
    ip saddr @part_b ip daddr @part_a drop
  }
}
`);
}

/** Lifts a partition (nothing to do when there is none). */
export async function heal(table: string): Promise<void> {
  if (!(await tableExists(table))) return;
  const { stdout } = await execa('nft', ['list', 'table', 'inet', table], { timeout: 5000 });
  const parts = [/chain partition\b/.test(stdout) && 'delete chain inet TABLE partition', /set part_a\b/.test(stdout) && 'delete set inet TABLE part_a', /set part_b\b/.test(stdout) && 'delete set inet TABLE part_b'];
  const script = parts.filter(Boolean).map((l) => String(l).replace('TABLE', table)).join('\n');
  if (script) await nft(`${script}\n`);
}
