import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from './config.js';
import type { LayoutHost, StackLayout } from './layout.js';
import { TAG, tagsFor, TIERS } from './naming.js';
import type { Network } from './network.js';
import type { SecurityGroups } from './security.js';

/** Debian's account for its official cloud images. */
const DEBIAN_OWNER = '136693071363';

export interface Compute {
  placementGroups: Map<string, aws.ec2.PlacementGroup>;
  /** placement group name → the web Auto Scaling group in it */
  webGroups: Map<string, aws.autoscaling.Group>;
  /** host name → instance (db and db-proxy) */
  instances: Map<string, aws.ec2.Instance>;
  alb: aws.lb.LoadBalancer;
  targetGroup: aws.lb.TargetGroup;
  listener: aws.lb.Listener;
}

/** Packages a fresh host of each tier gets; configuring them (replication, backends) is gameday's job. */
function userData(packages: string[]): string {
  return ['#cloud-config', 'package_update: true', 'packages:', ...packages.map((p) => `  - ${p}`), ''].join('\n');
}

const metadataOptions = { httpTokens: 'required', httpEndpoint: 'enabled' };

export function createCompute(
  stack: string,
  config: StackConfig,
  layout: StackLayout,
  net: Network,
  sgs: SecurityGroups,
  parent: pulumi.Resource,
): Compute {
  const opts = { parent };
  const ami: pulumi.Input<string> =
    config.ami ??
    aws.ec2
      .getAmiOutput(
        {
          owners: [DEBIAN_OWNER],
          mostRecent: true,
          filters: [
            { name: 'name', values: ['debian-12-amd64-*'] },
            { name: 'architecture', values: ['x86_64'] },
          ],
        },
        { parent },
      )
      .apply((a) => a.id);

  // Rack-level spread groups: AWS puts every member on its own rack, at most 7 per zone.
  const placementGroups = new Map<string, aws.ec2.PlacementGroup>();
  for (const g of layout.placementGroups) {
    placementGroups.set(
      g.name,
      new aws.ec2.PlacementGroup(
        `pg-${g.tier}-${g.index + 1}`,
        { name: g.name, strategy: 'spread', spreadLevel: 'rack', tags: tagsFor(stack, { tier: g.tier, role: 'placement-group', rack: g.name, name: g.name }) },
        opts,
      ),
    );
  }

  // --- web: ALB (slow start, weighted forward) in front of one Auto Scaling group per placement group.
  const alb = new aws.lb.LoadBalancer(
    'alb',
    {
      loadBalancerType: 'application',
      subnets: [...net.publicSubnets.values()].map((s) => s.id),
      securityGroups: [sgs.alb.id],
      tags: tagsFor(stack, { tier: TIERS.web, role: 'load-balancer', zone: config.zones.join(' '), name: `gameday-${stack}-alb` }),
    },
    opts,
  );
  const targetGroup = new aws.lb.TargetGroup(
    'web',
    {
      port: 80,
      protocol: 'HTTP',
      vpcId: net.vpc.id,
      targetType: 'instance',
      // A returning host gets its share of traffic linearly over this time instead of at once.
      slowStart: config.web.slowStartSeconds,
      healthCheck: { path: '/', interval: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
      tags: tagsFor(stack, { tier: TIERS.web, role: 'target-group', zone: config.zones.join(' ') }),
    },
    opts,
  );
  const listener = new aws.lb.Listener(
    'http',
    {
      loadBalancerArn: alb.arn,
      port: 80,
      protocol: 'HTTP',
      // A weighted forward action, so that gameday can drive target-group weights (0-999).
      defaultActions: [{ type: 'forward', forward: { targetGroups: [{ arn: targetGroup.arn, weight: 100 }] } }],
      tags: tagsFor(stack, { tier: TIERS.web, role: 'listener' }),
    },
    opts,
  );
  const launchTemplate = new aws.ec2.LaunchTemplate(
    'web',
    {
      imageId: ami,
      instanceType: config.web.instanceType,
      vpcSecurityGroupIds: [sgs.web.id],
      userData: Buffer.from(userData(['nginx'])).toString('base64'),
      metadataOptions,
      tagSpecifications: [{ resourceType: 'volume', tags: tagsFor(stack, { tier: TIERS.web, role: 'member' }) }],
      tags: tagsFor(stack, { tier: TIERS.web, role: 'launch-template' }),
    },
    opts,
  );
  const webGroups = new Map<string, aws.autoscaling.Group>();
  for (const g of layout.web) {
    const zones = [...new Set(g.members.map((m) => m.zone))];
    // Instance tags come from the group; the zone of each is its Placement.AvailabilityZone.
    const groupTags: Record<string, string> = {
      ...tagsFor(stack, { tier: TIERS.web, role: 'member', rack: g.name, name: `gameday-${stack}-web` }),
      [TAG.minHealthy]: String(config.web.minHealthy),
      [TAG.minZones]: String(config.minZones),
    };
    const asg = new aws.autoscaling.Group(
      `web-${g.index + 1}`,
      {
        name: g.name,
        desiredCapacity: g.members.length,
        minSize: g.members.length,
        maxSize: g.members.length,
        vpcZoneIdentifiers: zones.map((z) => net.privateSubnets.get(z)!.id),
        placementGroup: placementGroups.get(g.name)!.name,
        launchTemplate: { id: launchTemplate.id, version: '$Latest' },
        targetGroupArns: [targetGroup.arn],
        healthCheckType: 'ELB',
        healthCheckGracePeriod: 300,
        tags: [
          ...Object.entries(groupTags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
          { key: TAG.zone, value: zones.join(' '), propagateAtLaunch: false },
        ],
      },
      opts,
    );
    webGroups.set(g.name, asg);
  }

  // --- db (MariaDB primary + replicas) and db-proxy (HAProxy) on plain instances.
  const instances = new Map<string, aws.ec2.Instance>();
  const instance = (h: LayoutHost, type: string, sg: aws.ec2.SecurityGroup, packages: string[], minHealthy: number) => {
    instances.set(
      h.name,
      new aws.ec2.Instance(
        h.name,
        {
          ami,
          instanceType: type,
          availabilityZone: h.zone,
          subnetId: net.privateSubnets.get(h.zone)!.id,
          placementGroup: placementGroups.get(h.rack)!.name,
          vpcSecurityGroupIds: [sg.id],
          userData: userData(packages),
          metadataOptions,
          tags: {
            ...tagsFor(stack, { tier: h.tier, role: h.role ?? 'member', zone: h.zone, rack: h.rack, name: `gameday-${stack}-${h.name}` }),
            [TAG.minHealthy]: String(minHealthy),
            [TAG.minZones]: String(config.minZones),
          },
          volumeTags: tagsFor(stack, { tier: h.tier, role: h.role ?? 'member', zone: h.zone, rack: h.rack }),
        },
        opts,
      ),
    );
  };
  for (const h of layout.db) instance(h, config.db.instanceType, sgs.db, ['mariadb-server'], config.db.minHealthy);
  for (const h of layout.dbProxy) instance(h, config.dbProxy.instanceType, sgs.dbProxy, ['haproxy'], config.dbProxy.minHealthy);

  return { placementGroups, webGroups, instances, alb, targetGroup, listener };
}
