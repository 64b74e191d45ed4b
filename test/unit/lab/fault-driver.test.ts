import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { GamedayError } from '../../../core/errors.js';
import type { ResolvedFault } from '../../../drivers/faults/types.js';
import { newLab } from '../../../lab/context.js';
import { labFaultDriver } from '../../../lab/faultDriver.js';

// No nft here, whatever the machine has: a partition must refuse before touching anything.
vi.mock('../../../lab/nft.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../../../lab/nft.js')>()), nftAvailable: async () => false }));

// A lab's state on disk and nothing running: both faults must fail before any process or rule is touched.
const scratch = mkdtempSync(join(tmpdir(), 'gameday-lab-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const dir = join(scratch, 'lab');
newLab(dir, 34).save();

const fault = (f: Partial<ResolvedFault> & Pick<ResolvedFault, 'type' | 'hosts'>): ResolvedFault => ({ id: 'f-1', label: f.hosts.join(', '), atMs: 0, ...f });

async function failure(p: Promise<unknown>): Promise<GamedayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GamedayError);
  return err as GamedayError;
}

describe('the lab fault driver refuses, as GamedayErrors, faults it cannot inject', () => {
  it('two latency faults on one host\'s link, before anything is touched (the second undo would take the first line out)', () => {
    const slow = (id: string, hosts: string[]) => fault({ id, type: 'latency', hosts, sides: [hosts, ['db-3']], delayMs: 100 });
    let e: unknown;
    try {
      labFaultDriver(dir).check!([slow('far', ['db-1', 'redis-1']), slow('farther', ['redis-1'])]);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(GamedayError);
    expect((e as GamedayError).message).toBe("latency faults far and farther both delay redis-1's link; the lab holds one delay line per host");
    expect(() => labFaultDriver(dir).check!([slow('far', ['db-1']), slow('other', ['redis-1'])])).not.toThrow();
  });

  it('a kill-process of a service the host does not run', async () => {
    const e = await failure(labFaultDriver(dir).inject(fault({ type: 'kill-process', hosts: ['db-1'], service: 'redis' })));
    expect(e.code).toBe('LAB_NO_SERVICE');
    expect(e.message).toBe('db-1 runs no service "redis" (it runs mysql, db-health)');
    expect(e.input).toBe('host db-1: services');
    expect(e.hint).toBeTruthy();
  });

  it('a partition without nftables', async () => {
    const e = await failure(labFaultDriver(dir).inject(fault({ type: 'partition', hosts: ['db-1', 'db-2'], sides: [['db-1'], ['db-2']] })));
    expect(e.code).toBe('LAB_NO_NFT');
    expect(e.message).toBe('a partition needs nftables (nft) and root');
    expect(e.hint).toBe('run as root, or leave this fault out');
  });
});
