import { findDomain, type Domain } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { LabContext } from './context.js';
import { freezeProcess, stopProcess } from './supervisor.js';
import { setHostLink } from './network.js';
import { startHosts } from './up.js';
import { withLabLock } from './labLock.js';

export interface PowerResult {
  domain: Domain;
  processes: string[];
}

function resolveTarget(lab: LabContext, target: string): Domain {
  const domain = findDomain(lab.inventory, target);
  if (!domain) {
    const zones = [...new Set(lab.inventory.hosts.map((h) => h.zone))];
    const racks = [...new Set(lab.inventory.hosts.map((h) => h.rack))];
    throw new GamedayError(
      'LAB_UNKNOWN_TARGET',
      `"${target}" is not a host, rack or zone of the lab; nothing was touched`,
      target,
      `hosts: ${lab.inventory.hosts.map((h) => h.name).join(', ')}; racks: ${racks.join(', ')}; zones: ${zones.join(', ')}`,
    );
  }
  return domain;
}

/**
 * A power loss, not a shutdown: the target's processes are frozen (SIGSTOP),
 * its links dropped (so connections to it hang and the dying sockets send
 * nothing), then its processes are SIGKILLed.
 */
export async function powerOff(lab: LabContext, target: string): Promise<PowerResult> {
  return powerOffDomain(lab, resolveTarget(lab, target));
}

/** Power loss of any set of lab hosts at once (a game day's fault). */
export async function powerOffDomain(lab: LabContext, domain: Domain): Promise<PowerResult> {
  return withLabLock(lab.dir, `power-off ${domain.name}`, async () => {
    lab.reload();
    const ids = Object.entries(lab.state.processes).filter(([, rec]) => domain.hosts.includes(rec.host)).map(([id]) => id);
    // Frozen first, then cut off, then killed: between the cut and the kill, a running MariaDB committed writes
    // that no replica could receive (errant transactions a real power loss does not make).
    for (const id of ids) freezeProcess(lab, id);
    await Promise.all(domain.hosts.map((h) => setHostLink(lab.state.octet, lab.inventory, h, false)));
    await Promise.all(ids.map((id) => stopProcess(lab, id, 'kill')));
    lab.state.poweredOff = [...new Set([...lab.state.poweredOff, ...domain.hosts])];
    lab.save();
    return { domain, processes: ids };
  });
}

/**
 * Power comes back: the links come up and the hosts' processes start
 * cold (no fresh buffer-pool dump, Redis with what its files kept, replicas
 * reconnecting by themselves).
 */
export async function powerOn(lab: LabContext, target: string): Promise<PowerResult> {
  return powerOnDomain(lab, resolveTarget(lab, target));
}

/** Power comes back to any set of lab hosts (the undo of powerOffDomain). */
export async function powerOnDomain(lab: LabContext, domain: Domain): Promise<PowerResult> {
  return withLabLock(lab.dir, `power-on ${domain.name}`, async () => {
    lab.reload();
    await Promise.all(domain.hosts.map((h) => setHostLink(lab.state.octet, lab.inventory, h, true)));
    lab.state.poweredOff = lab.state.poweredOff.filter((h) => !domain.hosts.includes(h));
    lab.save();
    const started = await startHosts(lab, domain.hosts.map((h) => lab.host(h)));
    return { domain, processes: started };
  });
}

/**
 * A clean reboot of one host: its processes stop as on a shutdown (MariaDB
 * dumps its buffer pool, Redis writes its files), then start again.
 */
export async function rebootHost(lab: LabContext, hostName: string): Promise<string[]> {
  const host = lab.inventory.hosts.find((h) => h.name === hostName);
  if (!host) {
    throw new GamedayError('LAB_UNKNOWN_HOST', `"${hostName}" is not a lab host; nothing was touched`, hostName, `hosts: ${lab.inventory.hosts.map((h) => h.name).join(', ')}`);
  }
  return withLabLock(lab.dir, `reboot ${hostName}`, async () => {
    lab.reload();
    const ids = Object.entries(lab.state.processes).filter(([, rec]) => rec.host === hostName).map(([id]) => id);
    await Promise.all(ids.map((id) => stopProcess(lab, id, 'term')));
    return startHosts(lab, [host]);
  });
}
