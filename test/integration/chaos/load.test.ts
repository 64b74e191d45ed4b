import { describe, expect, it } from 'vitest';
import { runLoad } from '../../../chaos/load/vegeta.js';
import { GamedayError } from '../../../core/errors.js';
import { sharedLab } from '../helpers.js';

describe('smoke load with vegeta through both proxies', () => {
  const lab = sharedLab();
  const mix = { count: 300, users: lab.state.seed.users, notificationsPerUser: lab.state.seed.notificationsPerUser, createPercent: 10, markReadPercent: 10 };

  it('serves a mixed load with no failed request, split by kind', async () => {
    const summary = await runLoad({
      mix,
      frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })),
      ratePerS: 40,
      durationS: 3,
    });
    expect(summary.requests).toBe(120);
    expect(summary.successRatio).toBe(1);
    expect(Object.keys(summary.byKind).sort()).toEqual(['create', 'mark-read', 'read']);
    expect(summary.byKind.read!.requests).toBeGreaterThan(summary.byKind.create!.requests);
  });

  it('never sends load outside loopback', async () => {
    await expect(runLoad({ mix, frontends: [{ address: '10.1.2.3', port: 80 }], ratePerS: 1, durationS: 1 })).rejects.toThrow(GamedayError);
  });
});
