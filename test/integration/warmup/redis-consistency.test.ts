import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { applyNotification, keys, withNotificationCommands, type Notification } from '../../../drivers/notificationStore.js';
import { cli, sharedLab } from '../helpers.js';
import { slackReceiver } from '../../fixtures/runbooks/slackReceiver.js';

const stateDir = mkdtempSync(join(tmpdir(), 'gameday-consistency-'));
const env = () => ({ GAMEDAY_LAB_DIR: inject('labDir'), GAMEDAY_STATE_DIR: stateDir });

describe('Redis against MariaDB: the apply script, verify, repair, and the runbooks\' final check', () => {
  const lab = sharedLab();
  const primary = lab.host('redis-1');
  const replica = lab.host('redis-2');
  const redis = withNotificationCommands(new Redis({ ...lab.redisEndpoint(primary), maxRetriesPerRequest: 1 }));
  let receiver: Awaited<ReturnType<typeof slackReceiver>> | undefined;
  afterAll(async () => {
    redis.disconnect();
    await receiver?.close();
  });

  const notification = (id: number, readAt: string | null): Notification => ({ id, title: `t${id}`, body: 'b', createdAt: '2026-12-01T00:00:00.000Z', readAt });
  const stateOf = async (user: number) => ({
    ids: await redis.zrange(keys.ids(user), '0', '-1'),
    read: Object.values(await redis.hgetall(keys.data(user))).map((p) => (JSON.parse(p) as Notification).readAt !== null),
    unread: await redis.get(keys.unread(user)),
  });

  it('applies a notification idempotently: retries, and a create and mark-read in either order, end the same', async () => {
    const inOrder = 900_001;
    const reversed = 900_002;
    await redis.del(...[inOrder, reversed].flatMap((u) => [keys.ids(u), keys.data(u), keys.unread(u)]));
    // create, create again (a retry), mark read, mark read again
    expect(await applyNotification(redis, inOrder, notification(1, null))).toBe(true);
    expect(await applyNotification(redis, inOrder, notification(1, null))).toBe(false);
    expect(await applyNotification(redis, inOrder, notification(1, '2026-12-01T00:01:00.000Z'))).toBe(true);
    expect(await applyNotification(redis, inOrder, notification(1, '2026-12-01T00:01:00.000Z'))).toBe(false);
    // the mark-read lands first (the create was queued for repair), then the create
    await applyNotification(redis, reversed, notification(1, '2026-12-01T00:01:00.000Z'));
    expect(await applyNotification(redis, reversed, notification(1, null))).toBe(false);
    expect(await stateOf(inOrder)).toEqual({ ids: ['1'], read: [true], unread: '0' });
    expect(await stateOf(reversed)).toEqual({ ids: ['1'], read: [true], unread: null });
    await redis.del(...[inOrder, reversed].flatMap((u) => [keys.ids(u), keys.data(u), keys.unread(u)]));
  });

  it('is refused by a replica up front, so a demoted primary never applies it', async () => {
    const onReplica = withNotificationCommands(new Redis({ ...lab.redisEndpoint(replica), maxRetriesPerRequest: 0 }));
    try {
      await expect(applyNotification(onReplica, 900_003, notification(1, null))).rejects.toThrow(/READONLY/);
      expect(await onReplica.exists(keys.data(900_003))).toBe(0);
    } finally {
      onReplica.disconnect();
    }
  });

  it('finds each kind of divergence, names the users and the repair, and repairs exactly them', async () => {
    const ids = async (u: number) => redis.zrange(keys.ids(u), '0', '-1');
    const [a] = await ids(31);
    await redis.hdel(keys.data(31), a); // missing
    const [b] = await ids(32);
    const flipped = JSON.parse((await redis.hget(keys.data(32), b))!) as Notification;
    await redis.hset(keys.data(32), b, JSON.stringify({ ...flipped, readAt: flipped.readAt ? null : '2026-12-01T00:00:00.000Z' })); // read state
    await redis.incrby(keys.unread(33), 5); // counter
    await redis.zadd(keys.ids(34), 1, '999999999'); // extra
    const [c] = await ids(35);
    await redis.zadd(keys.ids(35), 1, c); // order

    const found = await cli(['warmup', 'redis', 'verify', '--users', '30-36'], env());
    expect(found.exitCode, found.stderr).toBe(1);
    expect(found.stdout).toContain('Redis disagrees with MariaDB for 5 users');
    for (const kind of ['missing 1', 'extra 1', 'readState 1', 'order 1', 'counter']) expect(found.stdout).toContain(kind);
    expect(found.stdout).toMatch(/gameday warmup redis verify --users [\d,]+ --repair/);

    const json = JSON.parse((await cli(['warmup', 'redis', 'verify', '--users', '30-36', '--json'], env())).stdout);
    expect(json.users.map((u: { userId: number }) => u.userId).sort()).toEqual([31, 32, 33, 34, 35]);

    const repaired = await cli(['warmup', 'redis', 'verify', '--users', '30-36', '--repair'], env());
    expect(repaired.exitCode, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('repaired 5 users');
    const again = await cli(['warmup', 'redis', 'verify', '--all'], env());
    expect(again.exitCode, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/Redis agrees with MariaDB: 5000 users, \d+ notifications/);
  });

  it('rejects a bad user list with one clear error', async () => {
    const r = await cli(['warmup', 'redis', 'verify', '--users', '5-2'], env());
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--users: "5-2" is not a user id or a rising range of them');
  });

  it('fails recover-host when Redis disagrees with MariaDB, says how to repair, and tells Slack', async () => {
    receiver = await slackReceiver();
    await redis.incrby(keys.unread(44), 3);

    const run = await cli(['runbook', 'run', 'recover-host', '--host', 'app-3', '--ramp', '100', '--ramp-hold', '1s', '--verify', 'all', '--slack-webhook', receiver.url], env());
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain('Redis disagrees with MariaDB for 1 users (counter 1)');
    expect(run.stdout).toContain('gameday warmup redis verify --users 44 --repair');
    expect(receiver.texts().some((m) => m.includes('verify-notifications') && m.includes('Redis disagrees with MariaDB'))).toBe(true);

    expect((await cli(['warmup', 'redis', 'verify', '--users', '44', '--repair'], env())).exitCode).toBe(0);
    const clean = await cli(['runbook', 'run', 'recover-host', '--host', 'app-3', '--ramp', '100', '--ramp-hold', '1s'], env());
    expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/Redis agrees with MariaDB: \d+ users/);
  }, 120_000);
});
