import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { createConnection } from 'mysql2/promise';
import { labUp } from '../../../lab/up.js';
import { labDown } from '../../../lab/down.js';
import { openLab, type LabContext } from '../../../lab/context.js';
import { powerOff } from '../../../lab/power.js';
import { labInventory } from '../../../lab/layout.js';
import { GamedayError } from '../../../core/errors.js';
import { GAMEDAY } from '../helpers.js';

/** PIDs of every process whose command line names `dir`. */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const tiny = { users: 200, notificationsPerUser: 5, readPercent: 50 };

describe('lab lifecycle (a second, small lab on 127.23.x.y)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gameday-life-')), 'lab');
  let lab: LabContext | undefined;
  let blocker: Server | undefined;

  afterAll(async () => {
    blocker?.close();
    const left = openLab(dir);
    if (left) await labDown(left);
  });

  it('refuses to start when an address it needs is taken, and starts nothing', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(6379, '127.23.2.21', resolve));
    const err = await labUp({ dir, octet: 23, seed: tiny }).catch((e) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect(err.code).toBe('LAB_PORT_TAKEN');
    expect(err.message).toContain('127.23.2.21:6379 is already in use by another program, so redis-2/redis cannot start; nothing was started');
    expect(existsSync(dir)).toBe(false);
    expect(processesNaming(dir)).toEqual([]);
    await new Promise<void>((resolve) => blocker!.close(() => resolve()));
    blocker = undefined;
  });

  it('comes up, never letting root in without a password, and a second "up" starts nothing new', async () => {
    // From before the fresh datadirs exist until the lab is up: root without a password, over TCP, every 20 ms.
    const dbAddresses = labInventory(23).hosts.filter((h) => h.tier === 'db').map((h) => h.address);
    let watching = true;
    const letIn: string[] = [];
    const tries = { n: 0 };
    const watcher = (async () => {
      while (watching) {
        await Promise.all(dbAddresses.map(async (address) => {
          tries.n++;
          const c = await createConnection({ host: address, port: 3306, user: 'root', connectTimeout: 200 }).catch(() => undefined);
          if (c) {
            letIn.push(address);
            c.destroy();
          }
        }));
        await sleep(20);
      }
    })();
    try {
      lab = await labUp({ dir, octet: 23, seed: tiny });
    } finally {
      watching = false;
      await watcher;
    }
    expect(letIn).toEqual([]);
    expect(tries.n).toBeGreaterThan(30);
    for (const db of lab.hostsOf('db')) expect(existsSync(join(lab.hostDir(db.name), 'secure-root.sql')), db.name).toBe(false);
    expect(lab.hostsOf('db').map((h) => h.address)).toEqual(dbAddresses);
    const pids = Object.values(lab.state.processes).map((p) => p.pid).sort();
    expect(pids).toHaveLength(16);
    const again = await labUp({ dir });
    expect(Object.values(again.state.processes).map((p) => p.pid).sort()).toEqual(pids);
  });

  it('refuses to change the seed of a lab that exists', async () => {
    await expect(labUp({ dir, seed: { ...tiny, users: 999 } })).rejects.toThrow(/already seeded with 200 users x 5 notifications/);
  });

  it('serializes two power-ons at once: one mariadbd per datadir, and down then stops everything', async () => {
    const cli = (args: string[]) => execa(process.execPath, [GAMEDAY, 'lab', ...args, '--dir', dir], { reject: false, env: { GAMEDAY_LOG_LEVEL: 'warn' } });
    expect((await cli(['power-off', 'db-3'])).exitCode).toBe(0);
    const [a, b] = await Promise.all([cli(['power-on', 'db-3']), cli(['power-on', 'db-3'])]);
    expect([a.exitCode, b.exitCode], a.stderr + b.stderr).toEqual([0, 0]);
    const datadir = join(dir, 'hosts', 'db-3');
    const mariadbds = processesNaming(datadir).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('mariadbd'));
    expect(mariadbds).toHaveLength(1);
    // The second power-on found db-3 running, and the state names every process that runs.
    expect([a.stdout, b.stdout].sort()[0]).toContain('(0 processes)');
    lab = openLab(dir)!;
    const recorded = new Set(Object.values(lab.state.processes).map((p) => p.pid));
    expect(processesNaming(dir).filter((pid) => !recorded.has(pid))).toEqual([]);
  }, 60_000);

  it('down leaves no process, socket, firewall table or folder behind', async () => {
    await powerOff(lab!, 'app-1'); // so there is a firewall table to remove
    const table = lab!.nftTable;
    expect((await execa('nft', ['list', 'table', 'inet', table], { reject: false })).exitCode).toBe(0);
    const stopped = await labDown(lab!);
    expect(stopped.length).toBe(15);
    expect(processesNaming(dir)).toEqual([]);
    expect((await execa('nft', ['list', 'table', 'inet', table], { reject: false })).exitCode).not.toBe(0);
    expect(existsSync(dir)).toBe(false);
    const sockets = (await execa('ss', ['-xlp'], { reject: false })).stdout;
    expect(sockets).not.toContain(dir);
  });
});
