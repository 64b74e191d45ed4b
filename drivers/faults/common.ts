import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import type { FaultDriver, ResolvedFault } from './types.js';

/**
 * A fault driver that can also say, before anything is touched, whether it
 * can inject a list of faults on this fleet (a host without an instance id,
 * a service without a systemd unit, an address nft cannot match). `inject`
 * runs the same check on its fault first, so bad input never half-injects.
 */
export interface CheckedFaultDriver extends FaultDriver {
  /** Throws a GamedayError naming the host and what is missing; returns when every fault can be injected. */
  check(faults: readonly ResolvedFault[]): void;
}

export function assertSupported(driver: Pick<FaultDriver, 'kind' | 'supports'>, f: ResolvedFault): void {
  if (driver.supports.includes(f.type)) return;
  throw new GamedayError(
    'FAULT_UNSUPPORTED',
    `the ${driver.kind} fault driver cannot inject ${f.type} (${f.label})`,
    `fault ${f.id}`,
    `it supports: ${driver.supports.join(', ') || 'nothing'}`,
  );
}

/** The inventory's hosts by name; an unknown name is a GamedayError (a journal replayed against another inventory). */
export function hostLookup(inv: Inventory): (name: string, f: ResolvedFault) => Host {
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  return (name, f) => {
    const h = byName.get(name);
    if (h) return h;
    throw new GamedayError(
      'FAULT_UNKNOWN_HOST',
      `fault ${f.type} ${f.label} names host ${name}, which inventory ${inv.name} does not have`,
      `fault ${f.id}`,
      'run (or abort) the game day with the inventory it was planned on',
    );
  };
}

/** The nft table of one fault: gameday's prefix and the fault id ("rack-loss" → gameday_fault_rack_loss). */
export function faultTable(prefix: string, faultId: string): string {
  const slug = faultId.toLowerCase().replace(/[^a-z0-9]/g, '_');
  return `${prefix}_${slug}`;
}

/** Runs `fn` on every item, at most `limit` at a time, and waits for all of them (a failure does not stop the others). */
export async function settleAll<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The values of settled per-host (or per-region) work, or one error: the
 * failure itself when only one failed, else a GamedayError listing each.
 */
export function valuesOrThrow<R>(what: string, names: readonly string[], settled: readonly PromiseSettledResult<R>[], input: string): R[] {
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ name: names[i]!, err: s.reason as unknown }] : []));
  if (failed.length === 0) return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
  if (failed.length === 1 && failed[0]!.err instanceof GamedayError) throw failed[0]!.err;
  const text = (e: unknown) => (e instanceof GamedayError ? e.message : e instanceof Error ? e.message : String(e));
  const hint = failed.map((f) => f.err).find((e): e is GamedayError => e instanceof GamedayError && e.hint !== undefined)?.hint;
  throw new GamedayError(
    'FAULT_FAILED',
    `${what} failed on ${failed.length} of ${names.length}: ${failed.map((f) => `${f.name}: ${text(f.err)}`).join('; ')}`,
    input,
    hint,
  );
}
