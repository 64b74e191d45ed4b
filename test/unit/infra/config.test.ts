import { describe, expect, it } from 'vitest';
import { nthSubnet, parseStackConfig } from '../../../infra/config.js';
import { dailyCron } from '../../../infra/rebootSchedule.js';
import { GamedayError } from '../../../core/errors.js';
import { TEST_IMAGE } from './fixtures.js';

function errorOf(raw: Record<string, unknown>): GamedayError {
  try {
    parseStackConfig({ rebootImage: TEST_IMAGE, ...raw }, 'Pulumi.dev.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(GamedayError);
    return err as GamedayError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('stack configuration', () => {
  it('fills every default from the one required value', () => {
    const c = parseStackConfig({ rebootImage: TEST_IMAGE });
    expect(c.region).toBe('us-east-1');
    expect(c.zones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(c.publicSubnetCidrs).toEqual(['10.40.0.0/24', '10.40.1.0/24', '10.40.2.0/24']);
    expect(c.privateSubnetCidrs).toEqual(['10.40.8.0/24', '10.40.9.0/24', '10.40.10.0/24']);
    expect({ web: c.web.count, db: c.db.count, dbProxy: c.dbProxy.count, redis: c.redis.count }).toEqual({ web: 6, db: 3, dbProxy: 2, redis: 3 });
    expect(c.reboot).toMatchObject({ windowStart: '03:00', windowMinutes: 120, timezone: 'UTC', maxUptime: '180d' });
  });

  it('reads values the way Pulumi stores them: strings, JSON arrays, comma lists', () => {
    const c = parseStackConfig({
      rebootImage: TEST_IMAGE,
      region: 'eu-west-1',
      zones: '["eu-west-1a","eu-west-1b"]',
      webCount: '9',
      dbReplicas: '1',
      allowedHttpCidrs: '10.0.0.0/8, 192.168.0.0/16',
    });
    expect(c.zones).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(c.web.count).toBe(9);
    expect(c.db).toMatchObject({ count: 2, replicas: 1, minHealthy: 2 });
    expect(c.redis.count).toBe(2);
    expect(c.allowedHttpCidrs).toEqual(['10.0.0.0/8', '192.168.0.0/16']);
  });

  it('names the key, the value given and what is valid', () => {
    const err = errorOf({ webCount: 'six' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.input).toBe('Pulumi.dev.yaml');
    expect(err.message).toContain('gameday:webCount: must be a whole number from 1 to 140 (given "six")');
    expect(err.describe()).toMatch(/hint: fix with `pulumi config set gameday:<key> <value>`/);
  });

  it.each([
    [{ region: 'us-east' }, 'gameday:region: must be an AWS region such as "us-east-1" (given "us-east")'],
    [{ zones: 'us-west-2a,us-west-2b' }, 'gameday:zones: "us-west-2a" is not a zone of region us-east-1'],
    [{ zones: 'us-east-1a,us-east-1a' }, 'gameday:zones: "us-east-1a" is listed twice'],
    [{ zones: 'east' }, 'gameday:zones[0]: must be availability zone names such as "us-east-1a"'],
    [{ minZones: '1' }, 'gameday:minZones: must be a whole number from 2 to 6 (given "1")'],
    [{ dbProxyCount: '1' }, 'gameday:dbProxyCount: must be a whole number from 2 to 20 (given "1")'],
    [{ redisNodes: '4' }, 'gameday:redisNodes: 4 nodes for 3 zones; ElastiCache nodes must be in distinct zones, so valid: 2 to 3'],
    [{ webMinHealthy: '7' }, "gameday:webMinHealthy: 7 is more than the tier's 6 members; valid: 1 to 6"],
    [{ webInstanceType: 'large' }, 'gameday:webInstanceType: must be an EC2 instance type such as "t3.small"'],
    [{ redisNodeType: 't3.small' }, 'gameday:redisNodeType: must be an ElastiCache node type such as "cache.t3.small"'],
    [{ ami: 'debian' }, 'gameday:ami: must be an AMI id'],
    [{ vpcCidr: '10.40.0.1/16' }, 'gameday:vpcCidr: must be an IPv4 CIDR block'],
    [{ publicSubnetCidrs: '10.50.0.0/24,10.40.1.0/24,10.40.2.0/24' }, 'gameday:publicSubnetCidrs: 10.50.0.0/24 is not inside vpcCidr 10.40.0.0/16'],
    [{ privateSubnetCidrs: '10.40.8.0/24' }, 'gameday:privateSubnetCidrs: 1 CIDRs for 3 zones'],
    [{ privateSubnetCidrs: '10.40.0.0/24,10.40.9.0/24,10.40.10.0/24' }, 'subnet CIDRs 10.40.0.0/24 and 10.40.0.0/24 overlap'],
    [{ rebootWindowStart: '3am' }, 'gameday:rebootWindowStart: must be a time of day "HH:MM" (24-hour), e.g. "03:00" (given "3am")'],
    [{ rebootWindowMinutes: '2000' }, 'gameday:rebootWindowMinutes: must be a whole number from 1 to 1440'],
    [{ rebootMaxUptime: '6 months' }, 'gameday:rebootMaxUptime: must be a duration in days or hours, e.g. "180d"'],
    [{ webcount: '3' }, 'gameday:webcount: unknown key; valid keys: region, zones,'],
  ])('refuses %j', (raw, message) => {
    expect(errorOf(raw).message).toContain(message);
  });

  it('requires the reboot job image, saying what it is', () => {
    let err: GamedayError | undefined;
    try {
      parseStackConfig({});
    } catch (e) {
      err = e as GamedayError;
    }
    expect(err?.message).toContain('gameday:rebootImage: missing: the container image that runs gameday; valid: a container image with gameday');
  });

  it('lists every bad value at once', () => {
    const err = errorOf({ webCount: '0', dbReplicas: 'x', stop5xxPercent: '101' });
    expect(err.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });

  it('derives subnets and the daily schedule', () => {
    expect(nthSubnet('10.0.0.0/8', 3)).toBe('10.0.3.0/24');
    expect(nthSubnet('10.40.0.0/26', 1)).toBe('10.40.0.16/28');
    expect(dailyCron('03:30')).toBe('cron(30 3 * * ? *)');
  });
});
