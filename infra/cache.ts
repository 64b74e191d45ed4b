import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from './config.js';
import type { HostIdentity, StackLayout } from './layout.js';
import { TAG, tagsFor, TIERS } from './naming.js';
import type { Network } from './network.js';
import type { SecurityGroups } from './security.js';

export interface Cache {
  replicationGroup: aws.elasticache.ReplicationGroup;
  /** redis host name → its node's address and id */
  nodes: pulumi.Output<Record<string, HostIdentity>>;
}

/**
 * Redis as an ElastiCache replication group: automatic failover, Multi-AZ, and one node per zone
 * (the first zone listed gets the primary).
 */
export function createCache(stack: string, config: StackConfig, layout: StackLayout, net: Network, sgs: SecurityGroups, parent: pulumi.Resource): Cache {
  const opts = { parent };
  const subnetGroup = new aws.elasticache.SubnetGroup(
    'redis',
    {
      name: `${layout.replicationGroupId}-subnets`,
      description: `gameday ${stack}: private subnets for Redis`,
      subnetIds: [...net.privateSubnets.values()].map((s) => s.id),
      tags: tagsFor(stack, { tier: TIERS.redis, role: 'subnet-group', zone: config.zones.join(' ') }),
    },
    opts,
  );
  const replicationGroup = new aws.elasticache.ReplicationGroup(
    'redis',
    {
      replicationGroupId: layout.replicationGroupId,
      description: `gameday ${stack}: Redis with automatic failover across zones`,
      engine: 'redis',
      engineVersion: '7.1',
      nodeType: config.redis.nodeType,
      port: 6379,
      numCacheClusters: layout.redis.length,
      preferredCacheClusterAzs: layout.redis.map((h) => h.zone),
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [sgs.redis.id],
      atRestEncryptionEnabled: true,
      snapshotRetentionLimit: 1,
      tags: {
        ...tagsFor(stack, { tier: TIERS.redis, role: 'replication-group', zone: layout.redis.map((h) => h.zone).join(' ') }),
        [TAG.minHealthy]: String(config.redis.minHealthy),
        [TAG.minZones]: String(config.minZones),
      },
    },
    opts,
  );
  // Each node's own endpoint, looked up once the group exists (ElastiCache names nodes <group>-00n).
  const lookups = layout.redis.map((h) =>
    aws.elasticache
      .getClusterOutput({ clusterId: replicationGroup.id.apply(() => h.rack) }, { parent })
      .apply((c): [string, HostIdentity] => [h.name, { address: c.cacheNodes[0]?.address ?? `${h.name}.unresolved.invalid`, id: h.rack }]),
  );
  const nodes = pulumi.all(lookups).apply((pairs) => Object.fromEntries(pairs));
  return { replicationGroup, nodes };
}
