import { describe, expect, it } from 'vitest';
import { coverage, mapHotSet } from '../../../warmup/mysql/hotSet.js';
import { hitRate, parseLoadStatus, type PoolCounters } from '../../../drivers/mysql/bufferPool.js';

const page = (tablespace: string, n: number) => ({ tablespace, page: n });

describe('buffer-pool warm-up: what a peer\'s hot set means for this host', () => {
  const hot = [page('app/notification', 3), page('app/notification', 4), page('app/notification', 900), page('app/users', 1), page('app/gone', 7)];

  it('maps the peer\'s pages to this host\'s space ids by table name, and says what cannot be mapped', () => {
    const target = new Map([
      ['app/notification', { space: 41, pages: 800 }],
      ['app/users', { space: 12, pages: 10 }],
    ]);
    const m = mapHotSet(hot, target, [page('app/notification', 4)]);
    expect(m.pages).toEqual([{ space: 12, page: 1 }, { space: 41, page: 3 }]);
    expect(m.alreadyHeld).toBe(1);
    expect(m.pastEnd).toBe(1); // page 900 of a file of 800 pages: not a copy of the peer
    expect(m.noSuchTable).toBe(1);
    expect(m.missingTables).toEqual(['app/gone']);
  });

  it('measures the share of the hot set held, by tablespace and page', () => {
    expect(coverage(hot, [page('app/notification', 3), page('app/users', 1), page('app/users', 2)])).toEqual({ covered: 2, wanted: 5, fraction: 0.4 });
    expect(coverage([], []).fraction).toBe(1);
  });

  it('reads the loader\'s progress and a hit rate from counter deltas, not totals', () => {
    expect(parseLoadStatus('Loaded 120/2048 pages')).toEqual({ loaded: 120, wanted: 2048 });
    expect(parseLoadStatus('Buffer pool(s) load completed at 261201 19:40:00')).toBeUndefined();
    const c = (readRequests: number, diskReads: number): PoolCounters => ({ readRequests, diskReads, pagesData: 0, pagesTotal: 0, loadStatus: '' });
    // A cold pool's history does not count: 900 misses of 1000 before, 10 of 10,000 in the window.
    expect(hitRate(c(1000, 900), c(11_000, 910))).toBeCloseTo(0.999);
    expect(hitRate(c(1000, 900), c(1500, 901))).toBeUndefined();
  });
});
