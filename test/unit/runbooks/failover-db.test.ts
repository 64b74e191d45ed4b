import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mysql2/promise';
import { pino } from 'pino';
import { labInventory } from '../../../lab/layout.js';
import { loadInventory, type Host } from '../../../topology/index.js';
import { planRun, renderRunbookDocs } from '../../../engine/index.js';
import { requireRunbook } from '../../../runbooks/registry.js';
import type { FleetEnv } from '../../../runbooks/steps/fleet.js';
import { lossVerdict, writePools, type Vantage } from '../../../runbooks/steps/primaryLoss.js';

const log = pino({ level: 'silent' });
const inventory = labInventory(20);

describe('the write pool rule', () => {
  it('takes the pools of db hosts whose name or backend says write', () => {
    expect(writePools(inventory).map((p) => [p.pool, p.backend, p.proxies.map((x) => x.name)])).toEqual([['db-write', 'db_write', ['proxy-1', 'proxy-2']]]);
    const rack = loadInventory(fileURLToPath(new URL('../../fixtures/outage-rack.yaml', import.meta.url)));
    expect(writePools(rack).map((p) => p.pool)).toEqual(['db-write']);
  });
});

describe('lossVerdict', () => {
  const v = (kind: Vantage['kind'], from: string, opinion: Vantage['opinion'], writable?: boolean): Vantage => ({ kind, from, opinion, detail: opinion, writable });

  it('a primary that answers writable is alive, whatever the others say', () => {
    expect(lossVerdict('db-1', [v('direct', 'direct connect', 'alive', true), v('proxy', 'proxy-1', 'lost'), v('replica', 'db-2', 'lost')]).state).toBe('alive-writable');
    expect(lossVerdict('db-1', [v('direct', 'direct connect', 'alive', false)]).state).toBe('alive-read-only');
  });

  it('needs two kinds of vantage point that see it lost', () => {
    expect(lossVerdict('db-1', [v('direct', 'direct connect', 'lost'), v('proxy', 'proxy-1', 'lost'), v('proxy', 'proxy-2', 'lost')]).state).toBe('lost');
    expect(lossVerdict('db-1', [v('direct', 'direct connect', 'lost'), v('replica', 'db-2', 'lost')]).state).toBe('lost');
    const one = lossVerdict('db-1', [v('direct', 'direct connect', 'lost'), v('proxy', 'proxy-1', 'unknown')]);
    expect(one.state).toBe('unconfirmed');
    expect(one.summary).toContain('only 1 kind(s) of vantage point see db-1 lost');
  });

  it('is not confirmed while any proxy or replica still sees it alive', () => {
    const r = lossVerdict('db-1', [v('direct', 'direct connect', 'lost'), v('proxy', 'proxy-1', 'lost'), v('proxy', 'proxy-2', 'alive'), v('replica', 'db-2', 'lost')]);
    expect(r.state).toBe('unconfirmed');
    expect(r.summary).toMatch(/^proxy-2 still see db-1 alive/);
  });

  it('counts both proxies gone with the rack for nothing: the direct connect and the replicas decide', () => {
    expect(lossVerdict('db-1', [v('direct', 'direct connect', 'lost'), v('proxy', 'proxy-1', 'unknown'), v('proxy', 'proxy-2', 'unknown'), v('replica', 'db-2', 'lost'), v('replica', 'db-3', 'lost')]).state).toBe('lost');
  });
});

/** A pretend MariaDB server: the few answers the runbooks read. */
interface FakeDb {
  readOnly: boolean;
  serverId: number;
  binlog: string;
  slave: string;
  replica?: { masterHost: string; io: string; ioError?: string; gtidIoPos: string };
}

function fakeConnection(db: FakeDb): Connection {
  const query = async (sql: string) => {
    if (sql.startsWith('SELECT @@server_id')) return [[{ id: db.serverId, ro: db.readOnly ? 1 : 0, binlog: db.binlog, slave: db.slave, cur: db.binlog || db.slave }]];
    if (sql === 'SHOW SLAVE STATUS') {
      const r = db.replica;
      return [r ? [{ Master_Host: r.masterHost, Master_Port: 3306, Slave_IO_Running: r.io, Slave_SQL_Running: 'Yes', Last_IO_Error: r.ioError ?? '', Last_SQL_Error: '', Gtid_IO_Pos: r.gtidIoPos }] : []];
    }
    throw new Error(`a dry run must not send: ${sql}`);
  };
  return { query, end: async () => undefined, destroy: () => undefined } as unknown as Connection;
}

/** A HAProxy runtime API on a unix socket that answers `show stat` with these db_write statuses. */
function fakeProxy(path: string, statuses: Record<string, string>): Promise<Server> {
  const csv = ['# pxname,svname,status,weight,check_status,scur', ...Object.entries(statuses).map(([s, st]) => `db_write,${s},${st},100,L7STS,0`), ''].join('\n');
  const server = createServer((sock) => sock.once('data', () => sock.end(csv)));
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

describe('plans (dry runs) against a pretend fleet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gameday-failover-unit-'));
  const servers: Server[] = [];
  let dbs: Record<string, FakeDb | undefined> = {};
  const fleetEnv: FleetEnv = {
    power: () => {
      throw new Error('no power in a dry run');
    },
    haproxyEndpoint: (proxy: Host) => join(dir, `${proxy.name}.sock`),
    mysql: async (name) => {
      const db = dbs[name];
      if (!db) throw new Error('connect ECONNREFUSED');
      return fakeConnection(db);
    },
    replication: { user: 'repl', password: 'x' },
    sentinelMasterName: 'notifications',
  };
  const env = { fleet: fleetEnv };
  const replicaOf = (address: string, pos: string, io = 'Connecting'): FakeDb => ({ readOnly: true, serverId: 0, binlog: pos, slave: pos, replica: { masterHost: address, io, gtidIoPos: pos } });

  beforeAll(async () => {
    for (const p of ['proxy-1', 'proxy-2']) servers.push(await fakeProxy(join(dir, `${p}.sock`), { 'db-1': 'DOWN', 'db-2': 'DOWN', 'db-3': 'DOWN' }));
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('failover-db: finds the primary from the replicas, confirms the loss, lists every step', async () => {
    dbs = { 'db-2': replicaOf('198.18.20.11', '0-1-100'), 'db-3': replicaOf('198.18.20.11', '0-1-98') };
    const view = await planRun(requireRunbook('failover-db'), { confirmWithin: '2s' }, { inventory, env, log });
    expect(view.plan).toMatchObject({ primary: 'db-1', primaryZone: 'az-a', replicas: ['db-2', 'db-3'] });
    const evidence = (view.plan as { evidence: Vantage[] }).evidence.map((e) => `${e.from}: ${e.opinion}`);
    expect(evidence).toEqual(['direct connect: lost', 'proxy-1: lost', 'proxy-2: lost', 'db-2: lost', 'db-3: lost']);
    expect(view.locks).toEqual(['host:db-1', 'host:db-2', 'host:db-3']);
    expect(view.steps.map((s) => s.id)).toEqual(['confirm-lost', 'fence-old-primary', 'freeze-replicas', 'relay-logs-applied', 'pick-new-primary', 'promote', 'repoint-replicas', 'open-write-pools', 'write-pools-follow', 'record']);
    expect(view.steps.find((s) => s.id === 'promote')!.target).toBe('(the most advanced replica, picked at run time)');
  });

  it('failover-db: replicas that still think they are connected neither confirm nor deny (a dark primary shows late to them)', async () => {
    dbs = { 'db-2': replicaOf('198.18.20.11', '0-1-100', 'Yes'), 'db-3': replicaOf('198.18.20.11', '0-1-100', 'Yes') };
    const view = await planRun(requireRunbook('failover-db'), { confirmWithin: '2s' }, { inventory, env, log });
    const evidence = (view.plan as { evidence: Vantage[] }).evidence.map((e) => `${e.from}: ${e.opinion}`);
    expect(evidence).toEqual(['direct connect: lost', 'proxy-1: lost', 'proxy-2: lost', 'db-2: unknown', 'db-3: unknown']);
  });

  it('failover-db: refuses a primary that answers writable, naming the switchover', async () => {
    dbs = { 'db-1': { readOnly: false, serverId: 1, binlog: '0-1-100', slave: '' }, 'db-2': replicaOf('198.18.20.11', '0-1-100', 'Yes') };
    await expect(planRun(requireRunbook('failover-db'), {}, { inventory, env, log })).rejects.toMatchObject({
      code: 'PRIMARY_ALIVE',
      message: 'the primary is alive: use a switchover (reboot-stale does one) instead',
    });
  });

  it('failover-db: refuses when another db host already takes writes', async () => {
    dbs = { 'db-2': { readOnly: false, serverId: 2, binlog: '0-2-120', slave: '0-1-100' }, 'db-3': replicaOf('198.18.20.111', '0-2-120', 'Yes') };
    await expect(planRun(requireRunbook('failover-db'), { primary: 'db-1' }, { inventory, env, log })).rejects.toMatchObject({ code: 'ALREADY_FAILED_OVER' });
  });

  it('failover-db: without a replica that answers, asks for --primary', async () => {
    dbs = {};
    await expect(planRun(requireRunbook('failover-db'), {}, { inventory, env, log })).rejects.toMatchObject({ code: 'PRIMARY_UNKNOWN', input: '--primary' });
  });

  it('rejoin-db: takes the promotion point from the new primary and shows what is errant', async () => {
    dbs = { 'db-1': { readOnly: false, serverId: 1, binlog: '0-1-104', slave: '' }, 'db-2': { readOnly: false, serverId: 2, binlog: '0-2-130', slave: '0-1-100' }, 'db-3': replicaOf('198.18.20.111', '0-2-130', 'Yes') };
    const view = await planRun(requireRunbook('rejoin-db'), { host: 'db-1' }, { inventory, env, log });
    expect(view.plan).toMatchObject({ host: 'db-1', newPrimary: 'db-2', promotedAtGtid: '0-1-100', errantAtPlan: '0-1-101..0-1-104 (4 transactions)' });
    expect(view.steps.slice(0, 5).map((s) => s.id)).toEqual(['db-1/fence', 'db-1/read-only', 'db-1/errant-check', 'db-1/discard-errant', 'db-1/replicate']);
    expect(view.steps.at(-1)!.id).toBe('db-1/ramp'); // the weight comes back through the gated ramp
  });

  it('rejoin-db: refuses a bad --promoted-at-gtid before anything acts', async () => {
    dbs = { 'db-1': { readOnly: false, serverId: 1, binlog: '0-1-104', slave: '' }, 'db-2': { readOnly: false, serverId: 2, binlog: '0-2-130', slave: '0-1-100' } };
    await expect(planRun(requireRunbook('rejoin-db'), { host: 'db-1', promotedAtGtid: '0-1' }, { inventory, env, log })).rejects.toMatchObject({ code: 'BAD_GTID', input: '--promoted-at-gtid' });
  });

  it('documents both runbooks from their example plans; outside the lab each asks before it acts', () => {
    const failover = renderRunbookDocs(requireRunbook('failover-db'));
    expect(failover).toContain('`promote`');
    expect(failover).toMatch(/2\. \*\*approve the failover from db-1\*\* \(approval\)/);
    const rejoin = renderRunbookDocs(requireRunbook('rejoin-db'));
    expect(rejoin).toContain('`db-1/errant-check`');
    expect(rejoin).toMatch(/4\. \*\*approve making db-1 a replica of db-2\*\* \(approval\)/);
  });
});
