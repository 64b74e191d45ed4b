import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { inventoryFromAnsibleText } from '../../../topology/ansible.js';
import { loadInventory, placementCheck, kindOf } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';

const fixture = (f: string) => fileURLToPath(new URL(`../../fixtures/ansible/${f}`, import.meta.url));
const read = (f: string) => inventoryFromAnsibleText(readFileSync(fixture(f), 'utf8'), 'bookstore', fixture(f));
const refusal = (text: string, source = 'hosts.ini') => {
  try {
    inventoryFromAnsibleText(text, 'x', source);
  } catch (e) {
    expect(e).toBeInstanceOf(GamedayError);
    return e as GamedayError;
  }
  throw new Error('not refused');
};

describe('gameday inventory from-ansible', () => {
  it('reads the bookstore\'s fleet from INI and from YAML alike, taking variables from groups, parents and hosts', () => {
    const ini = read('bookstore.ini');
    expect(read('bookstore.yml')).toEqual(ini);
    const host = (name: string) => ini.hosts.find((h) => h.name === name)!;
    expect(host('main-db-3')).toMatchObject({ tier: 'main-db', zone: 'room-2', rack: 'r05', role: 'replica', address: '10.2.5.13', services: { mysql: 3306 } });
    expect(host('web03')).toMatchObject({ tier: 'web', zone: 'room-1', rack: 'r01', address: 'web03' }); // web[01:04], zone from a grandparent group
    expect(ini.tiers).toMatchObject({ 'main-db': { kind: 'mariadb', minHealthy: 2 }, 'pub-db': { kind: 'mariadb' }, api: { kind: 'http', minHealthy: 1 } });
    expect(kindOf(ini, host('storage-1'))).toBe('generic');
  });

  it('gives a placement check that names the 2017 rack: both db proxies stood in r07', () => {
    const check = placementCheck(read('bookstore.ini'));
    expect(check.ok).toBe(false);
    expect(check.breaks).toContain('rack room-1/r07: tier db-proxy: 0 of 2 left, minHealthy is 1');
  });

  it('names each host that lacks a failure domain, and how to give it one', () => {
    const err = refusal('[db]\ndb-1 rack=r1 tier=db\ndb-2 zone=z tier=db\n');
    expect(err.message).toContain('host db-1: no zone; set zone=<zone> on the host or one of its groups');
    expect(err.message).toContain('host db-2: no rack; set rack=<rack>');
    expect(err.input).toBe('hosts.ini');
  });

  it('asks for gameday_name when the Ansible name is an FQDN, and reaches the host at that name', () => {
    expect(refusal('[app]\nweb1.example.com zone=z rack=r\n').message).toContain('host web1.example.com: "web1.example.com" is not a gameday host name');
    const inv = inventoryFromAnsibleText('[app]\nweb1.example.com zone=z rack=r gameday_name=web-1\n', 'x', 'hosts.ini');
    expect(inv.hosts[0]).toMatchObject({ name: 'web-1', tier: 'app', address: 'web1.example.com' });
  });

  it('refuses a line that is not key=value, and a database tier with no kind, saying where', () => {
    expect(refusal('[db]\ndb-1 zone z\n').input).toBe('hosts.ini:2');
    expect(refusal('[pubdb]\ndb-1 zone=z rack=r services=\'{"mysql": 3306}\'\n').message).toMatch(/tiers\.pubdb\.kind: its hosts run mysql/);
  });

  it('writes a file that placement check reads, through the CLI; a missing file is exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-ansible-'));
    try {
      const gameday = fileURLToPath(new URL('../../../bin/gameday.js', import.meta.url));
      const out = join(dir, 'bookstore.yaml');
      const r = await execa(process.execPath, [gameday, 'inventory', 'from-ansible', fixture('bookstore.ini'), '--name', 'bookstore', '--out', out], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain('19 hosts in 9 tiers over 2 zone(s)');
      expect(loadInventory(out).hosts).toHaveLength(19);
      const missing = await execa(process.execPath, [gameday, 'inventory', 'from-ansible', join(dir, 'nope.ini')], { reject: false });
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toContain('ANSIBLE_UNREADABLE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
