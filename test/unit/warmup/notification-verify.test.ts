import { describe, expect, it } from 'vitest';
import { compareUser, describeVerify } from '../../../warmup/redis/verify.js';
import { parseUserList } from '../../../cli/warmupCommand.js';
import { withReplicaOf } from '../../../drivers/redis/bootGuard.js';
import type { Notification } from '../../../drivers/notificationStore.js';

const n = (id: number, readAt: string | null = null): Notification => ({ id, title: `t${id}`, body: 'b', createdAt: `2026-12-01T00:00:0${id}.000Z`, readAt });
const viewOf = (list: Notification[], counter: number | null) => ({
  scores: new Map(list.map((x) => [String(x.id), Date.parse(x.createdAt)])),
  payloads: new Map(list.map((x) => [String(x.id), JSON.stringify(x)])),
  counter,
});

describe('comparing one user\'s Redis data with MariaDB', () => {
  const truth = [n(1), n(2, '2026-12-01T01:00:00.000Z'), n(3)];

  it('agrees when ids, payloads, scores and the unread counter match', () => {
    expect(compareUser(7, truth, viewOf(truth, 2))).toBeUndefined();
  });

  it('names each kind of mismatch with an example', () => {
    const view = viewOf([n(1, '2026-12-01T02:00:00.000Z'), n(2, '2026-12-01T01:00:00.000Z'), n(9)], 5);
    view.scores.set('2', 0);
    expect(compareUser(7, truth, view)).toEqual({
      userId: 7,
      counts: { readState: 1, order: 1, missing: 1, extra: 1, counter: 1 },
      examples: { readState: [1], order: [2], missing: [3], extra: ['9'], counter: ['5 instead of 2'] },
    });
  });

  it('counts a payload present without its id in the sorted set as missing, and a changed title as payload', () => {
    const view = viewOf([{ ...n(1), title: 'other' }, n(3)], 2);
    view.scores.delete('3');
    expect(compareUser(7, truth, view)?.counts).toEqual({ payload: 1, missing: 2 });
  });

  it('treats an absent counter as zero', () => {
    expect(compareUser(7, [n(1, '2026-12-01T01:00:00.000Z')], viewOf([n(1, '2026-12-01T01:00:00.000Z')], null))).toBeUndefined();
  });

  it('says in one line what disagrees', () => {
    const line = describeVerify({ usersChecked: 10, notificationsChecked: 40, usersMismatched: 1, durationMs: 1200, mismatches: { missing: 2, extra: 0, readState: 0, payload: 0, order: 0, counter: 1 }, users: [{ userId: 4, counts: { missing: 2, counter: 1 }, examples: {} }] });
    expect(line).toBe('Redis disagrees with MariaDB for 1 users (missing 2, counter 1); 10 users, 40 notifications checked in 1.2 s; e.g. user 4 (missing 2, counter 1)');
  });
});

describe('--users lists', () => {
  it('takes ids and rising ranges', () => {
    expect(parseUserList('3,1-2, 7')).toEqual([1, 2, 3, 7]);
  });
  it.each(['', 'x', '5-2', '0', '1-', '-3', '1.5'])('refuses %j with the flag named', (text) => {
    expect(() => parseUserList(text)).toThrow(/is not a user id or a rising range/);
  });
});

describe('a restarting Redis\'s config', () => {
  const conf = 'port 6379\nreplicaof 198.18.20.21 6379\nappendonly yes\n';
  it('follows the primary the Sentinels name', () => {
    expect(withReplicaOf(conf, { host: '198.18.20.121', port: 6379 })).toBe('port 6379\nappendonly yes\n\nreplicaof 198.18.20.121 6379');
  });
  it('has no replicaof line when it is the primary itself', () => {
    expect(withReplicaOf(conf, undefined)).toBe('port 6379\nappendonly yes\n');
  });
});
