import { existsSync } from 'node:fs';
import { execa } from '../drivers/exec.js';
import { GamedayError } from '../core/errors.js';
import type { Inventory } from '../topology/index.js';
import { labSubnetPrefix } from '../core/labAddresses.js';

/**
 * The lab's network: each host is a network namespace of its own, joined to
 * the others by a veth pair and one bridge per lab, so every connection
 * between hosts (replication, the app's Redis and Sentinel traffic, HAProxy's
 * checks) crosses the links the faults act on. The operator (the CLI, the
 * load, the probes) stays in the machine's own namespace, reaching the hosts
 * through the bridge's address <prefix>.1. The hosts have no route beyond the
 * lab's subnet: nothing they send can leave it.
 */
export interface LabNetworkNames {
  bridge: string;
  gateway: string;
  /** The namespace of one host, by name. */
  netns: (host: string) => string;
  /** The machine-side end of one host's veth pair (its "cable" into the bridge). */
  link: (host: string) => string;
  /** A latency fault's veth pair on that cable (lab/linkDelay.ts): the loose end the delay line reads, and its bridge end. */
  delayLink: (host: string) => string;
  delayBridgeLink: (host: string) => string;
}

export function labNetworkNames(octet: number, inventory: Inventory): LabNetworkNames {
  const index = new Map(inventory.hosts.map((h, i) => [h.name, i]));
  return {
    bridge: `gd${octet}br`, // interface names have at most 15 characters
    gateway: `${labSubnetPrefix(octet)}.1`,
    netns: (host) => `gameday-${octet}-${host}`,
    link: (host) => `gd${octet}v${index.get(host)}`,
    delayLink: (host) => `gd${octet}l${index.get(host)}`,
    delayBridgeLink: (host) => `gd${octet}m${index.get(host)}`,
  };
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function ip(args: string[]): Promise<string> {
  return (await execa('ip', args, { timeout: 5000 })).stdout;
}

export async function linkExists(name: string): Promise<boolean> {
  return (await execa('ip', ['link', 'show', 'dev', name], { reject: false, timeout: 5000 })).exitCode === 0;
}

/** PIDs still running in a namespace (none when it does not exist). */
async function pidsIn(netns: string): Promise<number[]> {
  if (!existsSync(netnsPath(netns))) return [];
  const out = (await execa('ip', ['netns', 'pids', netns], { reject: false, timeout: 5000 })).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

async function needRoot(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new GamedayError('LAB_NEEDS_ROOT', 'the lab runs each host in a network namespace of its own, which needs root', 'user', 'run gameday lab as root (sudo), on a machine of your own');
  }
}

/**
 * Refuses a new lab whose addresses another live lab uses (its namespaces
 * still run processes); clears what a crashed lab of this octet left behind.
 */
export async function claimLabNetwork(octet: number, inventory: Inventory, dir: string): Promise<void> {
  await needRoot();
  const names = labNetworkNames(octet, inventory);
  const busy: string[] = [];
  for (const h of inventory.hosts) if ((await pidsIn(names.netns(h.name))).length > 0) busy.push(h.name);
  if (busy.length > 0) {
    throw new GamedayError(
      'LAB_OCTET_TAKEN',
      `another lab uses the addresses ${labSubnetPrefix(octet)}.x (processes run in the namespaces of ${busy.join(', ')}); nothing was started`,
      '--octet',
      `give this lab another --octet, or bring the other one down ("gameday lab down" with its --dir); ${dir} was not touched`,
    );
  }
  await removeLabNetwork(octet, inventory);
}

/**
 * Makes whatever of the lab's network is missing (idempotent: after a
 * machine restart the namespaces are gone while the lab's folder is not).
 * A host whose power is off keeps its link down.
 */
export async function ensureLabNetwork(octet: number, inventory: Inventory, poweredOff: readonly string[]): Promise<void> {
  await needRoot();
  const names = labNetworkNames(octet, inventory);
  if (!(await linkExists(names.bridge))) {
    await ip(['link', 'add', names.bridge, 'type', 'bridge']);
    await ip(['addr', 'add', `${names.gateway}/24`, 'dev', names.bridge]);
  }
  await ip(['link', 'set', names.bridge, 'up']);
  await Promise.all(
    inventory.hosts.map(async (h) => {
      const ns = names.netns(h.name);
      const link = names.link(h.name);
      if (!existsSync(netnsPath(ns))) await ip(['netns', 'add', ns]);
      if (!(await linkExists(link))) {
        await ip(['link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        await ip(['link', 'set', link, 'master', names.bridge]);
        await ip(['-n', ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
      }
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      await ip(['link', 'set', link, poweredOff.includes(h.name) ? 'down' : 'up']);
    }),
  );
}

/** A power cut as the network sees it: the host's link drops, and nothing it had in flight arrives (no RST, no FIN). */
export async function setHostLink(octet: number, inventory: Inventory, host: string, up: boolean): Promise<void> {
  await ip(['link', 'set', labNetworkNames(octet, inventory).link(host), up ? 'up' : 'down']);
}

/** Removes every namespace, link and the bridge of this lab's octet; what is already gone is skipped. */
export async function removeLabNetwork(octet: number, inventory: Inventory): Promise<void> {
  const names = labNetworkNames(octet, inventory);
  // What still runs in a host's namespace once the recorded processes are stopped was started by the lab too
  // (only the lab enters its namespaces): an ssh session, a reboot or unit start it left. It goes with its host.
  for (const h of inventory.hosts) {
    if (!existsSync(netnsPath(names.netns(h.name)))) continue;
    for (const pid of await pidsIn(names.netns(h.name))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
  for (const h of inventory.hosts) {
    if (await linkExists(names.link(h.name))) await ip(['link', 'del', names.link(h.name)]);
    // A latency fault's veth pair (lab/linkDelay.ts) goes with its host.
    if (await linkExists(names.delayLink(h.name))) await ip(['link', 'del', names.delayLink(h.name)]);
    if (existsSync(netnsPath(names.netns(h.name)))) await ip(['netns', 'del', names.netns(h.name)]);
  }
  if (await linkExists(names.bridge)) await ip(['link', 'del', names.bridge]);
}

/**
 * The command line that runs `command` inside a host's namespace (when given), in a cgroup (when given: the
 * shell joins it as root, then execs, so the PID stays the service's own), as `account` (when given).
 */
export function inHostNamespace(netns: string | undefined, command: string, args: string[], account?: { uid: number; gid: number }, cgroup?: string): { command: string; args: string[] } {
  const asAccount = account ? { command: 'setpriv', args: [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups', '--', command, ...args] } : { command, args };
  const inCgroup = cgroup ? { command: 'sh', args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, asAccount.command, ...asAccount.args] } : asAccount;
  return netns ? { command: 'nsenter', args: [`--net=${netnsPath(netns)}`, '--', inCgroup.command, ...inCgroup.args] } : inCgroup;
}


/** Bytes per second of a tc rate ("500kbit", "1mbit", "1gbit"). */
function bytesPerSecond(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/.exec(rate);
  if (!m) throw new Error(`not a rate: ${rate}`);
  return (Number(m[1]) * { kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m[2] as 'kbit' | 'mbit' | 'gbit']) / 8;
}

/**
 * Limits a host's link to `rate`, both ways: a token bucket (tc tbf) on the
 * machine's end of its veth (what reaches the host) and on the host's eth0
 * (what it sends). The bucket holds 10 ms of traffic, at least 16 KiB.
 */
export async function limitHostLink(octet: number, inventory: Inventory, host: string, rate: string): Promise<void> {
  const names = labNetworkNames(octet, inventory);
  const tbf = ['root', 'tbf', 'rate', rate, 'burst', String(Math.max(16384, Math.ceil(bytesPerSecond(rate) / 100))), 'latency', '400ms'];
  await execa('tc', ['qdisc', 'replace', 'dev', names.link(host), ...tbf], { timeout: 5000 });
  await execa('ip', ['netns', 'exec', names.netns(host), 'tc', 'qdisc', 'replace', 'dev', 'eth0', ...tbf], { timeout: 5000 });
}

/** Lifts a host's rate limit; nothing to do when there is none (or the host's namespace is gone). */
export async function unlimitHostLink(octet: number, inventory: Inventory, host: string): Promise<void> {
  const names = labNetworkNames(octet, inventory);
  const ends = [
    { run: ['tc'], dev: names.link(host) },
    { run: ['ip', 'netns', 'exec', names.netns(host), 'tc'], dev: 'eth0' },
  ];
  for (const { run, dev } of ends) {
    const shown = await execa(run[0], [...run.slice(1), 'qdisc', 'show', 'dev', dev], { reject: false, timeout: 5000 });
    if (/qdisc tbf/.test(shown.stdout)) await execa(run[0], [...run.slice(1), 'qdisc', 'del', 'dev', dev, 'root'], { timeout: 5000 });
  }
}
