import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory, parseInventory, type InventoryInput } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';

function base(): InventoryInput {
  return {
    name: 'shop',
    tiers: { db: { minHealthy: 1 }, 'db-proxy': {} },
    hosts: [
      { name: 'db-1', tier: 'db', role: 'primary', zone: 'az-a', rack: 'a1', address: '10.0.0.1', services: { mysql: 3306 } },
      { name: 'db-2', tier: 'db', role: 'replica', zone: 'az-b', rack: 'b1', address: '10.0.0.2', services: { mysql: 3306 } },
      { name: 'px-1', tier: 'db-proxy', zone: 'az-a', rack: 'a1', address: '10.0.0.3' },
    ],
    pools: [{ name: 'db-read', proxies: ['px-1'], servers: ['db-2'] }],
  };
}

function errorOf(data: unknown): GamedayError {
  try {
    parseInventory(data, 'inv.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(GamedayError);
    return err as GamedayError;
  }
  throw new Error('expected the inventory to be rejected');
}

describe('inventory validation', () => {
  it('accepts a valid inventory and fills defaults', () => {
    const inv = parseInventory(base(), 'inv.yaml');
    expect(inv.hosts).toHaveLength(3);
    expect(inv.hosts[2].services).toEqual({});
    expect(inv.placement).toEqual({});
  });

  it('names the file, the field path and the valid tiers for an unknown tier', () => {
    const inv = base();
    inv.hosts[1].tier = 'dbs';
    const err = errorOf(inv);
    expect(err.input).toBe('inv.yaml');
    expect(err.message).toContain('hosts[1].tier: unknown tier "dbs"; valid tiers: db, db-proxy');
  });

  it('rejects duplicate host names and addresses', () => {
    const inv = base();
    inv.hosts[2].name = 'db-1';
    inv.hosts[2].address = '10.0.0.2';
    const err = errorOf(inv);
    expect(err.message).toContain('hosts[2].name: duplicate host name "db-1" (also hosts[0])');
    expect(err.message).toContain('hosts[2].address: duplicate address 10.0.0.2 (also hosts[1].address)');
  });

  it('rejects a pool that names an unknown host', () => {
    const inv = base();
    inv.pools![0].servers = ['db-2', 'db-9'];
    expect(errorOf(inv).message).toContain('pools[0].servers[1]: unknown host "db-9"');
  });

  it('says which zone or rack is missing', () => {
    const inv = base() as any;
    delete inv.hosts[0].zone;
    delete inv.hosts[1].rack;
    const err = errorOf(inv);
    expect(err.message).toContain('hosts[0].zone: missing: the availability zone or data center');
    expect(err.message).toContain('hosts[1].rack: missing: the rack');
  });

  it('rejects unknown keys, bad ports and two primaries', () => {
    const inv = base() as any;
    inv.hosts[0].zoen = 'az-a';
    inv.hosts[1].services.mysql = 70000;
    const err = errorOf(inv);
    expect(err.message).toMatch(/hosts\[0\]: Unrecognized key.*zoen/);
    expect(err.message).toContain('hosts[1].services.mysql');
    const two = base();
    two.hosts[1].role = 'primary';
    expect(errorOf(two).message).toContain('tiers.db: 2 hosts have role primary (db-1, db-2)');
  });

  it('reads YAML values as YAML 1.2 core does: a date-like or yes/no value stays a string, as the yaml package read it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-inv-'));
    const file = join(dir, 'dates.yaml');
    writeFileSync(file, ['name: shop', 'tiers: { app: { kind: http } }', 'hosts:', '  - { name: web-1, tier: app, zone: 2026-01-01, rack: yes, address: 10.0.0.1 }', ''].join('\n'));
    expect(loadInventory(file).hosts[0]).toMatchObject({ zone: '2026-01-01', rack: 'yes' });
  });

  it('reports YAML syntax errors and unreadable files with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-inv-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    expect(() => loadInventory(file)).toThrow(/not valid YAML/);
    // The message is the yaml package's, with its line and column, though js-yaml reads the files that parse.
    writeFileSync(file, 'name: shop\ntiers:\n  db: { kind: mariadb\nhosts: []\n');
    expect(() => loadInventory(file)).toThrow(/not valid YAML: .*at line \d+, column \d+/s);
    try {
      loadInventory(join(dir, 'missing.yaml'));
    } catch (err) {
      expect((err as GamedayError).describe()).toContain('missing.yaml: cannot read the inventory (ENOENT)');
    }
  });
});
