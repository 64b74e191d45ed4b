import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { LabContext } from '../../../lab/context.js';
import { powerOff, powerOn } from '../../../lab/power.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { showServers } from '../../../drivers/haproxy/runtime.js';
import { cli, ownLabDown, ownLabUp, rootQuery, waitFor } from '../helpers.js';

/**
 * failover-db and rejoin-db on a lab of their own (198.18.28.x): the test
 * kills primaries, which the shared lab's other tests need alive.
 */
const OCTET = 28;
const tiny = { users: 200, notificationsPerUser: 5, readPercent: 50 };
const TITLE = 'failover-it';

/** Writes one row through proxy-1's write port every 100 ms, reconnecting after any error; keeps what was acknowledged. */
function backgroundWriter(lab: LabContext) {
  const proxy = lab.host('proxy-1');
  const acked: Array<{ n: number; at: number }> = [];
  let conn: Connection | undefined;
  let n = 0;
  let running = true;
  let paused = false;
  const loop = (async () => {
    while (running) {
      if (paused) {
        await sleep(20);
        continue;
      }
      try {
        conn ??= await createConnection({ host: proxy.address, port: proxy.services['mysql-write'], user: 'app', password: lab.state.secrets.appDbPassword, database: 'notifications', connectTimeout: 1000 });
        const seq = ++n;
        await conn.query({ sql: 'INSERT INTO notifications (user_id, title, body, created_at) VALUES (0, ?, ?, NOW(3))', timeout: 1000 }, [TITLE, `w-${seq}`]);
        acked.push({ n: seq, at: Date.now() });
      } catch {
        conn?.destroy();
        conn = undefined;
      }
      await sleep(100);
    }
    conn?.destroy();
  })();
  return {
    acked,
    /** No write in flight while paused (an in-flight write the replicas never got would be errant on the old primary). */
    async pause() {
      paused = true;
      await sleep(1200);
    },
    resume() {
      paused = false;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function roLinks(lab: LabContext, host: string) {
  const [vars] = await rootQuery(lab, host, 'SELECT @@read_only AS ro');
  const slave = await rootQuery(lab, host, 'SHOW SLAVE STATUS');
  return { readOnly: Number(vars.ro) === 1, master: slave[0]?.Master_Host as string | undefined, io: slave[0]?.Slave_IO_Running as string | undefined, sql: slave[0]?.Slave_SQL_Running as string | undefined };
}

async function statusOn(lab: LabContext, proxy: string, backend: string, server: string): Promise<string | undefined> {
  const views = await showServers(haproxyPaths(lab, lab.host(proxy)).socket);
  return views.find((v) => v.backend === backend && v.server === server)?.status;
}

async function writtenTitles(lab: LabContext, host: string): Promise<Set<string>> {
  const rows = await rootQuery(lab, host, 'SELECT body FROM notifications.notifications WHERE title = ?', [TITLE]);
  return new Set(rows.map((r: RowDataPacket) => String(r.body)));
}

describe('failover-db and rejoin-db (a lab of their own on 198.18.28.x)', () => {
  const base = mkdtempSync(join(tmpdir(), 'gameday-failover-'));
  const dir = join(base, 'lab');
  const env = { GAMEDAY_STATE_DIR: join(base, 'state') };
  let lab: LabContext;
  const run = (name: string, flags: string[]) => cli(['runbook', 'run', name, '--lab-dir', dir, '--json', ...flags], env);
  const json = (stdout: string) => JSON.parse(stdout) as { state: string; startedAt: string; failedStep?: { id: string; error: string }; degraded: string[]; steps: Array<{ id: string; status: string; result?: any }> };
  const stepResult = (out: ReturnType<typeof json>, id: string) => out.steps.find((s) => s.id === id)?.result;
  let newPrimary = '';
  let other = '';

  beforeAll(async () => {
    lab = await ownLabUp({ dir, octet: OCTET, seed: tiny });
  });

  afterAll(async () => {
    await ownLabDown(dir);
    rmSync(base, { recursive: true, force: true });
  });

  it('refuses while the primary is alive, and changes nothing', async () => {
    const r = await run('failover-db', []);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('the primary is alive: use a switchover (reboot-stale does one) instead');
    expect((await roLinks(lab, 'db-1')).readOnly).toBe(false);
    expect(await statusOn(lab, 'proxy-1', 'db_write', 'db-1')).toBe('UP');
  });

  it('after the primary loses power: a replica takes the writes, the other follows it, nothing the replicas had is lost', async () => {
    // Rows every replica has received before the power loss.
    for (let i = 1; i <= 50; i++) {
      await rootQuery(lab, 'db-1', 'INSERT INTO notifications.notifications (user_id, title, body, created_at) VALUES (0, ?, ?, NOW(3))', [TITLE, `before-${i}`]);
    }
    const [{ pos }] = await rootQuery(lab, 'db-1', 'SELECT @@gtid_binlog_pos AS pos');
    for (const r of ['db-2', 'db-3']) expect(Number((await rootQuery(lab, r, 'SELECT MASTER_GTID_WAIT(?, 10) AS w', [pos]))[0].w)).toBe(0);

    const writer = backgroundWriter(lab);
    await waitFor('the writer to write through the proxy', async () => writer.acked.length >= 5);
    // The rejoin test below wants an old primary without errant data rows: no write in flight at the power loss
    // (one would be, with asynchronous replication, a transaction only db-1 has; the errant test covers that case).
    await writer.pause();
    const [{ pos: last }] = await rootQuery(lab, 'db-1', 'SELECT @@gtid_binlog_pos AS pos');
    for (const r of ['db-2', 'db-3']) await rootQuery(lab, r, 'SELECT MASTER_GTID_WAIT(?, 10) AS w', [last]);
    const powerOffAt = Date.now();
    await powerOff(lab, 'db-1');
    writer.resume();
    // An acknowledgement after this can only come from the new primary.
    const killedAt = Date.now();
    const r = await run('failover-db', []);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const out = json(r.stdout);
    expect(out.state).toBe('succeeded');
    const record = stepResult(out, 'record');
    newPrimary = record.newPrimary;
    other = newPrimary === 'db-2' ? 'db-3' : 'db-2';
    expect(['db-2', 'db-3']).toContain(newPrimary);
    // Equal replicas: the inventory order decides (both stand in another zone than db-1).
    expect(newPrimary).toBe('db-2');
    expect(record.oldPrimary).toBe('db-1');
    expect(record.promotedAtGtid).toMatch(/^0-1-\d+$/);
    expect(out.degraded.join(' ')).toContain('db-1 is lost and fenced');

    const firstWriteAfter = await waitFor('a write through proxy-1 after the failover', async () => writer.acked.find((a) => a.at > killedAt), 30_000);
    const lastBefore = [...writer.acked].reverse().find((a) => a.at <= killedAt)!;
    await writer.stop();
    const failoverMs = firstWriteAfter.at - powerOffAt;
    const since = (iso: string | undefined) => (iso ? `${((Date.parse(iso) - powerOffAt) / 1000).toFixed(1)} s` : '?');
    const step = (id: string) => out.steps.find((x) => x.id === id) as { endedAt?: string } | undefined;
    process.stderr.write(
      `failover-db: power-off -> first write through proxy-1 in ${(failoverMs / 1000).toFixed(1)} s (writes refused ${((firstWriteAfter.at - lastBefore.at) / 1000).toFixed(1)} s); ` +
        `after the power-off began: power off done ${((killedAt - powerOffAt) / 1000).toFixed(1)} s, run started (CLI start and loss confirmed) ${since(out.startedAt)}, promoted ${since(step('promote')?.endedAt)}, write pools forced up ${since(step('open-write-pools')?.endedAt)}, confirmed on every proxy ${since(step('write-pools-follow')?.endedAt)}\n`,
    );

    expect(await roLinks(lab, newPrimary)).toEqual({ readOnly: false, master: undefined, io: undefined, sql: undefined });
    expect(await roLinks(lab, other)).toEqual({ readOnly: true, master: lab.host(newPrimary).address, io: 'Yes', sql: 'Yes' });
    for (const proxy of ['proxy-1', 'proxy-2']) {
      expect(await statusOn(lab, proxy, 'db_write', newPrimary)).toBe('UP');
      expect(await statusOn(lab, proxy, 'db_write', 'db-1')).toBe('MAINT');
      expect(await statusOn(lab, proxy, 'db_read', 'db-1')).toBe('MAINT');
    }
    const onNew = await writtenTitles(lab, newPrimary);
    for (let i = 1; i <= 50; i++) expect(onNew.has(`before-${i}`), `before-${i}`).toBe(true);
    // Nothing a replica had is lost: every write the other replica holds is on the new primary (failover-db promotes the most advanced).
    const onOther = await writtenTitles(lab, other);
    expect([...onOther].filter((t) => !onNew.has(t)), `rows on ${other} that ${newPrimary} lacks`).toEqual([]);
    // Acknowledged writes no replica had yet (asynchronous replication): counted, not required.
    const lostAcked = writer.acked.filter((a) => a.at <= killedAt && !onNew.has(`w-${a.n}`));
    process.stderr.write(`failover-db: ${lostAcked.length} of ${writer.acked.filter((a) => a.at <= killedAt).length} writes acknowledged before the power-off are not on ${newPrimary}\n`);
    const afterWrites = writer.acked.filter((a) => a.at > killedAt);
    for (const a of afterWrites) expect(onNew.has(`w-${a.n}`)).toBe(true);
    // The other replica follows the new primary: it gets the rows written after the failover.
    await waitFor(`${other} to have the writes made after the failover`, async () => {
      const there = await writtenTitles(lab, other);
      return afterWrites.every((a) => there.has(`w-${a.n}`));
    });
  }, 120_000);

  it('rejoins the old primary once its power is back: read-only, a replica of the new primary, back in the read pool', async () => {
    await powerOn(lab, 'db-1');
    // Read-only by its own config (gameday's contract), not by anything the lab decides at power-on.
    expect(Number((await rootQuery(lab, 'db-1', 'SELECT @@read_only AS ro'))[0].ro), 'db-1 as it boots after the failover').toBe(1);
    // Back with its heartbeat event on, which read_only stops (its definer is no super user): the fence keeps traffic off it.
    expect(await statusOn(lab, 'proxy-1', 'db_write', 'db-1')).toBe('MAINT');

    const r = await run('rejoin-db', ['--host', 'db-1', '--ramp', '100', '--ramp-hold', '1s']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const out = json(r.stdout);
    expect(out.state).toBe('succeeded');
    expect(out.degraded).toEqual([]);
    // Nothing past the promotion point: read-only from its boot, its heartbeat wrote nothing (before: root's event
    // beat on through read_only, errant transactions in gameday.heartbeat that had to be discarded).
    const check = stepResult(out, 'db-1/errant-check');
    expect(check.errant).toBe('none');
    expect(check.tables).toEqual([]);

    expect(await roLinks(lab, 'db-1')).toEqual({ readOnly: true, master: lab.host(newPrimary).address, io: 'Yes', sql: 'Yes' });
    for (const proxy of ['proxy-1', 'proxy-2']) {
      await waitFor(`${proxy} to see db-1 in the read pool`, async () => (await statusOn(lab, proxy, 'db_read', 'db-1')) === 'UP');
      expect(await statusOn(lab, proxy, 'db_write', 'db-1')).toBe('DOWN');
      expect(await statusOn(lab, proxy, 'db_write', newPrimary)).toBe('UP');
    }
    // It has the new primary's writes, and the new primary still has the only history.
    const [{ pos }] = await rootQuery(lab, newPrimary, 'SELECT @@gtid_binlog_pos AS pos');
    expect(Number((await rootQuery(lab, 'db-1', 'SELECT MASTER_GTID_WAIT(?, 10) AS w', [pos]))[0].w)).toBe(0);
    const onNew = await writtenTitles(lab, newPrimary);
    const onOld = await writtenTitles(lab, 'db-1');
    expect([...onNew].every((t) => onOld.has(t))).toBe(true);
  }, 120_000);

  it('refuses to rejoin a host with a transaction the new primary never had, and leaves it fenced and not replicating', async () => {
    // A second loss, of the promoted primary; then it comes back and takes a write of its own.
    const lost = newPrimary;
    await powerOff(lab, lost);
    const f = await run('failover-db', []);
    expect(f.exitCode, f.stderr + f.stdout).toBe(0);
    const second = stepResult(json(f.stdout), 'record');
    expect(second.oldPrimary).toBe(lost);
    await powerOn(lab, lost);
    await rootQuery(lab, lost, 'SET GLOBAL read_only = OFF');
    await rootQuery(lab, lost, 'INSERT INTO notifications.notifications (user_id, title, body, created_at) VALUES (0, ?, ?, NOW(3))', [TITLE, 'errant']);

    const r = await run('rejoin-db', ['--host', lost]);
    expect(r.exitCode, r.stderr + r.stdout).toBe(1);
    const out = json(r.stdout);
    expect(out.state).toBe('failed');
    expect(out.failedStep?.id).toBe(`${lost}/errant-check`);
    expect(out.failedStep?.error).toContain('ERRANT_TRANSACTIONS');
    expect(out.failedStep?.error).toContain('notifications.notifications');
    expect(out.failedStep?.error).toContain('mariabackup');
    expect(out.degraded).toEqual([`${lost} is fenced (maint)`]);

    expect(await roLinks(lab, lost)).toEqual({ readOnly: true, master: undefined, io: undefined, sql: undefined });
    for (const proxy of ['proxy-1', 'proxy-2']) {
      expect(await statusOn(lab, proxy, 'db_write', lost)).toBe('MAINT');
      expect(await statusOn(lab, proxy, 'db_read', lost)).toBe('MAINT');
    }
    // The row stays where it was written, and nowhere else.
    expect((await writtenTitles(lab, lost)).has('errant')).toBe(true);
    expect((await writtenTitles(lab, second.newPrimary)).has('errant')).toBe(false);
  }, 120_000);
});
