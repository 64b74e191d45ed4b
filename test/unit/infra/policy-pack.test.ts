import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from '@pulumi/policy';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blastRadiusHolds,
  elastiCacheFailoverMultiAz,
  fisTemplateHasStopCondition,
  policies,
  tierMembersOnDistinctRacks,
  tierSpansMinZones,
} from '../../../infra/policy/policies.js';
import { configWith, runStack, type RecordedResource } from './mocks.js';

interface Violation {
  message: string;
  urn?: string;
}

/** Calls a resource policy's validate function the way the policy SDK does, collecting violations. */
async function validateResource(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): Promise<Violation[]> {
  const violations: Violation[] = [];
  const args = { type, props, urn: `urn:pulumi:test::gameday::${type}::r`, name: 'r' } as unknown as ResourceValidationArgs;
  const validate = policy.validateResource as (a: ResourceValidationArgs, report: (m: string, urn?: string) => void) => void | Promise<void>;
  await validate(args, (message, urn) => violations.push({ message, urn }));
  return violations;
}

async function validateStack(policy: StackValidationPolicy, resources: readonly RecordedResource[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  const args = { resources: resources.map((r) => ({ ...r, props: r.inputs })) as unknown as PolicyResource[] } as StackValidationArgs;
  await policy.validateStack(args, (message, urn) => violations.push({ message, urn }));
  return violations;
}

/** A copy of the stack's resources with one resource's inputs changed. */
function changed(resources: RecordedResource[], name: string, change: (inputs: Record<string, any>) => Record<string, any>): RecordedResource[] {
  return resources.map((r) => (r.name === name ? { ...r, inputs: change(structuredClone(r.inputs)) } : r));
}

describe('policy pack', () => {
  let compliant: RecordedResource[];
  let oneZone: RecordedResource[];
  beforeAll(async () => {
    compliant = (await runStack(configWith(), 'dev')).resources;
    oneZone = (await runStack(configWith({ zones: 'us-east-1a', redisNodes: '2' }), 'one-zone')).resources;
  });

  it('has only mandatory policies', () => {
    expect(policies.map((p) => [p.name, p.enforcementLevel])).toEqual([
      ['gameday-tier-members-on-distinct-racks', 'mandatory'],
      ['gameday-tier-spans-min-zones', 'mandatory'],
      ['gameday-elasticache-failover-multi-az', 'mandatory'],
      ['gameday-fis-template-has-stop-condition', 'mandatory'],
      ['gameday-blast-radius', 'mandatory'],
    ]);
  });

  it('passes the default stack on every policy', async () => {
    for (const p of [tierMembersOnDistinctRacks, tierSpansMinZones, blastRadiusHolds]) expect(await validateStack(p, compliant)).toEqual([]);
    for (const r of compliant) {
      for (const p of [elastiCacheFailoverMultiAz, fisTemplateHasStopCondition]) expect(await validateResource(p, r.type, r.inputs)).toEqual([]);
    }
  });

  describe('one zone: the policies say why', () => {
    it('every tier in at least minZones zones', async () => {
      const messages = (await validateStack(tierSpansMinZones, oneZone)).map((v) => v.message);
      expect(messages).toEqual([
        'web: spans 1 zone(s) (us-east-1a); at least 2 required',
        'db: spans 1 zone(s) (us-east-1a); at least 2 required',
        'db-proxy: spans 1 zone(s) (us-east-1a); at least 2 required',
        'redis: spans 1 zone(s) (us-east-1a); at least 2 required',
      ]);
    });

    it('blast radius: losing the one web rack leaves no web server', async () => {
      const violations = await validateStack(blastRadiusHolds, oneZone);
      expect(violations.map((v) => v.message)).toContain('rack us-east-1a/gameday-one-zone-web-1: tier web: 0 of 6 left, minHealthy is 2');
      const web = violations.find((v) => v.message.includes('tier web:'))!;
      expect(web.urn).toContain('aws:autoscaling/group:Group::web-1');
    });

    it('ElastiCache: two nodes in one zone', async () => {
      const rg = oneZone.find((r) => r.type === 'aws:elasticache/replicationGroup:ReplicationGroup')!;
      expect(await validateResource(elastiCacheFailoverMultiAz, rg.type, rg.inputs)).toEqual([
        { message: 'preferredCacheClusterAzs lists us-east-1a more than once: two nodes in one zone fall together', urn: undefined },
      ]);
    });
  });

  describe('no two instances of a tier in one rack', () => {
    it('flags an instance outside any placement group', async () => {
      const resources = changed(compliant, 'db-2', (i) => ({ ...i, placementGroup: undefined }));
      const violations = await validateStack(tierMembersOnDistinctRacks, resources);
      expect(violations).toEqual([
        {
          message: 'db: db-2 is in no placement group, so AWS may put it on the same rack as another db member; put it in a rack-level spread group',
          urn: 'urn:pulumi:dev::gameday::aws:ec2/instance:Instance::db-2',
        },
      ]);
    });

    it('flags a group that is not spread at rack level', async () => {
      const resources = changed(compliant, 'pg-db-1', (i) => ({ ...i, strategy: 'cluster', spreadLevel: undefined }));
      const messages = (await validateStack(tierMembersOnDistinctRacks, resources)).map((v) => v.message);
      expect(messages).toHaveLength(3);
      expect(messages[0]).toBe(
        'db: db-1 is in placement group gameday-dev-db-1 with strategy cluster/default; only a spread group at rack level keeps each member on its own rack',
      );
    });

    it('flags more than 7 of a tier in one group and zone (topology maxPerRack)', async () => {
      const resources = changed(compliant, 'web-1', (i) => ({
        ...i,
        desiredCapacity: 8,
        tags: i.tags.map((t: { key: string; value: string }) => (t.key === 'zone' ? { ...t, value: 'us-east-1a' } : t)),
      }));
      const messages = (await validateStack(tierMembersOnDistinctRacks, resources)).map((v) => v.message);
      expect(messages).toEqual([
        'web: 8 hosts share rack us-east-1a/gameday-dev-web-1 (web-1-1, web-1-2, web-1-3, web-1-4, web-1-5, web-1-6, web-1-7, web-1-8); at most 7 allowed (a rack-level spread group holds at most 7 per zone)',
      ]);
    });
  });

  describe('ElastiCache with automatic failover and Multi-AZ', () => {
    const good = {
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      numCacheClusters: 2,
      preferredCacheClusterAzs: ['us-east-1a', 'us-east-1b'],
    };
    const type = 'aws:elasticache/replicationGroup:ReplicationGroup';

    it('accepts a compliant group and ignores other resources', async () => {
      expect(await validateResource(elastiCacheFailoverMultiAz, type, good)).toEqual([]);
      expect(await validateResource(elastiCacheFailoverMultiAz, 'aws:ec2/instance:Instance', {})).toEqual([]);
    });

    it.each([
      [{ automaticFailoverEnabled: false }, 'automaticFailoverEnabled must be true'],
      [{ multiAzEnabled: undefined }, 'multiAzEnabled must be true'],
      [{ numCacheClusters: 1, preferredCacheClusterAzs: ['us-east-1a'] }, '1 node(s): automatic failover needs at least 2'],
      [{ preferredCacheClusterAzs: undefined }, 'preferredCacheClusterAzs is not set'],
    ])('refuses %j', async (change, message) => {
      const violations = await validateResource(elastiCacheFailoverMultiAz, type, { ...good, ...change });
      expect(violations.map((v) => v.message).join('\n')).toContain(message);
    });
  });

  describe('FIS templates have a stop condition', () => {
    const type = 'aws:fis/experimentTemplate:ExperimentTemplate';
    it('accepts an alarm stop condition', async () => {
      expect(await validateResource(fisTemplateHasStopCondition, type, { stopConditions: [{ source: 'aws:cloudwatch:alarm', value: 'arn:alarm' }] })).toEqual([]);
    });
    it.each([[{ stopConditions: [] }], [{ stopConditions: [{ source: 'none' }] }], [{}]])('refuses %j', async (props) => {
      const [v] = await validateResource(fisTemplateHasStopCondition, type, props);
      expect(v?.message).toMatch(/^no stop condition: an experiment must stop by itself when an alarm fires/);
    });
  });

  describe('blast radius', () => {
    it('flags a tier whose needs exceed what one zone loss leaves', async () => {
      // db needs 3 healthy of 3: any zone or rack loss breaks it.
      const resources = compliant.map((r) =>
        r.type === 'aws:ec2/instance:Instance' && r.inputs.tags.tier === 'db'
          ? { ...r, inputs: { ...r.inputs, tags: { ...r.inputs.tags, 'gameday:min-healthy': '3' } } }
          : r,
      );
      const messages = (await validateStack(blastRadiusHolds, resources)).map((v) => v.message);
      expect(messages).toContain('zone us-east-1a: tier db: 2 of 3 left, minHealthy is 3');
      expect(messages).toContain('rack us-east-1c/gameday-dev-db-1: tier db: 2 of 3 left, minHealthy is 3');
    });

    it('reports an inventory topology/ cannot accept', async () => {
      const resources = compliant.map((r) =>
        r.type === 'aws:ec2/instance:Instance' && r.inputs.tags.tier === 'db-proxy'
          ? { ...r, inputs: { ...r.inputs, tags: { ...r.inputs.tags, 'gameday:min-healthy': '5' } } }
          : r,
      );
      const messages = (await validateStack(blastRadiusHolds, resources)).map((v) => v.message);
      expect(messages).toEqual(["invalid inventory:\n  - tiers.db-proxy.minHealthy: 5 is more than the tier's 2 hosts"]);
    });
  });
});
