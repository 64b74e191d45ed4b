import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toNotification } from '../../../drivers/notificationStore.js';
import { payloadOf, REBUILD_USER_LUA, REBUILD_USER_SHA, splitRange } from '../../../warmup/redis/rebuild.js';
import { redisRebuildParams } from '../../../runbooks/redisRebuild.js';

describe('the Redis rebuild', () => {
  it('stores the payload byte for byte as the app does (JSON.stringify of the notification), whatever the text', () => {
    const created = new Date('2026-11-30T23:59:59.123Z');
    for (const [title, body, readAt] of [
      ['plain', 'a body', null],
      ['알림 お知らせ 🎉', 'line one\nline "two"\t\\ tab', new Date('2026-12-01T00:00:00.001Z')],
      ['', '</script><b>&amp;', null],
      ['\u2028 separators \u2029', '\u0000 nul and \u001f', new Date(0)],
    ] as const) {
      const row = [9_007_199_254_740, 42, title, body, created, readAt] as [number, number, string, string, Date, Date | null];
      const app = JSON.stringify(toNotification({ id: row[0], user_id: 42, title, body, created_at: created, read_at: readAt }));
      expect(payloadOf(row)).toBe(app);
    }
  });

  it('splits the users into whole, adjoining ranges that cover them all', () => {
    expect(splitRange({ from: 1, to: 10 }, 3)).toEqual([{ from: 1, to: 4 }, { from: 5, to: 8 }, { from: 9, to: 10 }]);
    expect(splitRange({ from: 7, to: 7 }, 20)).toEqual([{ from: 7, to: 7 }]);
    const parts = splitRange({ from: 1, to: 25_000 }, 20);
    expect(parts).toHaveLength(20);
    expect(parts.every((p, i) => i === 0 || p.from === parts[i - 1].to + 1)).toBe(true);
    expect(parts.at(-1)!.to).toBe(25_000);
  });

  it('calls the script by the sha1 Redis gives it', () => {
    expect(REBUILD_USER_SHA).toBe(createHash('sha1').update(REBUILD_USER_LUA).digest('hex'));
  });

  it('takes a rising range of users, a rate and a number of parts; refuses anything else', () => {
    expect(redisRebuildParams.parse({ users: '10-20', rate: '500' })).toMatchObject({ users: { from: 10, to: 20 }, rate: 500, parts: 20, verify: 'all' });
    for (const bad of [{ users: '20-10' }, { users: '0-10' }, { users: 'all' }, { rate: '-1' }, { parts: '0' }, { verify: 'sample' }]) {
      expect(redisRebuildParams.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
