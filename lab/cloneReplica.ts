import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { execa } from '../drivers/exec.js';
import { type Host } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { LabContext } from './context.js';
import { CLONE_MARKER, mariadbPaths } from './configs/mariadb.js';
import { attachDisk } from './disk.js';
import { rootConnection } from './bootstrap.js';
import { stopProcess } from './supervisor.js';
import { startHosts } from './up.js';
import { withLabLock } from './labLock.js';
import { isWritablePrimary } from '../drivers/mysql/switchover.js';

export interface CloneResult {
  host: string;
  from: string;
  /** Where the clone starts replicating from (the backup's GTID position). */
  gtid: string;
  backupMs: number;
  totalMs: number;
}

/** The writable primary now (not read-only, replicating from no one); a server that does not answer is none. */
async function currentPrimary(lab: LabContext): Promise<Host | undefined> {
  const connect = (name: string) => rootConnection(lab, lab.host(name));
  for (const h of lab.hostsOf('db')) if (await isWritablePrimary(connect, h.name).catch(() => false)) return h;
  return undefined;
}

/** mariadb-backup, with the credentials in a 0600 file rather than on its command line (where ps shows them). */
async function mariadbBackup(lab: LabContext, work: string, args: string[]): Promise<void> {
  const cnf = join(work, 'client.cnf');
  const login = `user = root\npassword = ${lab.state.secrets.dbRootPassword}\n`;
  // Only this file: the machine's own /etc/mysql is never read.
  writeFileSync(cnf, `[client]\n${login}[mariadb-backup]\n${login}`, { mode: 0o600 });
  try {
    await execa('mariadb-backup', [`--defaults-file=${cnf}`, ...args]);
  } catch (err) {
    const e = err as { stderr?: string; shortMessage?: string; code?: string };
    if (e.code === 'ENOENT') throw new GamedayError('LAB_TOOLS_MISSING', 'mariadb-backup is not installed', 'PATH', 'apt-get install mariadb-backup (npm start installs it)');
    throw new Error(`mariadb-backup ${args[0]} failed: ${(e.stderr ?? e.shortMessage ?? String(err)).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

/**
 * Rebuilds a lab replica as real fleets build one: a physical copy of the
 * primary taken online with mariadb-backup (--backup, --prepare,
 * --copy-back), started on the copy, then replicating from the backup's GTID
 * position. Its tablespaces, space ids and page numbers are the primary's.
 * Refuses the writable primary; the replica is down while it is rebuilt (its
 * pools see it DOWN, then its health checks bring it back).
 */
export async function cloneReplica(lab: LabContext, hostName: string): Promise<CloneResult> {
  const started = Date.now();
  const host = lab.host(hostName);
  if (!('mysql' in host.services)) throw new GamedayError('NOT_A_DB_HOST', `${hostName} runs no MariaDB`, hostName, `name a db host: ${lab.hostsOf('db').map((h) => h.name).join(', ')}`);
  if (!lab.state.seeded) throw new GamedayError('LAB_NOT_UP', 'the lab is not set up yet', lab.dir, 'run gameday lab up first');
  return withLabLock(lab.dir, `clone ${hostName}`, async () => {
    lab.reload();
    const primary = await currentPrimary(lab);
    if (!primary) throw new GamedayError('NO_DB_PRIMARY', 'no db host is a writable primary to copy', 'tier db', 'check gameday lab status');
    if (primary.name === host.name) throw new GamedayError('CLONE_PRIMARY', `${hostName} is the writable primary: it cannot be rebuilt from itself`, hostName, `clone a replica (${lab.hostsOf('db').filter((h) => h !== primary).map((h) => h.name).join(', ')})`);
    const from = mariadbPaths(lab, primary);
    const to = mariadbPaths(lab, host);
    await attachDisk(lab, host); // the copy lands on the host's own disk (after a machine restart it is not yet mounted)
    const work = mkdtempSync(join(lab.dir, 'clone-'));
    try {
      const backup = join(work, 'backup');
      // Online, from the primary's files and its server (for the locks and the binlog position).
      await mariadbBackup(lab, work, ['--backup', `--target-dir=${backup}`, `--datadir=${from.datadir}`, `--socket=${from.socket}`]);
      const backupMs = Date.now() - started;
      await mariadbBackup(lab, work, ['--prepare', `--target-dir=${backup}`]);
      const info = ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info'].map((f) => join(backup, f)).find(existsSync);
      const gtid = info ? (readFileSync(info, 'utf8').trim().split(/\s+/)[2] ?? '') : '';
      if (!/^\d+-\d+-\d+(,\d+-\d+-\d+)*$/.test(gtid)) throw new Error(`the backup of ${primary.name} holds no GTID position (${info ?? 'no binlog info file'}): ${gtid}`);

      await stopProcess(lab, `${host.name}/mariadbd`, 'term');
      rmSync(to.datadir, { recursive: true, force: true });
      await mariadbBackup(lab, work, ['--copy-back', `--target-dir=${backup}`, `--datadir=${to.datadir}`]);
      writeFileSync(join(to.datadir, CLONE_MARKER), `a physical copy of ${primary.name} at GTID ${gtid}: its first start runs no events\n`);
      const account = lab.state.serviceAccounts.mariadb;
      if (account) chownTree(to.datadir, account.uid, account.gid);
      await startHosts(lab, [host]);

      const conn = await rootConnection(lab, host);
      try {
        // The primary's events came with the copy, enabled: disabled here as on any replica (out of the binlog:
        // no transaction of its own), then the scheduler starts.
        await conn.query('SET SESSION sql_log_bin = 0');
        const [events] = await conn.query<RowDataPacket[]>("SELECT EVENT_SCHEMA AS db, EVENT_NAME AS name, DEFINER AS definer FROM information_schema.EVENTS WHERE STATUS = 'ENABLED'");
        for (const e of events) {
          // Each keeps its definer: an ALTER that names none makes root the definer, whom read_only does not stop.
          const definer = String(e.definer);
          const at = definer.lastIndexOf('@');
          await conn.query(`ALTER DEFINER = ?@? EVENT \`${String(e.db).replace(/`/g, '``')}\`.\`${String(e.name).replace(/`/g, '``')}\` DISABLE ON SLAVE`, [definer.slice(0, at), definer.slice(at + 1)]);
        }
        await conn.query('SET GLOBAL event_scheduler = ON');
        rmSync(join(to.datadir, CLONE_MARKER), { force: true });
        await conn.query('SET SESSION sql_log_bin = 1');
        await conn.query('STOP SLAVE');
        await conn.query('RESET SLAVE ALL');
        await conn.query('SET GLOBAL gtid_slave_pos = ?', [gtid]);
        await conn.query(
          `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = 'repl', MASTER_PASSWORD = ?,
             MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1`,
          [primary.address, primary.services.mysql, lab.state.secrets.replPassword],
        );
        await conn.query('START SLAVE');
        const p = await rootConnection(lab, primary);
        const [[pos]] = await p.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos').finally(() => p.end());
        const [[waited]] = await conn.query<RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, 60) AS result', [pos.pos]);
        if (Number(waited.result) !== 0) throw new Error(`${host.name} did not catch up with ${primary.name} (GTID ${pos.pos}) within 60 s of its start`);
      } finally {
        await conn.end();
      }
      return { host: host.name, from: primary.name, gtid, backupMs, totalMs: Date.now() - started };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
