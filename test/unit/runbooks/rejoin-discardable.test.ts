import { describe, expect, it } from 'vitest';
import { rejoinDbParams } from '../../../runbooks/rejoinDb.js';

describe('rejoin-db: what a lost primary may have written that can be thrown away', () => {
  it("by default the heartbeat and the game days' read markers (a power loss leaves some unreplicated: rejoin-db refused db-1 over 8 of them after 57 game days in a row)", () => {
    expect(rejoinDbParams.parse({ host: 'db-1' }).discardable).toEqual(['gameday.heartbeat', 'gameday.read_markers']);
    expect(rejoinDbParams.parse({ host: 'db-1', discardable: '' }).discardable).toEqual([]);
  });
});
