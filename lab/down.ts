import { rmSync } from 'node:fs';
import type { LabContext } from './context.js';
import { stopProcess } from './supervisor.js';
import { dropTable, nftAvailable } from './nft.js';
import { withLabLock } from './labLock.js';
import { removeLabNetwork } from './network.js';
import { detachDisk } from './disk.js';

/** Stop order: clients before the servers they use, so nothing logs a storm of errors. */
const STOP_ORDER = ['sshd', 'app', 'haproxy', 'health', 'sentinel', 'redis', 'mariadbd'];

/**
 * Stops every process the lab started (by PID, cleanly), removes its firewall
 * table, its namespaces, links and bridge, and deletes its folder: no process,
 * socket, rule or link is left behind.
 */
export async function labDown(lab: LabContext): Promise<string[]> {
  return withLabLock(lab.dir, 'lab down', async () => {
    lab.reload();
    return stopEverything(lab);
  });
}

async function stopEverything(lab: LabContext): Promise<string[]> {
  const ids = Object.keys(lab.state.processes).sort(
    (a, b) => STOP_ORDER.indexOf(a.split('/')[1]) - STOP_ORDER.indexOf(b.split('/')[1]),
  );
  for (const service of STOP_ORDER) {
    await Promise.all(ids.filter((id) => id.endsWith(`/${service}`)).map((id) => stopProcess(lab, id, 'term')));
  }
  // What is left is the network's own (a latency fault's delay lines).
  await Promise.all(Object.keys(lab.state.processes).map((id) => stopProcess(lab, id, 'term', 2000)));
  if (await nftAvailable()) {
    await dropTable(lab.nftTable);
    await dropTable(lab.nftTable, 'netdev');
  }
  await removeLabNetwork(lab.state.octet, lab.inventory);
  // The db hosts' disks are unmounted before the folder goes (removing it would otherwise reach into them).
  for (const h of lab.hostsOf('db')) await detachDisk(lab, h);
  rmSync(lab.dir, { recursive: true, force: true });
  return ids;
}
