import { readOnlyOrigin, withConnection } from '../../drivers/mysql/readiness.js';
import { GamedayError } from '../../core/errors.js';
import type { ProbeStep } from '../../engine/types.js';
import { fleet, type FleetEnv } from './fleet.js';

/** What a db host's config says of read_only: it breaks the contract (`breaks`), or it cannot be told. */
export interface ContractWarning {
  host: string;
  breaks: boolean;
  reason: string;
}

const FIX = 'deploy deploy/mariadb/gameday-read-only.cnf (docs/boot-guards.md)';

/**
 * gameday's MariaDB contract: every server's config starts it read-only, so
 * a host that boots takes no write until gameday says so. Asked of each
 * server over SQL (where its read_only came from). One whose config breaks
 * the contract would come back writable, and its ready gate would then
 * refuse it, leaving it out of service.
 */
export async function readOnlyContractWarnings(f: FleetEnv, dbHosts: string[]): Promise<ContractWarning[]> {
  const warnings: ContractWarning[] = [];
  for (const host of dbHosts) {
    const origin = await withConnection(f.mysql, host, readOnlyOrigin).catch((e: Error) => e);
    if (origin instanceof Error) warnings.push({ host, breaks: false, reason: `whether its config starts it read-only is unknown (${origin.message})` });
    else if (origin === 'default-off') warnings.push({ host, breaks: true, reason: `read_only is not in its config: it boots writable; ${FIX}` });
    else if (origin === 'config-off') warnings.push({ host, breaks: true, reason: `its config sets read_only OFF: it boots writable; ${FIX}` });
    else if (origin === 'runtime') warnings.push({ host, breaks: false, reason: 'read_only was set since it started (a primary gameday made writable or handed off, or by hand): what its config says cannot be read over SQL' });
  }
  return warnings;
}

/** Before anything is done to a db host: refused when its config would boot it writable; noted when that cannot be told. */
export function readOnlyContractStep(id: string, host: string): ProbeStep {
  return {
    id,
    kind: 'probe',
    title: `check that ${host}'s config starts it read-only (gameday's contract)`,
    async run(ctx) {
      const [w] = await readOnlyContractWarnings(fleet(ctx.env), [host]);
      if (w?.breaks) throw new GamedayError('CONFIG_WRITABLE', `not rebooting ${host}: ${w.reason}`, host, 'fix its config, then resume the run');
      if (w) await ctx.note(`${host}: ${w.reason}`);
      return { readOnlyByConfig: !w };
    },
  };
}
