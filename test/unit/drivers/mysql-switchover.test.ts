import { describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { switchover, type SwitchoverTarget } from '../../../drivers/mysql/switchover.js';
import { heartbeatSetupSql } from '../../../drivers/mysql/heartbeat.js';

/** Fake MariaDB servers: each records the statements it was sent; `answer` scripts what a statement returns or throws. */
function fleetOf(answer: (host: string, sql: string) => unknown) {
  const sent: Array<[string, string, unknown[] | undefined]> = [];
  const connect = async (host: string) =>
    ({
      async query(sql: string, params?: unknown[]) {
        sent.push([host, sql.trim().split('\n')[0], params]);
        const a = answer(host, sql);
        if (a instanceof Error) throw a;
        return a ?? [[]];
      },
      end: async () => undefined,
      destroy: () => undefined,
    }) as unknown as Connection;
  return { connect, sent, on: (host: string) => sent.filter(([h]) => h === host).map(([, q]) => q) };
}

const target: SwitchoverTarget = {
  oldPrimary: 'db-1',
  newPrimary: 'db-2',
  otherReplicas: ['db-3'],
  newPrimaryAddress: { host: '198.18.22.111', port: 3306 },
  replicationUser: { user: 'replicator', password: 'x' },
};
/** What a server with gameday's heartbeat answers: its GTID positions, the event, the definer's grants. */
const position = (sql: string, binlog = '0-1-100', definerGrants = ['GRANT USAGE ON *.* TO `gameday_heartbeat`@`localhost`']) =>
  sql.includes('@@gtid_binlog_pos AS pos') ? [[{ pos: '0-1-100' }]]
  : sql.includes('@@gtid_binlog_pos AS binlog') ? [[{ id: 1, ro: 1, binlog, slave: '', cur: binlog }]]
  : sql.includes('information_schema.EVENTS') ? [[{ 1: 1 }]]
  : sql.startsWith('SHOW GRANTS FOR') ? [definerGrants.map((g) => ({ 'Grants for gameday_heartbeat@localhost': g }))]
  : undefined;
const ENABLE = "ALTER DEFINER = 'gameday_heartbeat'@'localhost' EVENT gameday.heartbeat_tick ENABLE";

describe('a MariaDB switchover that fails', () => {
  it('rolls back when the new primary does not catch up: the old primary takes writes again and the new one replicates again', async () => {
    const f = fleetOf((host, sql) => position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: -1 }]] : undefined));
    const err = await switchover(f.connect, target, 2).catch((e: Error) => e);
    expect((err as Error).message).toBe('switchover from db-1 to db-2 failed before db-2 took writes (db-2 did not reach 0-1-100 in 2 s); rolled back: db-1 takes writes again');
    const onOld = f.on('db-1');
    expect(onOld[0]).toBe('SET GLOBAL read_only = ON');
    expect(onOld.indexOf(ENABLE)).toBeGreaterThan(onOld.lastIndexOf('SET GLOBAL read_only = OFF'));
    expect(onOld.lastIndexOf('SET GLOBAL read_only = OFF')).toBeGreaterThan(onOld.indexOf('SET GLOBAL read_only = ON'));
    expect(f.on('db-2')).not.toContain('SET GLOBAL read_only = OFF');
    expect(f.on('db-2')).toContain('START SLAVE');
    expect(f.on('db-3')).toEqual([]);
  });

  it('rolls back when the new primary cannot be reached at all (frozen replicas)', async () => {
    const f = fleetOf((host, sql) => position(sql));
    const connect = async (host: string) => (host === 'db-2' ? Promise.reject(new Error('connect ETIMEDOUT')) : f.connect(host));
    const err = await switchover(connect, target, 2).catch((e: Error) => e);
    expect((err as Error).message).toContain('failed before db-2 took writes (connect ETIMEDOUT); rolled back: db-1 takes writes again');
    expect(f.on('db-1').filter((q) => q.includes('read_only')).at(-1)).toBe('SET GLOBAL read_only = OFF');
  });

  it('rolls back when the new primary stops answering in the middle of its catch-up wait (before: the wait had no end, and the old primary stayed read-only)', async () => {
    const never = new Promise(() => undefined);
    const f = fleetOf((host, sql) => position(sql) ?? (host === 'db-2' && sql.includes('MASTER_GTID_WAIT') ? never : host === 'db-2' && sql.includes('START SLAVE') ? never : undefined));
    const t0 = Date.now();
    const err = await switchover(f.connect, target, 1).catch((e: Error) => e);
    expect((err as Error).message).toContain('failed before db-2 took writes (no answer to MASTER_GTID_WAIT within 1 s + 3 s: the server hangs); rolled back: db-1 takes writes again');
    expect(f.on('db-1').filter((q) => q.includes('read_only')).at(-1)).toBe('SET GLOBAL read_only = OFF');
    expect(Date.now() - t0).toBeLessThan(9000);
  }, 15_000);

  it('does not roll back once the new primary was told to take writes: two writers would lose writes', async () => {
    const f = fleetOf((host, sql) => position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: 0 }]] : host === 'db-2' && sql.includes('read_only = OFF') ? new Error('Lost connection to server during query') : undefined));
    const err = await switchover(f.connect, target, 2).catch((e: Error) => e);
    expect((err as Error).message).toContain('db-2 was told to take writes, so db-1 is left read-only (not rolled back');
    expect(f.on('db-1')).not.toContain('SET GLOBAL read_only = OFF');
  });

  it('ends client sessions on the old primary but never the replicas\' dump threads, whatever the replication user is called', async () => {
    const f = fleetOf((host, sql) => position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: 0 }]] : undefined));
    await switchover(f.connect, target, 2);
    const sweep = f.sent.find(([h, q]) => h === 'db-1' && q.includes('information_schema.processlist') && q.includes("'event_scheduler', ?"));
    expect(sweep?.[2]).toEqual(['replicator']);
  });

  it('repoints a replica that lags, and says so; one it cannot reach is reported, and the old primary still rejoins', async () => {
    const f = fleetOf((host, sql) => position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: host === 'db-3' ? -1 : 0 }]] : undefined));
    const lagging = await switchover(f.connect, target, 2);
    expect(lagging.replicasBehind).toEqual(['db-3']);
    expect(f.on('db-3')).toContain('START SLAVE');
    const g = fleetOf((host, sql) => position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: 0 }]] : undefined));
    const connect = async (host: string) => (host === 'db-3' ? Promise.reject(new Error('connect ETIMEDOUT')) : g.connect(host));
    const unreachable = await switchover(connect, { ...target, otherReplicas: ['db-3', 'db-4'] }, 2);
    expect(unreachable.replicasNotRepointed).toEqual([{ host: 'db-3', error: 'connect ETIMEDOUT' }]);
    expect(g.on('db-4')).toContain('START SLAVE');
    expect(g.on('db-1')).toContain('START SLAVE');
  });

});

describe('the heartbeat in a switchover', () => {
  it('enables it on the new primary before it takes writes, naming its definer (an ALTER that names none makes the caller, root, the definer, whom read_only does not stop)', async () => {
    const f = fleetOf((host, sql) => position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: 0 }]] : undefined));
    await switchover(f.connect, target, 2);
    const onNew = f.on('db-2');
    expect(onNew.indexOf(ENABLE)).toBeGreaterThan(-1);
    expect(onNew.indexOf(ENABLE)).toBeLessThan(onNew.indexOf('SET GLOBAL read_only = OFF'));
    expect(f.on('db-1')).toContain("ALTER DEFINER = 'gameday_heartbeat'@'localhost' EVENT gameday.heartbeat_tick DISABLE");
    expect(f.sent.filter(([, q]) => /^ALTER EVENT/i.test(q))).toEqual([]);
  });

  it('rolls back, writes back on the old primary, when the heartbeat login is one read_only does not stop (before: enabled anyway, errors swallowed)', async () => {
    const f = fleetOf((host, sql) => position(sql, '0-1-100', ['GRANT SUPER ON *.* TO `gameday_heartbeat`@`localhost`']) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: 0 }]] : undefined));
    const err = await switchover(f.connect, target, 2).catch((e: Error) => e);
    expect((err as Error).message).toContain("failed before db-2 took writes (the heartbeat's login gameday_heartbeat@localhost is not stopped by read_only (GRANT SUPER ON *.*");
    expect(f.on('db-2')).not.toContain('SET GLOBAL read_only = OFF');
    expect(f.on('db-1').filter((q) => q.includes('read_only')).at(-1)).toBe('SET GLOBAL read_only = OFF');
  });

  it('refuses when the definer login is missing, and says what to run', async () => {
    const missing = Object.assign(new Error("There is no such grant defined for user 'gameday_heartbeat' on host 'localhost'"), { errno: 1141 });
    const f = fleetOf((host, sql) => (sql.startsWith('SHOW GRANTS') ? missing : position(sql) ?? (sql.includes('MASTER_GTID_WAIT') ? [[{ r: 0 }]] : undefined)));
    const err = await switchover(f.connect, target, 2).catch((e: Error) => e);
    expect((err as Error).message).toContain('gameday_heartbeat@localhost does not exist here: run deploy/mariadb/gameday-heartbeat.sql');
    expect(f.on('db-2')).not.toContain('SET GLOBAL read_only = OFF');
  });

  it('ships for fleets as the same SQL the lab runs (deploy/mariadb/gameday-heartbeat.sql)', () => {
    const file = readFileSync(new URL('../../../deploy/mariadb/gameday-heartbeat.sql', import.meta.url), 'utf8');
    // As the mariadb client reads it: statements end at the delimiter, which DELIMITER lines change.
    const statements: string[] = [];
    let delimiter = ';';
    let current = '';
    for (const line of file.split('\n')) {
      if (line.startsWith('--') || (current === '' && line.trim() === '')) continue;
      const change = /^DELIMITER (\S+)$/.exec(line);
      if (change) delimiter = change[1];
      else if (line.endsWith(delimiter)) {
        statements.push(current + line.slice(0, -delimiter.length));
        current = '';
      } else current += `${line}\n`;
    }
    expect(current).toBe('');
    expect(statements).toEqual(heartbeatSetupSql());
  });
});
