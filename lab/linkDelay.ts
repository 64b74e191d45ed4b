import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from '../drivers/exec.js';
import { GamedayError } from '../core/errors.js';
import { PROJECT_ROOT } from '../core/paths.js';
import type { LabContext } from './context.js';
import { startProcess, stopProcess, isRunning } from './supervisor.js';
import { ip, linkExists } from './network.js';
import { listTable } from './nft.js';

/** Where setup builds the delay line (lab/linkdelay, Go). */
export const LINKDELAY_BINARY = join(PROJECT_ROOT, '.gameday/bin/gameday-linkdelay');

/** The pseudo-host its processes are recorded under: part of the network, not of a host (a power-off leaves it be). */
export const NETWORK_HOST = 'network';

export interface LinkDelay {
  /** Added to the round trip between the host and each peer, in ms (half each way). */
  ms: number;
  /** The round trip varies by up to this much either way, in ms. */
  jitterMs: number;
  /** The peers' addresses: only traffic with them is delayed. */
  peers: string[];
}

/**
 * The lab's latency fault on one host: its cable cut in two with a delay line
 * between. The machine-side end of the host's veth leaves the bridge; a new
 * veth pair joins the bridge in its place; the delay line copies every frame
 * between the two loose ends (lab/linkdelay/main.go). A netdev ingress chain
 * keeps the machine's own stack off both loose ends (it would answer ARP for
 * the gateway there), while the delay line's raw sockets still see every frame.
 * The kernel here has no netem; see docs/game-days.md.
 */
function delayNames(lab: LabContext, host: string) {
  return {
    hostLink: lab.network.link(host),
    loose: lab.network.delayLink(host),
    bridgeSide: lab.network.delayBridgeLink(host),
    processId: `${NETWORK_HOST}/linkdelay-${host}`,
    chain: `delay_${lab.network.link(host)}`,
    ready: join(lab.hostDir(NETWORK_HOST), `linkdelay-${host}.ready`),
    log: join(lab.hostDir(NETWORK_HOST), `linkdelay-${host}.log`),
  };
}

export function needLinkDelayBinary(): void {
  if (!existsSync(LINKDELAY_BINARY)) {
    throw new GamedayError('LAB_NO_LINKDELAY', `the lab's delay line is not built (${LINKDELAY_BINARY})`, 'latency', 'run "bash scripts/setup.sh" (it builds lab/linkdelay with Go), or leave the latency fault out');
  }
}

/** Puts a delay line into a host's link. The caller holds the lab lock. */
export async function addLinkDelay(lab: LabContext, host: string, delay: LinkDelay): Promise<void> {
  needLinkDelayBinary();
  const n = delayNames(lab, host);
  if (isRunning(lab, n.processId)) {
    throw new GamedayError('LAB_DELAY_BUSY', `${host}'s link already has a delay line`, 'latency', 'a game day killed earlier may have left it: "gameday chaos status" shows it and "gameday chaos abort <run-id>" undoes it; else give one host one latency fault at a time');
  }
  await removeLinkDelay(lab, host); // what a crashed inject left behind
  await ip(['link', 'add', n.loose, 'type', 'veth', 'peer', 'name', n.bridgeSide]);
  await ip(['link', 'set', n.bridgeSide, 'master', lab.network.bridge]);
  for (const l of [n.loose, n.bridgeSide]) await ip(['link', 'set', l, 'up']);
  rmSync(n.ready, { force: true });
  // Each direction carries half the round trip's delay, and half its jitter.
  const args = [
    '--host-link', n.hostLink, '--bridge-link', n.loose,
    '--delay-us', String(Math.round(delay.ms * 500)), '--jitter-us', String(Math.round(delay.jitterMs * 500)),
    '--peers', delay.peers.join(','), '--ready', n.ready,
  ];
  await startProcess(lab, { id: n.processId, host: NETWORK_HOST, command: LINKDELAY_BINARY, args, logFile: n.log, ready: async () => existsSync(n.ready) });
  const deadline = Date.now() + 5000;
  while (!existsSync(n.ready)) {
    if (!isRunning(lab, n.processId) || Date.now() > deadline) {
      await removeLinkDelay(lab, host);
      throw new GamedayError('LAB_DELAY_FAILED', `the delay line on ${host}'s link did not start`, n.log, `read its log: ${n.log}`);
    }
    await sleep(20);
  }
  // The line carries frames from here (for a moment beside the bridge port: TCP takes the duplicates). Then the
  // machine's stack is kept off both loose ends, and the host's end leaves the bridge: its frames now cross the line only.
  await execa('nft', ['-f', '-'], {
    timeout: 5000,
    input: `table netdev ${lab.nftTable} {
  chain ${n.chain} {
    type filter hook ingress devices = { ${n.hostLink}, ${n.loose} } priority 0; policy drop;
  }
}
`,
  });
  await ip(['link', 'set', n.hostLink, 'nomaster']);
}

/** Takes the delay line out of a host's link and plugs the host back into the bridge; what is gone is skipped. */
export async function removeLinkDelay(lab: LabContext, host: string): Promise<void> {
  const n = delayNames(lab, host);
  // The reverse of the way in: the guard goes, the host's end rejoins the bridge, then the line stops.
  const listed = await listTable(lab.nftTable, 'netdev');
  if (listed && listed.includes(`chain ${n.chain} {`)) await execa('nft', ['delete', 'chain', 'netdev', lab.nftTable, n.chain], { timeout: 5000 });
  if (await linkExists(n.hostLink)) await ip(['link', 'set', n.hostLink, 'master', lab.network.bridge]);
  await stopProcess(lab, n.processId, 'term', 2000);
  if (await linkExists(n.loose)) await ip(['link', 'del', n.loose]);
  rmSync(n.ready, { force: true });
}
