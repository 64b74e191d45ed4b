import { describe, expect, it } from 'vitest';
import { showServers } from '../../../drivers/haproxy/runtime.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { powerOff, powerOn } from '../../../lab/power.js';
import { labStatus } from '../../../lab/status.js';
import { GamedayError } from '../../../core/errors.js';
import { execa } from 'execa';
import { connectOutcome, http, processAlive, rootQuery, sharedLab, waitFor } from '../helpers.js';

const pidsOf = (lab: ReturnType<typeof sharedLab>, hosts: string[]) =>
  Object.entries(lab.state.processes).filter(([, r]) => hosts.includes(r.host)).map(([id, r]) => ({ id, pid: r.pid }));

/** The hosts whose link into the lab's bridge is down (a powered-off host's). */
async function linksDown(lab: ReturnType<typeof sharedLab>): Promise<string[]> {
  const links = JSON.parse((await execa('ip', ['-j', 'link', 'show', 'master', lab.network.bridge])).stdout) as Array<{ ifname: string; flags: string[] }>;
  const down = new Set(links.filter((l) => !l.flags.includes('UP')).map((l) => l.ifname));
  return lab.inventory.hosts.filter((h) => down.has(lab.network.link(h.name))).map((h) => h.name);
}

describe('power loss of a rack', () => {
  const lab = sharedLab();
  const db3 = lab.host('db-3');
  const proxy1 = lab.host('proxy-1');
  const proxy2 = lab.host('proxy-2');
  const readState = async (server: string) =>
    (await showServers(haproxyPaths(lab, proxy1).socket)).find((s) => s.backend === 'db_read' && s.server === server)?.status;

  it('refuses an unknown target and touches nothing', async () => {
    const before = JSON.stringify(lab.state.processes);
    const down = await linksDown(lab);
    await expect(powerOff(lab, 'rack-99')).rejects.toThrow(GamedayError);
    await expect(powerOff(lab, 'rack-99')).rejects.toThrow(/not a host, rack or zone of the lab; nothing was touched/);
    expect(JSON.stringify(lab.state.processes)).toBe(before);
    expect(await linksDown(lab)).toEqual(down);
  });

  it('makes the rack hang and kills its processes; reads leave its replica; the app keeps writing', async () => {
    const victims = pidsOf(lab, ['db-3', 'proxy-2']);
    expect(victims.length).toBe(3); // mariadbd, health agent, haproxy
    const result = await powerOff(lab, 'c1');
    expect(result.domain).toMatchObject({ kind: 'rack', name: 'az-c/c1' });
    expect(await linksDown(lab)).toEqual(['db-3', 'proxy-2']);

    for (const v of victims) expect(processAlive(v.pid), v.id).toBe(false);
    // A dark rack does not refuse connections: they hang until the client gives up.
    expect(await connectOutcome(db3.address, db3.services.mysql, 1500)).toBe('hung');
    expect(await connectOutcome(proxy2.address, proxy2.services.http, 1500)).toBe('hung');

    const status = await labStatus(lab);
    expect(status.live.hosts['db-3'].state).toBe('powered-off');
    expect(status.live.hosts['proxy-2'].state).toBe('powered-off');
    expect(status.live.hosts['db-2'].state).toBe('up');

    await waitFor('proxy-1 to take db-3 out of the read pool', async () => (await readState('db-3')) === 'DOWN', 10_000);
    expect(await readState('db-2')).toBe('UP');

    // Every app instance still writes, through proxy-1 (those that used proxy-2 move over). Each create carries an
    // Idempotency-Key, as a client that wants its writes to survive a proxy loss sends: an insert already sent through
    // the dark proxy may have committed, and the app sends it again through the other one only when a key makes that safe.
    const web = `http://${proxy1.address}:${proxy1.services.http}`;
    for (let i = 0; i < 6; i++) {
      const headers = { 'Idempotency-Key': `power-c1-${Date.now()}-${i}` };
      const r = await http(`${web}/users/${i + 1}/notifications`, { method: 'POST', headers, body: JSON.stringify({ title: `during outage ${i}`, body: 'b' }) });
      expect(r.status).toBe(201);
    }
  });

  it('power-on brings the rack back, cold, and the replica rejoins the read pool once caught up', async () => {
    const result = await powerOn(lab, 'az-c/c1');
    expect(result.processes.sort()).toEqual(['db-3/health', 'db-3/mariadbd', 'proxy-2/haproxy']);
    for (const v of pidsOf(lab, ['db-3', 'proxy-2'])) expect(processAlive(v.pid), v.id).toBe(true);
    expect(await connectOutcome(proxy2.address, proxy2.services.http, 1500)).toBe('connected');
    expect(await linksDown(lab)).toEqual([]);

    await waitFor('db-3 back in the read pool', async () => (await readState('db-3')) === 'UP', 30_000);
    // It caught up: the writes made while it was dark are there.
    const rows = await rootQuery(lab, 'db-3', "SELECT COUNT(*) AS n FROM notifications.notifications WHERE title LIKE 'during outage %'");
    expect(Number(rows[0].n)).toBe(6);
    const status = await labStatus(lab);
    expect(status.live.hosts['db-3']).toMatchObject({ state: 'up', role: 'replica' });
  });
});
