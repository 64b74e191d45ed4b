import { describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { parseInventory } from '../../../topology/index.js';
import { handOffStep } from '../../../runbooks/steps/hostSteps.js';
import type { ActionStep, StepContext } from '../../../engine/types.js';
import { planRun } from '../../../engine/index.js';
import { requireRunbook } from '../../../runbooks/registry.js';
import { rebootStale, rebootStaleParams } from '../../../runbooks/rebootStale.js';

/*
 * The MariaDB hand-off against fake servers that keep state (read_only, whom
 * they replicate from, their binlog position), so that a crash can be left
 * half-way and a resume judged by where the servers end.
 */
const inventory = parseInventory(
  {
    name: 'three-dbs',
    tiers: { db: { kind: 'mariadb', minHealthy: 2 } },
    hosts: [1, 2, 3].map((n) => ({ name: `db-${n}`, tier: 'db', role: n === 1 ? 'primary' : 'replica', zone: `z${n}`, rack: `r${n}`, address: `127.0.0.${n}`, services: { mysql: 3306 } })),
  },
  'test',
);

interface Server { readOnly: boolean; master?: string; running: boolean; binlog: string; lagUs?: number }

function fleet(servers: Record<string, Server>, afterPositionTaken: (name: string) => void = () => undefined) {
  const byAddress = (address: string) => `db-${address.split('.').at(-1)}`;
  const connect = async (name: string) => {
    const s = servers[name];
    return {
      async query(sql: string, params: unknown[] = []) {
        if (sql.includes('@@read_only AS ro, @@gtid_binlog_pos AS binlog')) return [[{ ro: s.readOnly ? 1 : 0, binlog: s.binlog, slave: s.binlog }]];
        if (sql.includes('@@server_id AS id')) return [[{ id: Number(name.slice(3)), ro: s.readOnly ? 1 : 0, binlog: s.binlog, slave: '', cur: s.binlog }]];
        if (sql.includes('@@gtid_binlog_pos AS pos')) {
          const pos = s.binlog;
          afterPositionTaken(name);
          return [[{ pos }]];
        }
        if (sql.startsWith('SHOW SLAVE STATUS')) {
          if (!s.master) return [[]];
          return [[{ Master_Host: servers[s.master] ? `127.0.0.${s.master.slice(3)}` : s.master, Master_Port: 3306, Slave_IO_Running: s.running ? 'Yes' : 'No', Slave_SQL_Running: s.running ? 'Yes' : 'No', Seconds_Behind_Master: 0, Last_IO_Error: '', Last_SQL_Error: '' }]];
        }
        if (sql.includes('gameday.heartbeat WHERE')) return [[{ us: s.lagUs ?? 1000 }]];
        if (sql.includes('MASTER_GTID_WAIT')) return [[{ r: 0 }]];
        if (sql === 'SET GLOBAL read_only = ON') s.readOnly = true;
        if (sql === 'SET GLOBAL read_only = OFF') s.readOnly = false;
        if (sql === 'STOP SLAVE') s.running = false;
        if (sql === 'START SLAVE') s.running = true;
        if (sql === 'RESET SLAVE ALL') s.master = undefined;
        if (sql.startsWith('CHANGE MASTER')) s.master = byAddress(String(params[0]));
        return [[]];
      },
      end: async () => undefined,
      destroy: () => undefined,
    } as unknown as Connection;
  };
  return { mysql: connect, replication: { user: 'repl', password: 'x' } };
}

function context(f: ReturnType<typeof fleet>, earlierNotes: Array<Record<string, unknown>> = []) {
  const notes: Array<{ message: string; data?: Record<string, unknown> }> = [];
  const ctx = { inventory, env: { fleet: f }, earlierNotes, results: {}, note: async (message: string, data?: Record<string, unknown>) => void notes.push({ message, data }) } as unknown as StepContext;
  return { ctx, notes };
}

const replica = (binlog = '0-1-100'): Server => ({ readOnly: true, master: 'db-1', running: true, binlog });

describe('a MariaDB hand-off that an earlier attempt left half-done', () => {
  it('finishes a switchover stopped after the promotion: the other replica and the old primary follow the new one (before: "nothing to hand off", and db-1 was rebooted with db-3 still following it)', async () => {
    const servers = { 'db-1': { readOnly: true, running: false, binlog: '0-1-100' }, 'db-2': { readOnly: false, running: false, binlog: '0-1-100' }, 'db-3': replica() };
    const { ctx, notes } = context(fleet(servers), [{ message: 'db-2 takes writes', switchover: { phase: 'promoted', oldPrimary: 'db-1', newPrimary: 'db-2', gtid: '0-1-100' } }]);
    const result = await handOffStep('h', 'db-1').run(ctx);
    expect(result).toMatchObject({ handedOff: 'db-primary', newPrimary: 'db-2' });
    expect(servers['db-3'].master).toBe('db-2');
    expect(servers['db-1']).toMatchObject({ master: 'db-2', running: true, readOnly: true });
    expect(notes.at(-1)?.data?.switchover).toMatchObject({ phase: 'done' });
  });

  it('switches over again when an attempt left the old primary read-only before any promotion (before: skipped, writes refused until someone noticed)', async () => {
    const servers: Record<string, Server> = { 'db-1': { readOnly: true, running: false, binlog: '0-1-100' }, 'db-2': replica(), 'db-3': replica() };
    const { ctx } = context(fleet(servers), [{ message: 'db-1 refuses writes', switchover: { phase: 'read-only', oldPrimary: 'db-1', newPrimary: 'db-2', gtid: '0-1-100' } }]);
    const result = await handOffStep('h', 'db-1').run(ctx);
    expect(result).toMatchObject({ handedOff: 'db-primary' });
    const writable = Object.entries(servers).filter(([, s]) => !s.readOnly).map(([n]) => n);
    expect(writable).toHaveLength(1);
    expect(servers['db-1'].master).toBe(writable[0]);
  });

  it('journals each phase of a fresh switchover, and a host with no record and no writes is left alone', async () => {
    const servers = { 'db-1': { readOnly: false, running: false, binlog: '0-1-100' }, 'db-2': replica(), 'db-3': replica() };
    const { ctx, notes } = context(fleet(servers));
    await handOffStep('h', 'db-1').run(ctx);
    expect(notes.map((n) => (n.data?.switchover as { phase?: string } | undefined)?.phase).filter(Boolean)).toEqual(['read-only', 'promoted', 'done']);
    const again = context(fleet(servers));
    expect(await handOffStep('h', 'db-1').run(again.ctx)).toEqual({ handedOff: null });
  });
});

describe('writes a SUPER user made after read_only', () => {
  it('are never adopted: the old primary stays out of replication, the step fails and names them (before: gtid_slave_pos = @@gtid_binlog_pos hid them)', async () => {
    const servers: Record<string, Server> = { 'db-1': { readOnly: false, running: false, binlog: '0-1-100' }, 'db-2': replica(), 'db-3': replica() };
    // Two writes land on db-1 after its position was taken (read_only does not stop SUPER).
    const f = fleet(servers, (name) => {
      if (name === 'db-1') servers['db-1'].binlog = '0-1-102';
    });
    const { ctx, notes } = context(f);
    const err = await handOffStep('h', 'db-1').run(ctx).catch((e: Error) => e);
    expect((err as Error).message).toContain('db-1 binlogged 2 transaction(s) after it turned read-only at 0-1-100 (0-1-101..0-1-102 (2 transactions)');
    expect((err as Error).message).toContain('gameday runbook run rejoin-db --host db-1');
    expect(servers['db-1'].readOnly).toBe(true);
    expect(servers['db-1'].master).toBeUndefined();
    expect(notes.some((n) => typeof n.data?.degraded === 'string' && String(n.data.degraded).startsWith('db-1:'))).toBe(true);
  });
});

describe('a wave of reboot-stale with two hosts of one MariaDB cluster (maxUnavailable 2)', () => {
  it('never switches the primary over to a host of the same wave (before: the most caught-up replica, which the next lane then reboots)', async () => {
    const tempting = parseInventory(
      {
        name: 'four-dbs-one-zone',
        tiers: { db: { kind: 'mariadb', minHealthy: 2, maxUnavailable: 2 } },
        hosts: [1, 2, 3, 4].map((n) => ({ name: `db-${n}`, tier: 'db', role: n === 1 ? 'primary' : 'replica', zone: 'z1', rack: `r${n}`, address: `127.0.0.${n}`, services: { mysql: 3306 } })),
      },
      'test',
    );
    const servers: Record<string, Server> = { 'db-1': { readOnly: false, running: false, binlog: '0-1-100' }, 'db-2': replica(), 'db-3': replica(), 'db-4': replica() };
    const f = { ...fleet(servers), power: () => ({ kind: 'ssh', uptimeSeconds: async () => 200 * 86_400 }) };
    const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d', concurrency: '2' }, { inventory: tempting, env: { fleet: f } });
    const plan = view.plan as { waves: Array<{ hosts: string[] }> };
    const wave = plan.waves.find((w) => w.hosts.includes('db-1'))!;
    expect(wave.hosts.length).toBe(2);
    // The wave's other db host is the most caught-up replica: the one a switchover would pick.
    const peer = wave.hosts.find((h) => h !== 'db-1')!;
    for (const [name, server] of Object.entries(servers)) if (name !== 'db-1') server.lagUs = name === peer ? 0 : 5_000_000;
    const steps = rebootStale.steps(view.plan as never, rebootStaleParams.parse({ maxUptime: '180d', concurrency: '2' }));
    const handOff = steps.find((s) => s.id.endsWith('/db-1/hand-off'))!;
    const { ctx } = context(f as never);
    const result = (await (handOff as ActionStep).run({ ...ctx, inventory: tempting } as StepContext)) as { newPrimary: string };
    expect(wave.hosts).not.toContain(result.newPrimary);
    expect(servers[result.newPrimary].readOnly).toBe(false);
  });
});
