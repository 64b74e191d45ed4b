import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setServerState, showServers } from '../../../drivers/haproxy/runtime.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { mariadbPaths } from '../../../lab/configs/mariadb.js';
import { rootConnection } from '../../../lab/bootstrap.js';
import { powerOff, powerOn } from '../../../lab/power.js';
import { poolPages } from '../../../drivers/mysql/bufferPool.js';
import { coverage } from '../../../warmup/mysql/hotSet.js';
import { cli, rootQuery, sharedLab, waitFor } from '../helpers.js';

describe('warmup mysql: a replica back from a power loss, cold, warmed from a peer before it serves', () => {
  const lab = sharedLab();
  const stateDir = mkdtempSync(join(tmpdir(), 'gameday-warmup-'));
  const proxies = lab.hostsOf('proxy');
  const pagesOf = async (host: string) => {
    const conn = await rootConnection(lab, lab.host(host));
    try {
      return await poolPages(conn);
    } finally {
      await conn.end();
    }
  };
  /** Statements on one server only, kept out of its binlog (so out of replication and GTIDs). */
  const aroundBinlog = async (host: string, statements: string[]) => {
    const conn = await rootConnection(lab, lab.host(host));
    try {
      await conn.query('SET SESSION sql_log_bin = 0');
      for (const sql of statements) await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  const setDb3 = (state: 'maint' | 'ready') => Promise.all(proxies.map((p) => setServerState(haproxyPaths(lab, p).socket, 'db_read', 'db-3', state)));

  afterAll(async () => {
    await aroundBinlog('db-2', ['DROP TABLE IF EXISTS gameday.warm_probe']).catch(() => undefined);
    await setDb3('ready');
    await waitFor('db-3 back in the read pools', async () =>
      (await Promise.all(proxies.map(async (p) => (await showServers(haproxyPaths(lab, p).socket)).find((s) => s.backend === 'db_read' && s.server === 'db-3')?.status === 'UP'))).every(Boolean), 60_000);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('takes a cold, fenced replica to 95 % of its peer\'s hot pages, with progress, and writes nothing to its binlog', async () => {
    // The peer serves reads: its pool holds most of the notification table.
    await rootQuery(lab, 'db-2', 'SELECT COUNT(*), SUM(LENGTH(body)) FROM notifications.notifications');
    await setDb3('maint');
    await powerOff(lab, 'db-3');
    rmSync(join(mariadbPaths(lab, lab.host('db-3')).datadir, 'ib_buffer_pool'), { force: true }); // no dump of its own: a power loss long after the last one
    await powerOn(lab, 'db-3');
    const cold = coverage(await pagesOf('db-2'), await pagesOf('db-3'));
    expect(cold.fraction).toBeLessThan(0.5);

    const run = await cli(['warmup', 'mysql', 'db-3', '--from', 'db-2', '--lab-dir', lab.dir, '--state-dir', stateDir, '--yes']);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/db-3 holds \d+\.\d % \(\d+ of \d+ pages\) of db-2's hot pages before the warm-up/);
    expect(run.stderr).toMatch(/\d+ pages to load, \d+ held already/); // progress as it goes
    expect(run.stdout).toMatch(/loaded \d+ pages at \d+ pages\/s: db-3 now holds (9[5-9]|100)\.\d %/);
    expect(run.stdout).toMatch(/warm: db-3 holds/);

    const warm = coverage(await pagesOf('db-2'), await pagesOf('db-3'));
    expect(warm.fraction).toBeGreaterThanOrEqual(0.95);
    // No errant transaction on the replica: its binlog holds only what it replicated, none of its own server id.
    const [after] = await rootQuery(lab, 'db-3', 'SELECT @@gtid_binlog_pos AS pos, @@server_id AS id');
    expect(String(after.pos).split(',').filter((g) => g.split('-')[1] === String(after.id))).toEqual([]);
  });

  it('says which pages cannot be mapped, and fails its gate when the share stays short', async () => {
    // A table only the peer has (written around its binlog): its pages have no place on db-3.
    await aroundBinlog('db-2', ['CREATE TABLE gameday.warm_probe (id INT PRIMARY KEY, pad CHAR(255)) ENGINE=InnoDB', "INSERT INTO gameday.warm_probe SELECT seq, REPEAT('x', 255) FROM gameday.seq_1_to_20000"]);
    const run = await cli(['warmup', 'mysql', 'db-3', '--from', 'db-2', '--goal', '100', '--scans', 'off', '--hit-window', '1s', '--lab-dir', lab.dir, '--state-dir', stateDir, '--yes']);
    expect(run.exitCode, run.stdout).toBe(1);
    expect(run.stderr).toMatch(/\d+ cannot be mapped \(\d+ of tables db-3 lacks: gameday\/warm_probe/);
    expect(`${run.stdout}${run.stderr}`).toMatch(/WARMUP_SHORT|short of 100 %/);
    await aroundBinlog('db-2', ['DROP TABLE gameday.warm_probe']); // the tests after this one warm from db-2 as it was
  });

  it('refuses what is not a db host, and a goal out of range, before anything acts', async () => {
    const notDb = await cli(['warmup', 'mysql', 'app-1', '--lab-dir', lab.dir, '--state-dir', stateDir, '--yes']);
    expect(notDb.exitCode).toBe(2);
    expect(notDb.stderr).toMatch(/app-1 runs no MariaDB/);
    const badGoal = await cli(['warmup', 'mysql', 'db-3', '--goal', '150', '--lab-dir', lab.dir, '--state-dir', stateDir, '--yes']);
    expect(badGoal.exitCode).toBe(2);
    expect(badGoal.stderr).toMatch(/goal/);
  });

  it('dumps every db host\'s buffer pool on demand (the periodic job)', async () => {
    const run = await cli(['warmup', 'mysql-dump', '--lab-dir', lab.dir]);
    expect(run.exitCode, run.stdout).toBe(0);
    for (const h of ['db-1', 'db-2', 'db-3']) expect(run.stdout).toMatch(new RegExp(`${h}: Buffer pool\\(s\\) dump completed at`));
    const bad = await cli(['warmup', 'mysql-dump', '--hosts', 'app-1', '--lab-dir', lab.dir]);
    expect(bad.exitCode).toBe(2);
  });

  it('rebuilds a replica as a physical clone of the primary (mariadb-backup), which replicates on and warms like the others', async () => {
    const run = await cli(['lab', 'clone-replica', 'db-3', '--dir', lab.dir]);
    expect(run.exitCode, run.stderr).toBe(0);
    const gtid = /replicating from GTID (\S+)/.exec(run.stdout)?.[1];
    expect(run.stdout).toMatch(/db-3 is a physical copy of db-1/);
    // The same tablespaces as the primary, the same rows, and it follows the primary's new writes.
    const [[mine], [theirs]] = await Promise.all(['db-3', 'db-1'].map((h) => rootQuery(lab, h, 'CHECKSUM TABLE notifications.notifications')));
    expect(mine.Checksum).toBe(theirs.Checksum);
    const spaces = async (host: string) => (await rootQuery(lab, host, "SELECT NAME, SPACE FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = 'notifications/notifications'")).map((r) => `${r.NAME}:${r.SPACE}`);
    expect(await spaces('db-3')).toEqual(await spaces('db-1'));
    const [pos] = await rootQuery(lab, 'db-1', 'SELECT @@gtid_binlog_pos AS pos');
    const [waited] = await rootQuery(lab, 'db-3', 'SELECT MASTER_GTID_WAIT(?, 20) AS r', [pos.pos]);
    expect(Number(waited.r)).toBe(0);
    const [status] = await rootQuery(lab, 'db-3', 'SHOW SLAVE STATUS');
    expect([status.Slave_IO_Running, status.Slave_SQL_Running, Number(status.Seconds_Behind_Master)]).toEqual(['Yes', 'Yes', 0]);
    const [ro] = await rootQuery(lab, 'db-3', 'SELECT @@read_only AS ro');
    expect(Number(ro.ro)).toBe(1);
    // Its binlog begins after the backup's position: the rows before it came as files, not as replicated events.
    const [first] = await rootQuery(lab, 'db-3', 'SHOW BINARY LOGS');
    const firstGtid = (await rootQuery(lab, 'db-3', 'SHOW BINLOG EVENTS IN ?', [first.Log_name])).map((e) => /GTID (\d+-\d+-\d+)/.exec(String(e.Info))?.[1]).find(Boolean);
    expect(Number(firstGtid!.split('-')[2])).toBeGreaterThan(Number(gtid!.split('-')[2]));
    // The primary's events came with the copy: the clone must not run them (a heartbeat of its own is an errant GTID).
    await new Promise((r) => setTimeout(r, 1500));
    const [own] = await rootQuery(lab, 'db-3', 'SELECT @@gtid_binlog_pos AS pos, @@server_id AS id');
    expect(String(own.pos).split(',').filter((g) => g.split('-')[1] === String(own.id))).toEqual([]);

    // A cold clone warms from a peer like any replica.
    await setDb3('maint');
    const warm = await cli(['warmup', 'mysql', 'db-3', '--from', 'db-2', '--lab-dir', lab.dir, '--state-dir', stateDir, '--yes']);
    expect(warm.exitCode, `${warm.stdout}\n${warm.stderr}`).toBe(0);
  }, 90_000);

  it('refuses to clone the primary or a host without MariaDB, and changes nothing', async () => {
    const primary = await cli(['lab', 'clone-replica', 'db-1', '--dir', lab.dir]);
    expect(primary.exitCode).toBe(2);
    expect(primary.stderr).toMatch(/db-1 is the writable primary/);
    const notDb = await cli(['lab', 'clone-replica', 'redis-1', '--dir', lab.dir]);
    expect(notDb.exitCode).toBe(2);
    expect(notDb.stderr).toMatch(/redis-1 runs no MariaDB/);
    const [ro] = await rootQuery(lab, 'db-1', 'SELECT @@read_only AS ro');
    expect(Number(ro.ro)).toBe(0);
  });
});
