import { describe, expect, it } from 'vitest';
import { GamedayError } from '../../../core/errors.js';
import {
  compareGtidPositions,
  covers,
  errantCount,
  errantGtids,
  formatErrant,
  formatGtidPosition,
  mostAdvanced,
  parseGtidPosition,
  resumePoint,
  seqIn,
} from '../../../drivers/mysql/gtid.js';

const pos = (text: string) => parseGtidPosition(text);

function thrown(fn: () => unknown): GamedayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GamedayError);
    return err as GamedayError;
  }
  throw new Error('expected a GamedayError');
}

describe('parseGtidPosition', () => {
  it('reads one GTID per domain, sorted by domain, whatever the spacing', () => {
    expect(pos('1-2-5, 0-1-100')).toEqual([
      { domain: 0, server: 1, seq: 100 },
      { domain: 1, server: 2, seq: 5 },
    ]);
    expect(formatGtidPosition(pos(' 1-2-5,0-1-100 '))).toBe('0-1-100,1-2-5');
  });

  it('reads an empty position (a server that never wrote or applied anything)', () => {
    expect(pos('')).toEqual([]);
    expect(pos('  ')).toEqual([]);
    expect(formatGtidPosition(pos(''))).toBe('');
  });

  it('refuses malformed input with a message naming the input', () => {
    for (const bad of ['0-1', '0-1-x', 'a-b-c', '0-1-2-3', '0_1_2', '-1-2', '0-1-100;1-2-5', ',', '0-1-100,,garbage']) {
      const err = thrown(() => parseGtidPosition(bad, '--promoted-at-gtid'));
      expect(err.code).toBe('BAD_GTID');
      expect(err.input).toBe('--promoted-at-gtid');
    }
    expect(thrown(() => parseGtidPosition('0-1-x')).message).toBe('"0-1-x" is not a GTID');
  });

  it('refuses two GTIDs of one domain: that is a binlog state, not a position', () => {
    const err = thrown(() => parseGtidPosition('0-1-100,0-2-101'));
    expect(err.message).toBe('domain 0 appears twice in "0-1-100,0-2-101"');
    expect(err.hint).toContain('gtid_binlog_state');
  });

  it('refuses numbers past what it can compare exactly', () => {
    expect(thrown(() => parseGtidPosition('0-1-99999999999999999999')).message).toContain('too large');
  });
});

describe('comparing positions', () => {
  it('compares per domain by sequence number, whichever server wrote it', () => {
    expect(compareGtidPositions(pos('0-2-101'), pos('0-1-100'))).toBe('ahead');
    expect(compareGtidPositions(pos('0-1-100'), pos('0-2-101'))).toBe('behind');
    expect(compareGtidPositions(pos('0-1-100'), pos('0-1-100'))).toBe('equal');
  });

  it('a missing domain is an empty one', () => {
    expect(seqIn(pos('0-1-5'), 1)).toBe(0);
    expect(compareGtidPositions(pos('0-1-5,1-2-3'), pos('0-1-5'))).toBe('ahead');
    expect(compareGtidPositions(pos(''), pos('0-1-5'))).toBe('behind');
    expect(compareGtidPositions(pos(''), pos(''))).toBe('equal');
    expect(covers(pos('0-1-5'), pos(''))).toBe(true);
  });

  it('ahead in one domain and behind in another is diverged', () => {
    expect(compareGtidPositions(pos('0-1-10,1-2-3'), pos('0-1-9,1-2-4'))).toBe('diverged');
  });
});

describe('mostAdvanced', () => {
  it('picks the replica with the highest sequence', () => {
    const r = mostAdvanced([
      { name: 'db-2', position: pos('0-1-90') },
      { name: 'db-3', position: pos('0-1-100') },
    ]);
    expect(r).toEqual({ chosen: 'db-3', tiedWith: [], behind: ['db-2'] });
  });

  it('breaks a tie by the order given (the caller puts its preference first)', () => {
    const c = [
      { name: 'db-3', position: pos('0-1-100') },
      { name: 'db-2', position: pos('0-1-100') },
      { name: 'db-4', position: pos('0-1-99') },
    ];
    expect(mostAdvanced(c)).toEqual({ chosen: 'db-3', tiedWith: ['db-2'], behind: ['db-4'] });
    expect(mostAdvanced([c[1], c[0], c[2]]).chosen).toBe('db-2');
  });

  it('with several domains, needs a replica that has every domain at its highest', () => {
    const r = mostAdvanced([
      { name: 'db-2', position: pos('0-1-100,1-4-7') },
      { name: 'db-3', position: pos('0-1-100,1-4-9') },
      { name: 'db-4', position: pos('0-1-100') },
    ]);
    expect(r).toEqual({ chosen: 'db-3', tiedWith: [], behind: ['db-2', 'db-4'] });
  });

  it('a replica that applied nothing loses to any other, and alone is still chosen', () => {
    expect(mostAdvanced([{ name: 'db-2', position: pos('') }, { name: 'db-3', position: pos('0-1-1') }]).chosen).toBe('db-3');
    expect(mostAdvanced([{ name: 'db-2', position: pos('') }])).toEqual({ chosen: 'db-2', tiedWith: [], behind: [] });
  });

  it('refuses to choose between replicas that each have transactions the others lack', () => {
    const err = thrown(() =>
      mostAdvanced([
        { name: 'db-2', position: pos('0-1-100,1-4-7') },
        { name: 'db-3', position: pos('0-1-99,1-4-9') },
      ]),
    );
    expect(err.code).toBe('GTID_DIVERGED');
    expect(err.message).toBe('no replica has every transaction of the others: db-2 at 0-1-100,1-4-7, db-3 at 0-1-99,1-4-9');
    expect(err.hint).toContain('--candidate');
  });

  it('refuses an empty list', () => {
    expect(thrown(() => mostAdvanced([])).code).toBe('NO_CANDIDATE');
  });
});

describe('errantGtids', () => {
  it('is empty when the host has nothing past the promotion point', () => {
    expect(errantGtids(pos('0-1-100'), pos('0-1-100'))).toEqual([]);
    expect(errantGtids(pos('0-1-90'), pos('0-1-100'))).toEqual([]);
    expect(errantGtids(pos(''), pos('0-1-100'))).toEqual([]);
  });

  it('finds what the old primary wrote that the promoted replica never received', () => {
    const r = errantGtids(pos('0-1-104'), pos('0-1-100'));
    expect(r).toEqual([{ domain: 0, server: 1, firstSeq: 101, lastSeq: 104 }]);
    expect(errantCount(r)).toBe(4);
    expect(formatErrant(r)).toBe('0-1-101..0-1-104 (4 transactions)');
    expect(formatErrant(errantGtids(pos('0-1-101'), pos('0-1-100')))).toBe('0-1-101 (1 transaction)');
  });

  it('compares with the position at promotion, not the new primary\'s later one', () => {
    // The new primary went on to 0-2-500: compared with that, the old primary's 0-1-104 would look included.
    expect(errantGtids(pos('0-1-104'), pos('0-2-500'))).toEqual([]);
    expect(errantGtids(pos('0-1-104'), pos('0-1-100'))).toHaveLength(1);
  });

  it('looks at every domain; a domain the new primary never had is errant whole', () => {
    const r = errantGtids(pos('0-1-100,1-1-7,2-1-3'), pos('0-1-100,1-3-5'));
    expect(r).toEqual([
      { domain: 1, server: 1, firstSeq: 6, lastSeq: 7 },
      { domain: 2, server: 1, firstSeq: 1, lastSeq: 3 },
    ]);
    expect(errantCount(r)).toBe(5);
  });
});

describe('resumePoint', () => {
  it('is the host\'s own position when it has nothing errant', () => {
    expect(formatGtidPosition(resumePoint(pos('0-1-90'), pos('0-1-100')))).toBe('0-1-90');
  });

  it('goes back to the promotion point where the host was ahead (its errant ones discarded)', () => {
    expect(formatGtidPosition(resumePoint(pos('0-1-104,1-2-5'), pos('0-1-100,1-2-9')))).toBe('0-1-100,1-2-5');
  });

  it('leaves out a domain only the host had', () => {
    expect(formatGtidPosition(resumePoint(pos('0-1-100,3-1-2'), pos('0-1-100')))).toBe('0-1-100');
  });
});
