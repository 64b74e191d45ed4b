import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
import { labNetworkNames } from '../../../lab/network.js';
import { addFaultChain, faultChain, flowRule } from '../../../lab/nft.js';

async function waitUntil(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

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

describe('lab lifecycle (a second, small lab on 198.18.23.x)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gameday-life-')), 'lab');
  let lab: LabContext | undefined;

  afterAll(async () => {
    const left = openLab(dir);
    if (left) await labDown(left);
  });

  it('refuses to start when another live lab holds its addresses, and starts nothing', async () => {
    // Another lab of octet 23, elsewhere: its redis-2 namespace runs a process.
    const ns = labNetworkNames(23, labInventory(23)).netns('redis-2');
    await execa('ip', ['netns', 'add', ns]);
    const other = execa('nsenter', [`--net=/run/netns/${ns}`, '--', 'sleep', '60'], { reject: false });
    try {
      await waitUntil(async () => (await execa('ip', ['netns', 'pids', ns])).stdout.trim() !== '');
      const err = await labUp({ dir, octet: 23, seed: tiny }).catch((e) => e);
      expect(err).toBeInstanceOf(GamedayError);
      expect(err.code).toBe('LAB_OCTET_TAKEN');
      expect(err.message).toContain('another lab uses the addresses 198.18.23.x (processes run in the namespaces of redis-2); nothing was started');
      expect(existsSync(dir)).toBe(false);
      expect(processesNaming(dir)).toEqual([]);
    } finally {
      other.kill('SIGKILL');
      await other;
    }
    // What that lab left when it died (its namespace, no process in it) is cleared by the next "up" (next test).
  });

  it('comes up, never letting root in without a password, and a second "up" starts nothing new', async () => {
    // From before the fresh datadirs exist until the lab is up: root without a password, over TCP, every 20 ms.
    const dbAddresses = labInventory(23).hosts.filter((h) => h.tier === 'db').map((h) => h.address);
    let watching = true;
    const letIn: string[] = [];
    const tries = { n: 0 };
    const bridge = labNetworkNames(23, labInventory(23)).bridge;
    const watcher = (async () => {
      while (watching) {
        // Only once the lab's bridge routes its addresses: before that they would go to the machine's default route.
        if (!existsSync(`/sys/class/net/${bridge}`)) {
          await sleep(20);
          continue;
        }
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

  it('down leaves no process, socket, firewall table, namespace, link or folder behind', async () => {
    await powerOff(lab!, 'app-1');
    const table = lab!.nftTable;
    await addFaultChain(table, faultChain('left-over'), [flowRule({ from: [lab!.host('db-1').address], to: [lab!.host('db-2').address] })]);
    const stopped = await labDown(lab!);
    expect(stopped.length).toBe(15);
    expect(processesNaming(dir)).toEqual([]);
    expect((await execa('nft', ['list', 'table', 'bridge', table], { reject: false })).exitCode).not.toBe(0);
    expect((await execa('ip', ['netns', 'list'])).stdout).not.toMatch(/gameday-23-/);
    expect((await execa('ip', ['-o', 'link', 'show'])).stdout).not.toMatch(/\bgd23(br|v\d+)\b/);
    expect(existsSync(dir)).toBe(false);
    const sockets = (await execa('ss', ['-xlp'], { reject: false })).stdout;
    expect(sockets).not.toContain(dir);
  });
});
