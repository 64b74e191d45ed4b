import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { lookupAccount } from '../../../lab/serviceAccounts.js';
import { mariadbPaths } from '../../../lab/configs/mariadb.js';
import { rootQuery, sharedLab } from '../helpers.js';
import { withRedis } from '../../../drivers/redis/readiness.js';

/** Runs a command as the unprivileged user nobody, as any local user could. */
const asNobody = (cmd: string, args: string[]) => execa('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args], { reject: false, timeout: 10_000 });

describe('the lab keeps other local users out of its MariaDB, Redis and Sentinel', () => {
  const lab = sharedLab();
  const db = lab.host('db-1');
  const paths = mariadbPaths(lab, db);

  it('refuses root without the lab\'s password over TCP, and the socket cannot be reached', async () => {
    const tcp = await asNobody('mariadb', ['-uroot', '-h', db.address, '-P', String(db.services.mysql), '-N', '-e', 'SELECT 1']);
    expect(tcp.exitCode).not.toBe(0);
    expect(tcp.stderr).toMatch(/Access denied for user 'root'/);
    const socket = await asNobody('mariadb', ['-uroot', '-S', paths.socket, '-N', '-e', 'SELECT 1']);
    expect(socket.exitCode).not.toBe(0);
    expect(socket.stderr).toMatch(/Can't connect|Permission denied/);
  });

  it('keeps the data, configs and state out of other users\' reach', async () => {
    expect(statSync(lab.hostDir('db-1')).mode & 0o077).toBe(0);
    // Services pass through the lab folder to their own; no one else may list or read it.
    expect(statSync(lab.dir).mode & 0o777).toBe(0o711);
    for (const dir of [lab.dir, join(lab.dir, 'hosts')]) expect((await asNobody('ls', [dir])).stderr, dir).toMatch(/Permission denied/);
    for (const file of [join(paths.datadir, 'ibdata1'), paths.cnf, lab.stateFile]) {
      const read = await asNobody('cat', [file]);
      expect(read.exitCode, file).not.toBe(0);
      expect(read.stderr).toMatch(/Permission denied/);
    }
  });

  it('writes no file through SQL outside its own folder, even as root', async () => {
    await expect(rootQuery(lab, 'db-1', "SELECT 'x' INTO OUTFILE '/tmp/gameday-outfile-probe'")).rejects.toThrow(/secure-file-priv/);
    const [row] = await rootQuery(lab, 'db-1', 'SELECT @@secure_file_priv AS dir, @@local_infile AS local');
    expect(row.dir).toBe(`${paths.files}/`);
    expect(Number(row.local)).toBe(0);
  });

  it('runs MariaDB, Redis, Sentinel and HAProxy as their packages\' accounts, so SQL writes no file as root', async () => {
    const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    const want = { mariadbd: 'mysql', redis: 'redis', sentinel: 'redis', haproxy: 'haproxy' } as Record<string, string>;
    const running = Object.entries(lab.state.processes).filter(([id]) => want[id.split('/')[1]]);
    expect(running.length).toBe(3 + 2 + 3 + 2);
    for (const [id, rec] of running) expect(uidOf(rec.pid), id).toBe(lookupAccount(want[id.split('/')[1]])!.uid);
    // Root over SQL still has FILE; what it writes belongs to mysql, in the one folder allowed.
    const probe = join(paths.files, `probe-${process.pid}`);
    await rootQuery(lab, 'db-1', `SELECT 'x' INTO OUTFILE '${probe}'`);
    expect(statSync(probe).uid).toBe(lookupAccount('mysql')!.uid);
    expect(statSync(lab.hostDir('proxy-1')).uid).toBe(lookupAccount('haproxy')!.uid);
    expect(statSync(join(lab.hostDir('proxy-1'), 'haproxy.sock')).mode & 0o777).toBe(0o660);
  });

  it('has no account without a password that can log in: the passwordless ones are locked (MariaDB\'s own, the heartbeat\'s definer)', async () => {
    // mysql.user shows no lock in 10.11; mysql.global_priv's JSON does.
    const passwordless = await rootQuery(lab, 'db-1', `SELECT CONCAT(u.user, '@', u.host) AS who, JSON_VALUE(g.Priv, '$.account_locked') AS locked
      FROM mysql.user u JOIN mysql.global_priv g ON g.User = u.user AND g.Host = u.host
      WHERE u.password = '' AND u.authentication_string = '' ORDER BY 1`);
    expect(passwordless.filter((r) => r.locked !== '1' && r.locked !== 'true').map((r) => r.who)).toEqual([]);
    const locked = passwordless.filter((r) => r.locked === '1' || r.locked === 'true');
    expect(locked.map((r) => r.who)).toEqual(['gameday_heartbeat@localhost', 'mariadb.sys@localhost']);
  });

  it('answers no Redis or Sentinel command without the password, and their files are out of reach', async () => {
    const redis = lab.host('redis-1');
    const sentinel = lab.host('sentinel-1');
    for (const [host, port, args] of [
      [redis.address, redis.services.redis, ['FLUSHALL']],
      [redis.address, redis.services.redis, ['GET', 'notif:{1}:unread']],
      [sentinel.address, sentinel.services.sentinel, ['SENTINEL', 'FAILOVER', 'notifications']],
    ] as const) {
      const r = await asNobody('redis-cli', ['-h', host, '-p', String(port), ...args]);
      expect(`${r.stdout}${r.stderr}`, args.join(' ')).toMatch(/NOAUTH|Authentication required/);
    }
    const conf = await asNobody('cat', [join(lab.hostDir('redis-1'), 'redis.conf')]);
    expect(conf.stderr).toMatch(/Permission denied/);
    // FLUSHALL did not reach the data, and Sentinel still names the same primary.
    expect(await withRedis(lab.redisEndpoint(redis), (r) => r.dbsize())).toBeGreaterThan(1000);
    expect(await withRedis(lab.redisEndpoint(sentinel), (r) => r.call('SENTINEL', 'get-master-addr-by-name', 'notifications'))).toEqual([redis.address, '6379']);
  });
});
