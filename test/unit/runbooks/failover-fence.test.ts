import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labInventory } from '../../../lab/layout.js';
import type { Host } from '../../../topology/index.js';
import { requireRunbook } from '../../../runbooks/registry.js';
import type { ActionStep, StepContext } from '../../../engine/types.js';
import type { PowerDriver } from '../../../drivers/power/types.js';
import { GamedayError } from '../../../core/errors.js';

/*
 * failover-db's fence when a proxy's runtime API does not answer: proxy-1
 * answers (a fake runtime API on a unix socket), proxy-2 is silent. Silence
 * is not a fence: proxy-2 may still route writes to db-1.
 */
const inventory = labInventory(20);
const dir = mkdtempSync(join(tmpdir(), 'gameday-fence-'));
let proxy1: Server;
beforeAll(async () => {
  proxy1 = createServer((sock) => sock.once('data', () => sock.end('\n')));
  await new Promise<void>((resolve) => proxy1.listen(join(dir, 'proxy-1.sock'), () => resolve()));
});
afterAll(() => {
  proxy1.close();
  rmSync(dir, { recursive: true, force: true });
});

function fenceStep(): ActionStep {
  const { runbook } = requireRunbook('failover-db');
  const plan = { primary: 'db-1', primaryZone: 'az-a', replicas: ['db-2', 'db-3'], confirmedAt: new Date().toISOString(), evidence: [], inLab: false };
  return runbook.steps(plan, runbook.params.parse({})).find((s) => s.id === 'fence-old-primary') as ActionStep;
}

function contextWith(power: (host: Host) => Partial<PowerDriver>) {
  const fleet = { haproxyEndpoint: (proxy: Host) => join(dir, `${proxy.name}.sock`), power: (host: Host) => ({ kind: 'ssh', ...power(host) }) };
  return { inventory, env: { fleet }, results: {}, note: async () => undefined } as unknown as StepContext;
}

describe('failover-db fences without trusting silence', () => {
  it('refuses to go on (FENCE_UNPROVEN) when a silent proxy cannot be proved off and the old primary cannot be powered off (before: noted, and the promotion went ahead)', async () => {
    const err = await fenceStep().run(contextWith(() => ({}))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).code).toBe('FENCE_UNPROVEN');
    expect((err as GamedayError).message).toContain('proxy-2 (its power state is unknown) did not answer and may still send writes to db-1');
  });

  it('goes on when the silent proxy is powered off, as its power system says', async () => {
    const result = (await fenceStep().run(contextWith((h) => ({ powerState: async () => (h.name === 'proxy-2' ? 'off' : 'on') })))) as { proof: unknown; fenced: string[] };
    expect(result.fenced).toEqual(['proxy-1/db_write', 'proxy-1/db_read']);
    expect(result.proof).toEqual({ proxiesOff: ['proxy-2'], poweredOff: false });
  });

  it('powers the old primary off (STONITH) when the silent proxy has power, and goes on once it is off', async () => {
    let db1 = 'on' as 'on' | 'off';
    const result = (await fenceStep().run(
      contextWith((h) => ({
        powerState: async () => (h.name === 'db-1' ? db1 : 'on'),
        ...(h.name === 'db-1' ? { powerOff: async () => void (db1 = 'off') } : {}),
      })),
    )) as { proof: unknown };
    expect(db1).toBe('off');
    expect(result.proof).toEqual({ proxiesOff: [], poweredOff: true });
  });
});
