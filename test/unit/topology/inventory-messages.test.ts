import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseInventory } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { isHostAddress } from '../../../topology/schema.js';
import { inWindow, maintenanceWindowSchema } from '../../../runbooks/planning/maintenanceWindow.js';

const base = (hosts: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({
  name: 'fleet',
  tiers: { web: { minHealthy: 1 } },
  hosts: hosts.map((h, i) => ({ name: `web-${i + 1}`, tier: 'web', zone: i % 2 ? 'az-b' : 'az-a', rack: `r${i}`, address: `10.0.0.${i + 1}`, ...h })),
  ...extra,
});
const problemsOf = (data: unknown): string => {
  try {
    parseInventory(data, 'fleet.yaml');
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(GamedayError);
    return (err as GamedayError).message;
  }
};

describe('inventory messages say what is wrong', () => {
  it('an empty address is named as empty, not as "must be a string"', () => {
    expect(problemsOf(base([{ address: '' }, {}]))).toContain('hosts[0].address: must not be empty');
  });

  it('an empty file says it is empty', () => {
    expect(problemsOf(null)).toBe('the inventory is empty');
  });

  it('duplicates are found across trailing dots and letter case; spaces are refused', () => {
    expect(problemsOf(base([{ address: 'DB-1.example.com' }, { address: 'db-1.example.com.' }]))).toContain('hosts[1].address: duplicate address db-1.example.com. (also hosts[0].address, written DB-1.example.com)');
    expect(problemsOf(base([{ address: '10.0.1.11 ' }, { address: '10.0.1.11' }]))).toContain('hosts[0].address: "10.0.1.11 " is not an IP address');
  });

  it.each(['-oProxyCommand=touch /tmp/x', '1.1.1.1; touch x', '$(id)', 'a b', 'host_name', '../etc', 'ssh://10.0.0.1'])('refuses the address %j in the schema', (address) => {
    expect(problemsOf(base([{ address }, {}]))).toMatch(/hosts\[0\]\.address: .* is not an IP address, a DNS name/);
  });

  it.each(['10.0.1.11', '::1', 'fe80::1', 'db-1.internal', 'gd-dev-redis-1.abc123.0001.use1.cache.amazonaws.com', 'asg/gameday-dev-web-1/web-3'])('accepts the address %j', (address) => {
    expect(problemsOf(base([{ address }, {}]))).toBe('');
  });

  it('flags a minZones no zone count or tier size can meet', () => {
    expect(problemsOf(base([{}, {}], { placement: { minZones: 99 } }))).toContain('placement.minZones: 99, but the inventory has 2 zones and tier web 2 hosts');
  });
});

describe('property: the inventory loader never throws anything but one GamedayError', () => {
  const anyValue = fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true });
  it('for arbitrary values', () => {
    fc.assert(fc.property(anyValue, (data) => {
      try {
        parseInventory(data, 'fuzz');
      } catch (err) {
        return err instanceof GamedayError && err.message.length > 0;
      }
      return true;
    }), { numRuns: 500 });
  });

  it('for inventories with arbitrary strings in every field', () => {
    const host = fc.record({ name: fc.string(), tier: fc.oneof(fc.constant('web'), fc.string()), zone: fc.string(), rack: fc.string(), address: fc.string() });
    fc.assert(fc.property(fc.array(host, { maxLength: 6 }), fc.option(fc.integer({ min: -5, max: 200 })), (hosts, minZones) => {
      try {
        parseInventory({ name: 'f', tiers: { web: {} }, hosts, placement: minZones === null ? {} : { minZones } }, 'fuzz');
      } catch (err) {
        return err instanceof GamedayError;
      }
      return true;
    }), { numRuns: 500 });
  });

  it('an address the schema accepts never starts with a dash or holds a space, quote or shell metacharacter', () => {
    fc.assert(fc.property(fc.string(), (s) => !isHostAddress(s) || !/^-|[\s'"`$;&|<>()\\]/.test(s)), { numRuns: 2000 });
  });
});

describe('property: a validated maintenance window always answers', () => {
  const hhmm = fc.tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const days = fc.constantFrom('all', 'mon-fri', 'sat,sun', 'fri-mon', 'wed', 'funday', '');
  it('whatever the fields, parse either refuses them or inWindow answers without throwing', () => {
    fc.assert(fc.property(days, hhmm, hhmm, fc.constantFrom('UTC', 'Europe/Paris', 'Asia/Seoul', 'Nowhere/Land'), fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }), (d, a, b, tz, at) => {
      const parsed = maintenanceWindowSchema.safeParse({ days: d, hours: `${a}-${b}`, timeZone: tz });
      if (!parsed.success) return true;
      const v = inWindow(parsed.data, at);
      return typeof v.ok === 'boolean' && v.reason.length > 0;
    }), { numRuns: 1000 });
  });
});
