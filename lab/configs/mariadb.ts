import { join } from 'node:path';
import type { Host } from '../../topology/index.js';
import type { LabContext } from '../context.js';

/** Paths of one MariaDB host. */
export function mariadbPaths(lab: LabContext, host: Host) {
  const dir = lab.hostDir(host.name);
  return {
    dir,
    // On the host's own disk when the lab models one (lab/disk.ts): its mount point, not the datadir, cannot be removed.
    datadir: lab.state.disk === 'none' ? join(dir, 'data') : join(dir, 'disk', 'data'),
    tmpdir: join(dir, 'tmp'),
    cnf: join(dir, 'my.cnf'),
    socket: join(dir, 'mysqld.sock'),
    /** The only folder LOAD DATA / SELECT … INTO OUTFILE may touch (secure_file_priv). */
    files: join(dir, 'files'),
    log: join(dir, 'mariadbd.log'),
  };
}

/**
 * In the datadir of a fresh physical clone (lab clone-replica) until its first
 * start is done: the copy holds the primary's events enabled, and a replica
 * running them writes transactions of its own (errant GTIDs). Such a start
 * leaves the event scheduler off until the events are disabled on it.
 */
export const CLONE_MARKER = 'gameday-fresh-clone';

/**
 * Buffer pool small enough that the seeded data does not fit in it whole (about 4,200 pages), big enough that a
 * load's hot set does (the pages of 400 users, with what replication touches: disk-model.test.ts).
 */
export const LAB_BUFFER_POOL = '32M';
/** Free pages the page cleaner keeps in that pool: about 6 % of its 2,028 pages (InnoDB's 1536 would be 76 %). */
export const LAB_LRU_SCAN_DEPTH = 128;

/**
 * A production-like server: GTID replication with binlogs, crash-safe relay logs,
 * buffer-pool dump at shutdown and load at start-up, the event scheduler for the
 * heartbeat. Read with --defaults-file so that /etc/mysql is never read.
 */
export function mariadbConfig(lab: LabContext, host: Host, serverId: number, startsWritable: boolean, initFile?: string, eventScheduler = true): string {
  const p = mariadbPaths(lab, host);
  // Started as its own account (lab/serviceAccounts.ts); mariadbd refuses root unless told.
  return `[mariadbd]
${lab.state.serviceAccounts.mariadb ? '' : 'user = root\n'}datadir = ${p.datadir}
socket = ${p.socket}
tmpdir = ${p.tmpdir}
pid-file = ${join(p.dir, 'mariadbd.pid')}
bind-address = ${host.address}
port = ${host.services.mysql}
log-error = ${p.log}
skip-name-resolve
# No reading or writing files through SQL outside this folder, no LOAD DATA LOCAL.
secure-file-priv = ${p.files}
local-infile = 0
server-id = ${serverId}
log-bin = ${join(p.datadir, 'binlog')}
binlog-format = ROW
log-slave-updates = ON
gtid-strict-mode = ON
relay-log = ${join(p.datadir, 'relay')}
relay-log-recovery = ON
sync-binlog = 1
innodb-flush-log-at-trx-commit = 1
${startsWritable ? '# an unguarded fleet (lab up --no-guards): the deployed primary starts writable, whatever happened since\nread-only = OFF' : "# gameday's contract (docs/boot-guards.md): every server starts read-only; only gameday makes a primary writable\nread-only = ON"}
slave-net-timeout = 4
event-scheduler = ${eventScheduler ? 'ON' : 'OFF'}
innodb-buffer-pool-size = ${LAB_BUFFER_POOL}
# The page cleaner keeps this many pages free (default 1536): in this 2028-page pool that left only about 500
# for data, and evicted a warm pool down to them within 2 s of idle (docs/warmup.md). Scaled to the pool.
${lab.state.disk === 'none' ? '# (InnoDB\'s default kept: lab up --disk none, whose warm-up test is tuned to it)\n' : `innodb-lru-scan-depth = ${LAB_LRU_SCAN_DEPTH}\n`}# Data files read around the OS page cache (10.11's default, said here because the warm-up depends on it):
# a cold buffer pool is cold, not hidden by the kernel's cache.
innodb-flush-method = O_DIRECT
innodb-log-file-size = 64M
innodb-buffer-pool-dump-at-shutdown = ON
innodb-buffer-pool-load-at-startup = ON
innodb-buffer-pool-dump-pct = 25
max-connections = 300
performance-schema = OFF
${initFile ? `# the first start of a fresh datadir: secure root before any connection\ninit-file = ${initFile}\n` : ''}`;
}
