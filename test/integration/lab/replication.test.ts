import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import { rootConnection } from '../../../lab/bootstrap.js';
import { mariadbPaths } from '../../../lab/configs/mariadb.js';
import { enableHeartbeat, stopHeartbeat } from '../../../drivers/mysql/heartbeat.js';
import { rootQuery, sharedLab, waitFor } from '../helpers.js';

describe('MariaDB replication in the lab', () => {
  const lab = sharedLab();

  it('seeded the data on the primary and every replica, more than the buffer pool holds', async () => {
    const expected = lab.state.seed.users * lab.state.seed.notificationsPerUser;
    for (const db of lab.hostsOf('db')) {
      const [row] = await rootQuery(lab, db.name, 'SELECT COUNT(*) AS n FROM notifications.notifications');
      expect(Number(row.n), db.name).toBeGreaterThanOrEqual(expected);
    }
    const [size] = await rootQuery(lab, 'db-1', "SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE table_schema = 'notifications'");
    const [pool] = await rootQuery(lab, 'db-1', 'SELECT @@innodb_buffer_pool_size AS bytes');
    expect(Number(size.bytes)).toBeGreaterThan(Number(pool.bytes));
  });

  it('replicates a write made through the proxy write pool to both replicas', async () => {
    const proxy = lab.host('proxy-1');
    const conn = await createConnection({
      host: proxy.address, port: proxy.services['mysql-write'], user: 'app', password: lab.state.secrets.appDbPassword, database: 'notifications',
    });
    const marker = `replication-check-${Date.now()}`;
    try {
      await conn.query('INSERT INTO notifications (user_id, title, body, created_at) VALUES (1, ?, ?, NOW(3))', [marker, 'x']);
    } finally {
      await conn.end();
    }
    for (const replica of ['db-2', 'db-3']) {
      await waitFor(`${replica} to apply the write`, async () =>
        (await rootQuery(lab, replica, 'SELECT id FROM notifications.notifications WHERE title = ?', [marker])).length === 1, 10_000);
    }
  });

  it('runs GTID replication with both threads and a heartbeat lag under a second', async () => {
    for (const replica of ['db-2', 'db-3']) {
      const [status] = await rootQuery(lab, replica, 'SHOW SLAVE STATUS');
      expect(status).toMatchObject({ Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Using_Gtid: 'Slave_Pos' });
      // The heartbeat is rewritten every second: its age on a caught-up replica stays near a second at most.
      const [hb] = await rootQuery(lab, replica, 'SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) / 1e6 AS lag_s, server_id FROM gameday.heartbeat');
      expect(Number(hb.lag_s)).toBeLessThan(1.5);
      expect(Number(hb.server_id)).toBe(1);
    }
  });

  it('keeps the replicas read-only and the primary writable', async () => {
    const ro = async (h: string) => Number((await rootQuery(lab, h, 'SELECT @@read_only AS ro'))[0].ro);
    expect(await ro('db-1')).toBe(0);
    expect(await ro('db-2')).toBe(1);
    expect(await ro('db-3')).toBe(1);
  });

  it('runs the heartbeat as a login read_only stops: a read-only server whose event is on writes no beat of its own (before: root beat on, errant GTIDs)', async () => {
    const host = lab.host('db-3');
    const ownGtids = async () => {
      const [row] = await rootQuery(lab, host.name, 'SELECT @@gtid_binlog_state AS state, @@server_id AS id');
      return String(row.state).split(',').filter((g) => g.trim().split('-')[1] === String(row.id)).join(',');
    };
    const log = mariadbPaths(lab, host).log;
    const refusals = () => (readFileSync(log, 'utf8').match(/heartbeat_tick\] The MariaDB server is running with the --read-only option/g) ?? []).length;
    const before = { gtids: await ownGtids(), refusals: refusals() };
    // A former primary whose disable never came: its event on, read_only on.
    const conn = await rootConnection(lab, host);
    try {
      expect(await enableHeartbeat(conn)).toBe(true);
      // The event ran (MariaDB logs the refusal of each run) and wrote nothing.
      await waitFor('two runs of the event refused by read_only', async () => refusals() >= before.refusals + 2, 10_000);
    } finally {
      await stopHeartbeat(conn);
      await conn.end();
    }
    expect(await ownGtids()).toBe(before.gtids);
    const [event] = await rootQuery(lab, host.name, "SELECT DEFINER AS definer FROM information_schema.EVENTS WHERE EVENT_NAME = 'heartbeat_tick'");
    expect(event.definer).toBe('gameday_heartbeat@localhost');
  });
});
