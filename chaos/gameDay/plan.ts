import type { Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import type { FaultDriver, ResolvedFault } from '../../drivers/faults/types.js';
import type { LoadedScenario } from '../scenario/load.js';
import { resolveFaults, type LivePrimaries } from '../faults/resolve.js';
import { preflight } from '../preflight.js';
import type { Preflight } from '../report/types.js';

/** The plan of a game day, before anything is touched: the faults resolved (`{ primary }` targets against `live`, when given) and their blast radius. */
export function planGameDay(inv: Inventory, loaded: LoadedScenario, driver: Pick<FaultDriver, 'supports' | 'kind' | 'check'> | undefined, pick?: (n: number) => number, live?: LivePrimaries): { faults: ResolvedFault[]; preflight: Omit<Preflight, 'steadyState'> } {
  const { scenario, file } = loaded;
  let faults: ResolvedFault[];
  try {
    faults = resolveFaults(inv, scenario.faults, pick, live);
  } catch (err) {
    if (err instanceof GamedayError) throw new GamedayError(err.code, err.message, `${file}: ${err.input}`, err.hint);
    throw err;
  }
  if (driver) {
    const unsupported = faults.filter((f) => !driver.supports.includes(f.type));
    if (unsupported.length) {
      throw new GamedayError('FAULT_UNSUPPORTED', `the ${driver.kind} fault driver cannot inject ${[...new Set(unsupported.map((f) => f.type))].join(', ')}`, file, `it supports: ${driver.supports.join(', ')}`);
    }
    driver.check?.(faults);
  }
  const dbFailoverAfter = new Set(scenario.responses.filter((r) => r.runbook === 'failover-db' && r.on === 'detected').map((r) => r.after));
  return { faults, preflight: preflight(inv, faults, scenario.load.duration, scenario.expect === 'breaks', dbFailoverAfter) };
}

/** Refuses, with the blast radius, a scenario that breaks a tier or pool without saying it expects to. */
export function assertPreflight(p: Omit<Preflight, 'steadyState'>, file: string): void {
  if (p.safe || p.expectBreaks) return;
  const breaking = p.faults.flatMap((f) => f.blastRadius.filter((b) => !b.ok).map((b) => `${f.target}: ${b.what}`));
  throw new GamedayError('PREFLIGHT_REFUSED', `these faults would break the fleet: ${breaking.join('; ')}; nothing was touched`, file, 'add "expect: breaks" to the scenario if that is what it is for, or pick a smaller target');
}
