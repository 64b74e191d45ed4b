import { describe, expect, it, vi } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { labInventory } from '../../../lab/layout.js';
import { inject, type TimelineContext } from '../../../chaos/gameDay/timeline.js';
import type { FaultRecord } from '../../../chaos/record.js';

const inv = labInventory(20);

/** Admin connections to db hosts of which `writer` alone has read_only off; none replicates (enough for the primary's lookup). */
const fakeMysql = (writer: string) => async (host: string) =>
  ({ query: async (sql: string) => (sql.includes('read_only') ? [[{ ro: host === writer ? 0 : 1 }]] : [[]]), destroy() {} }) as unknown as Connection;

function ctx(writer: string, injectFault: () => Promise<void>): TimelineContext {
  return {
    env: { inventory: inv, faults: { inject: injectFault } as never, runResponse: vi.fn(), probes: { haproxyEndpoint: () => '/none', mysql: fakeMysql(writer) } },
    responses: [],
    journal: { write: vi.fn() } as never,
    runId: 'r1',
    latest: () => undefined,
    faultsFrom: 0,
    loadEnd: 0,
    signal: new AbortController().signal,
    progress: () => undefined,
  };
}

describe('a fault on the live primary, at injection', () => {
  const fault = (): FaultRecord => ({ id: 'loss', type: 'power-off', label: 'db-1 (the live primary of db)', hosts: ['db-1'], atMs: 0, livePrimaryOf: 'db' });

  it('is refused, and nothing injected, when the primary moved since the run started', async () => {
    const injectFault = vi.fn(async () => undefined);
    const f = fault();
    await expect(inject(ctx('db-2', injectFault), f)).rejects.toMatchObject({ code: 'PRIMARY_MOVED', message: expect.stringContaining('the live primary of db is now db-2; it was db-1 when the run started') });
    expect(injectFault).not.toHaveBeenCalled();
    expect(f.injectedAt).toBeUndefined();
  });

  it('is injected when it is still the primary', async () => {
    const injectFault = vi.fn(async () => undefined);
    await inject(ctx('db-1', injectFault), fault());
    expect(injectFault).toHaveBeenCalledOnce();
  });
});
