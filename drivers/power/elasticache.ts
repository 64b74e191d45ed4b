import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { type Host } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { log as rootLog } from '../../core/log.js';
import { regionOfZone, type AwsClientConfig } from './aws.js';
import { awsCall, RegionalClients } from './regionalClients.js';
import { systemClock, type Clock } from './clock.js';
import type { PowerDriver } from './types.js';

/**
 * Power of an ElastiCache node (power: elasticache; id: its cache cluster id,
 * e.g. gd-dev-redis-002). There are no Sentinels here: ElastiCache fails its
 * replication group over itself, so a reboot of the group's primary asks for
 * a failover first (TestFailover) and waits until the node is a replica, then
 * reboots the node (RebootCacheCluster).
 *
 * Uptime: ElastiCache does not report a boot time. CacheNodeCreateTime is an
 * upper bound (a reboot does not change it), as LaunchTime is for EC2: the
 * 180-day job may reboot a node early, never late.
 */

const log = rootLog.child({ driver: 'power.elasticache' });
type Sdk = typeof import('@aws-sdk/client-elasticache');
let sdkLoading: Promise<Sdk> | undefined;
const loadSdk = () => (sdkLoading ??= import('@aws-sdk/client-elasticache'));

export interface ElastiCachePowerOptions {
  region?: string;
  pollIntervalMs?: number;
  /** How long a failover may take before the reboot gives up; default 10 minutes. */
  failoverTimeoutMs?: number;
  /** After a reboot request: seconds before an "available" node counts as back (the status changes with a delay). */
  settleSeconds?: number;
}

interface NodeView {
  status: string;
  nodeId: string;
  nodeStatus: string;
  createdAt?: Date;
  replicationGroupId?: string;
}

export class ElastiCachePowerDriver implements PowerDriver {
  readonly kind = 'elasticache' as const;
  private readonly clock: Clock;
  private readonly clients: RegionalClients<Sdk, { client: ElastiCacheClient; sdk: Sdk }>;
  private readonly pollMs: number;
  private readonly failoverTimeoutMs: number;
  private readonly settleSeconds: number;

  constructor(
    private readonly options: ElastiCachePowerOptions = {},
    deps: { clock?: Clock; clientConfig?: AwsClientConfig } = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.pollMs = options.pollIntervalMs ?? 15_000;
    this.failoverTimeoutMs = options.failoverTimeoutMs ?? 10 * 60_000;
    this.settleSeconds = options.settleSeconds ?? 60;
    this.clients = new RegionalClients(loadSdk, (sdk, config) => ({ client: new sdk.ElastiCacheClient(config), sdk }), deps.clientConfig);
  }

  /** The node's cache cluster id, or a clear error. */
  clusterIdOf(host: Host): string {
    if (!host.id) {
      throw new GamedayError('POWER_ELASTICACHE_NO_ID', 'an elasticache host needs its cache cluster id', `host ${host.name}: id`, 'set id: <cache cluster id>, e.g. gd-dev-redis-002 (the Pulumi stack\'s inventory output has it)');
    }
    return host.id;
  }

  private clientFor(host: Host) {
    return this.clients.for(regionOfZone(host.zone) ?? this.options.region);
  }

  private call<T>(host: Host, what: string, fn: () => Promise<T>): Promise<T> {
    return awsCall(what, `cache cluster ${host.id}`, `host ${host.name}`, fn);
  }

  private async node(host: Host): Promise<NodeView> {
    const id = this.clusterIdOf(host);
    const { client, sdk } = await this.clientFor(host);
    const answer = await this.call(host, 'ElastiCache DescribeCacheClusters', () => client.send(new sdk.DescribeCacheClustersCommand({ CacheClusterId: id, ShowCacheNodeInfo: true })));
    const cluster = answer.CacheClusters?.find((c) => c.CacheClusterId === id);
    const node = cluster?.CacheNodes?.[0];
    if (!cluster || !node?.CacheNodeId) {
      throw new GamedayError('POWER_ELASTICACHE_NOT_FOUND', `ElastiCache does not know cache cluster ${id} (or it has no node)`, `host ${host.name}: id`, 'check the id and the region (the host\'s zone)');
    }
    return { status: cluster.CacheClusterStatus ?? 'unknown', nodeId: node.CacheNodeId, nodeStatus: node.CacheNodeStatus ?? 'unknown', createdAt: node.CacheNodeCreateTime, replicationGroupId: cluster.ReplicationGroupId };
  }

  /** The node's role in its replication group now, and the node group it is in. */
  private async roleOf(host: Host, replicationGroupId: string): Promise<{ role?: string; nodeGroupId?: string; groupStatus?: string }> {
    const id = this.clusterIdOf(host);
    const { client, sdk } = await this.clientFor(host);
    const answer = await this.call(host, 'ElastiCache DescribeReplicationGroups', () => client.send(new sdk.DescribeReplicationGroupsCommand({ ReplicationGroupId: replicationGroupId })));
    const group = answer.ReplicationGroups?.[0];
    for (const ng of group?.NodeGroups ?? []) {
      const member = ng.NodeGroupMembers?.find((m) => m.CacheClusterId === id);
      if (member) return { role: member.CurrentRole, nodeGroupId: ng.NodeGroupId, groupStatus: group?.Status };
    }
    return { groupStatus: group?.Status };
  }

  async uptimeSeconds(host: Host): Promise<number> {
    const { createdAt, status } = await this.node(host);
    if (!createdAt) throw new GamedayError('POWER_ELASTICACHE_NO_CREATE_TIME', `cache cluster ${host.id} has no node create time (status ${status})`, `host ${host.name}`);
    return Math.max(0, (this.clock.now() - createdAt.getTime()) / 1000);
  }

  async reboot(host: Host): Promise<void> {
    const id = this.clusterIdOf(host);
    const node = await this.node(host);
    if (node.status !== 'available') {
      throw new GamedayError('POWER_ELASTICACHE_NOT_AVAILABLE', `cache cluster ${id} is ${node.status}, not available: not rebooting it now`, `host ${host.name}`, 'wait until it is available, then resume the run');
    }
    const { client, sdk } = await this.clientFor(host);
    if (node.replicationGroupId) {
      const before = await this.roleOf(host, node.replicationGroupId);
      if (before.role === 'primary' && before.nodeGroupId) {
        log.info({ host: host.name, replicationGroup: node.replicationGroupId }, 'the node is its group\'s primary: failing over first (TestFailover)');
        await this.call(host, 'ElastiCache TestFailover', () => client.send(new sdk.TestFailoverCommand({ ReplicationGroupId: node.replicationGroupId, NodeGroupId: before.nodeGroupId })));
        const deadline = this.clock.now() + this.failoverTimeoutMs;
        for (;;) {
          const now = await this.roleOf(host, node.replicationGroupId);
          if (now.role === 'replica' && now.groupStatus === 'available') break;
          if (this.clock.now() >= deadline) {
            throw new GamedayError('POWER_ELASTICACHE_FAILOVER_TIMEOUT', `${id} is still ${now.role ?? 'unknown'} (group ${now.groupStatus ?? 'unknown'}) ${Math.round(this.failoverTimeoutMs / 1000)} s after TestFailover`, `host ${host.name}`, 'look at the replication group\'s events; resume once it has a new primary');
          }
          await this.clock.sleep(this.pollMs);
        }
      }
    }
    log.info({ host: host.name, cacheCluster: id, node: node.nodeId }, 'requesting reboot (ElastiCache RebootCacheCluster)');
    await this.call(host, 'ElastiCache RebootCacheCluster', () => client.send(new sdk.RebootCacheClusterCommand({ CacheClusterId: id, CacheNodeIdsToReboot: [node.nodeId] })));
  }

  async waitUntilBack(host: Host, since: Date, timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    let last = 'not asked yet';
    while (this.clock.now() < deadline) {
      const node = await this.node(host);
      last = `cluster ${node.status}, node ${node.nodeStatus}`;
      // The status turns to "rebooting cache cluster nodes" a little after the request: trust "available" only after the settle time.
      if (node.status === 'available' && node.nodeStatus === 'available' && this.clock.now() >= since.getTime() + this.settleSeconds * 1000) return;
      await this.clock.sleep(Math.min(this.pollMs, Math.max(1, deadline - this.clock.now())));
    }
    throw new GamedayError('POWER_ELASTICACHE_NOT_BACK', `cache cluster ${host.id} not back within ${Math.round(timeoutMs / 1000)} s; last: ${last}`, `host ${host.name}`, 'look at the cluster\'s events; once it is available, resume the run');
  }
}
