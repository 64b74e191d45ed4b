import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GamedayError } from '../core/errors.js';
import type { FaultDriver, ResolvedFault } from '../drivers/faults/types.js';
import { requireLab, type LabContext } from './context.js';
import { powerOffDomain, powerOnDomain } from './power.js';
import { stopProcess } from './supervisor.js';
import { startHosts } from './up.js';
import { withLabLock } from './labLock.js';
import { limitHostLink, unlimitHostLink } from './network.js';
import { addFaultChain, faultChain, flowRule, nftAvailable, removeFaultChain } from './nft.js';
import { rootConnection } from './bootstrap.js';
import { addLinkDelay, removeLinkDelay } from './linkDelay.js';
import { redisPaths } from './configs/redis.js';
import type { Host } from '../topology/index.js';

/** Which lab process serves an inventory service. */
const PROCESS_OF_SERVICE: Record<string, string> = {
  mysql: 'mariadbd',
  'db-health': 'health',
  redis: 'redis',
  sentinel: 'sentinel',
  'mysql-write': 'haproxy',
  'mysql-read': 'haproxy',
};

function processIdOf(lab: LabContext, host: string, service: string): string {
  const h = lab.host(host);
  const proc = PROCESS_OF_SERVICE[service] ?? (h.tier === 'proxy' ? 'haproxy' : service === 'http' ? 'app' : undefined);
  if (!proc || !(service in h.services)) {
    throw new GamedayError('LAB_NO_SERVICE', `${host} runs no service "${service}" (it runs ${Object.keys(h.services).join(', ')})`, `host ${host}: services`, 'name one of its services in the fault, or target another host');
  }
  return `${host}/${proc}`;
}

async function needNft(what: string): Promise<void> {
  if (!(await nftAvailable())) throw new GamedayError('LAB_NO_NFT', `${what} needs nftables (nft) and root`, 'nft', 'run as root, or leave this fault out');
}

/**
 * The 2017 case C on the lab: every given Redis server (default: all)
 * SIGKILLed, its RDB and AOF files deleted, and started again empty.
 * Sentinel keeps its primary; the data set (and the warm marker) is gone.
 */
export async function loseRedisData(l: LabContext, redis: Host[] = l.hostsOf('redis')): Promise<string[]> {
  await withLabLock(l.dir, 'redis data loss', async () => {
    l.reload();
    await Promise.all(redis.map((h) => stopProcess(l, `${h.name}/redis`, 'kill')));
    for (const h of redis) {
      const dir = redisPaths(l, h).dir;
      rmSync(join(dir, 'dump.rdb'), { force: true });
      rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
    }
    await startHosts(l, redis);
  });
  return redis.map((h) => h.name);
}

/**
 * Faults on the lab: a power loss freezes the hosts, drops their links and
 * SIGKILLs them; a crash is SIGKILL of one process (started again by the
 * undo); replication stops with STOP SLAVE; a partition, a one-way
 * partition and packet loss are each an nft chain of their own on the lab's
 * bridge; a bandwidth limit is a token bucket on both ends of the host's link;
 * latency is a delay line cut into the host's link (lab/linkDelay.ts);
 * a Redis data loss restarts every Redis with its files deleted.
 */
export function labFaultDriver(labDir: string): FaultDriver {
  const lab = () => requireLab(labDir);
  const hostsOf = (l: LabContext, names: string[]) => names.map((n) => l.host(n));
  return {
    kind: 'lab',
    supports: ['power-off', 'kill-process', 'stop-replication', 'partition', 'redis-data-loss', 'one-way', 'loss', 'bandwidth', 'latency'],
    check(faults) {
      // One delay line per host's link: a second would be refused mid-run, and its undo would take the first one out.
      const seen = new Map<string, string>();
      for (const f of faults.filter((x) => x.type === 'latency')) {
        for (const h of f.hosts) {
          const other = seen.get(h);
          if (other) throw new GamedayError('FAULT_OVERLAP', `latency faults ${other} and ${f.id} both delay ${h}'s link; the lab holds one delay line per host`, `fault ${f.id}`, 'give each host one latency fault (its peers may be many)');
          seen.set(h, f.id);
        }
      }
    },
    async inject(f: ResolvedFault) {
      const l = lab();
      switch (f.type) {
        case 'power-off': {
          const r = await powerOffDomain(l, { kind: 'host', name: f.label, hosts: f.hosts });
          return { processes: r.processes };
        }
        case 'kill-process': {
          const id = processIdOf(l, f.hosts[0], f.service!);
          await withLabLock(l.dir, `kill ${id}`, async () => {
            l.reload();
            await stopProcess(l, id, 'kill');
          });
          return { killed: id };
        }
        case 'stop-replication': {
          const conn = await rootConnection(l, l.host(f.hosts[0]));
          try {
            await conn.query(f.thread === 'io' ? 'STOP SLAVE IO_THREAD' : 'STOP SLAVE SQL_THREAD');
          } finally {
            await conn.end();
          }
          return { stopped: `${f.thread ?? 'sql'} thread of ${f.hosts[0]}` };
        }
        case 'partition': {
          await needNft('a partition');
          const [a, b] = f.sides!.map((side) => hostsOf(l, side).map((h) => h.address));
          await addFaultChain(l.nftTable, faultChain(f.id), [flowRule({ from: a, to: b }), flowRule({ from: b, to: a })]);
          return { between: f.sides };
        }
        case 'redis-data-loss':
          await loseRedisData(l, hostsOf(l, f.hosts));
          return { emptied: f.hosts };
        case 'one-way': {
          await needNft('a one-way partition');
          const [from, to] = f.sides!.map((side) => hostsOf(l, side).map((h) => h.address));
          await addFaultChain(l.nftTable, faultChain(f.id), [flowRule({ from, to })]);
          return { from: f.sides![0], to: f.sides![1] };
        }
        case 'loss': {
          await needNft('packet loss');
          const [a, b] = f.sides!.map((side) => hostsOf(l, side).map((h) => h.address));
          await addFaultChain(l.nftTable, faultChain(f.id), [flowRule({ from: a, to: b }, f.percent), flowRule({ from: b, to: a }, f.percent)]);
          return { percent: f.percent, between: f.sides };
        }
        case 'bandwidth':
          for (const h of f.hosts) await limitHostLink(l.state.octet, l.inventory, h, f.rate!);
          return { rate: f.rate, hosts: f.hosts };
        case 'latency': {
          const peers = hostsOf(l, f.sides![1]).map((h) => h.address);
          await withLabLock(l.dir, `latency on ${f.label}`, async () => {
            l.reload();
            for (const h of f.hosts) await addLinkDelay(l, h, { ms: f.delayMs!, jitterMs: f.jitterMs ?? 0, peers });
          });
          return { delayMs: f.delayMs, jitterMs: f.jitterMs ?? 0, between: f.sides };
        }
      }
    },
    async undo(f: ResolvedFault) {
      const l = lab();
      switch (f.type) {
        case 'power-off': {
          const r = await powerOnDomain(l, { kind: 'host', name: f.label, hosts: f.hosts });
          return { started: r.processes };
        }
        case 'kill-process':
          return withLabLock(l.dir, `restart after kill`, async () => {
            l.reload();
            return { started: await startHosts(l, hostsOf(l, f.hosts)) };
          });
        case 'stop-replication': {
          const conn = await rootConnection(l, l.host(f.hosts[0]));
          try {
            // A replica that failover-db promoted meanwhile replicates from nothing: leave it be.
            const [rows] = await conn.query('SHOW SLAVE STATUS');
            if ((rows as unknown[]).length > 0) await conn.query(f.thread === 'io' ? 'START SLAVE IO_THREAD' : 'START SLAVE SQL_THREAD');
          } finally {
            await conn.end();
          }
          return { started: `${f.thread ?? 'sql'} thread of ${f.hosts[0]}` };
        }
        case 'partition':
        case 'one-way':
        case 'loss':
          if (await nftAvailable()) await removeFaultChain(l.nftTable, faultChain(f.id));
          return { healed: true };
        case 'bandwidth':
          for (const h of f.hosts) await unlimitHostLink(l.state.octet, l.inventory, h);
          return { unlimited: f.hosts };
        case 'latency':
          await withLabLock(l.dir, `undo latency on ${f.label}`, async () => {
            l.reload();
            for (const h of f.hosts) await removeLinkDelay(l, h);
          });
          return { healed: true };
        case 'redis-data-loss':
          // The data cannot come back by itself: rebuilding it from MariaDB is `gameday warmup redis verify --repair`.
          return { note: 'Redis data is rebuilt from MariaDB by the repair, not by an undo' };
      }
    },
  };
}
