import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from './config.js';
import type { StackLayout } from './layout.js';
import { TAG, tagsFor } from './naming.js';

export interface Chaos {
  alarms: { http5xx: aws.cloudwatch.MetricAlarm; latency: aws.cloudwatch.MetricAlarm };
  role: aws.iam.Role;
  /** "<placement group>/<zone>" → template that stops the group's instances in that zone */
  rackTemplates: Map<string, aws.fis.ExperimentTemplate>;
  /** zone → template that cuts the zone's power */
  zoneTemplates: Map<string, aws.fis.ExperimentTemplate>;
}

const RACK_OUTAGE = 'PT10M';
/** The length of AWS's own "AZ power interruption" scenario. */
const ZONE_OUTAGE = 'PT30M';

function short(zone: string): string {
  return zone.replace(/^.*-(\d[a-z])$/, '$1');
}

/**
 * CloudWatch alarms that stop any experiment (ALB 5xx rate, target response time), a FIS role
 * limited to what the experiments do, and the experiment templates: loss of one rack (a placement
 * group's instances in one zone) and power loss of one zone (its instances, and ElastiCache's node there).
 */
export function createChaos(
  stack: string,
  config: StackConfig,
  layout: StackLayout,
  alb: aws.lb.LoadBalancer,
  replicationGroup: aws.elasticache.ReplicationGroup,
  parent: pulumi.Resource,
): Chaos {
  const opts = { parent };
  const region = config.region;
  const alarmTags = (role: string) => tagsFor(stack, { tier: 'chaos', role });

  const http5xx = new aws.cloudwatch.MetricAlarm(
    'stop-5xx-rate',
    {
      name: `gameday-${stack}-stop-5xx-rate`,
      alarmDescription: `Stops gameday experiments: more than ${config.stopConditions.http5xxPercent}% of requests answered 5xx`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: config.stopConditions.http5xxPercent,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: 'notBreaching',
      metricQueries: [
        {
          id: 'rate',
          expression: '100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / FILL(requests, 1)',
          label: '5xx percent',
          returnData: true,
        },
        ...(['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'RequestCount'] as const).map((metricName, i) => ({
          id: ['elb5xx', 'target5xx', 'requests'][i]!,
          metric: { namespace: 'AWS/ApplicationELB', metricName, period: 60, stat: 'Sum', dimensions: { LoadBalancer: alb.arnSuffix } },
        })),
      ],
      tags: alarmTags('stop-condition'),
    },
    opts,
  );
  const latency = new aws.cloudwatch.MetricAlarm(
    'stop-latency',
    {
      name: `gameday-${stack}-stop-latency`,
      alarmDescription: `Stops gameday experiments: p99 target response time above ${config.stopConditions.latencyMs} ms`,
      namespace: 'AWS/ApplicationELB',
      metricName: 'TargetResponseTime',
      dimensions: { LoadBalancer: alb.arnSuffix },
      extendedStatistic: 'p99',
      period: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: config.stopConditions.latencyMs / 1000,
      treatMissingData: 'notBreaching',
      tags: alarmTags('stop-condition'),
    },
    opts,
  );
  const stopConditions = [http5xx, latency].map((a) => ({ source: 'aws:cloudwatch:alarm', value: a.arn }));

  // The role FIS assumes: stop and start this stack's instances, cut ElastiCache's power in a zone.
  const role = new aws.iam.Role(
    'fis',
    {
      name: `gameday-${stack}-fis`,
      description: `FIS experiments of gameday stack ${stack}`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'fis.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
      tags: tagsFor(stack, { tier: 'chaos', role: 'fis-role' }),
    },
    opts,
  );
  new aws.iam.RolePolicy(
    'fis',
    {
      role: role.id,
      policy: replicationGroup.arn.apply((rgArn) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'StopAndStartThisStacksInstances',
              Effect: 'Allow',
              Action: ['ec2:StopInstances', 'ec2:StartInstances'],
              Resource: `arn:aws:ec2:${region}:*:instance/*`,
              Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: stack } },
            },
            { Sid: 'FindTargets', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'tag:GetResources'], Resource: '*' },
            {
              Sid: 'CutCachePowerInOneZone',
              Effect: 'Allow',
              Action: ['elasticache:InterruptClusterAzPower', 'elasticache:DescribeReplicationGroups'],
              Resource: rgArn,
            },
          ],
        }),
      ),
    },
    opts,
  );

  const instanceTarget = (name: string, filters: { path: string; values: string[] }[], tags: Record<string, string>) => ({
    name,
    resourceType: 'aws:ec2:instance',
    selectionMode: 'ALL',
    resourceTags: Object.entries({ [TAG.stack]: stack, ...tags }).map(([key, value]) => ({ key, value })),
    filters: [...filters, { path: 'State.Name', values: ['running'] }],
  });
  const stopInstances = (target: string, duration: string) => ({
    name: 'stop-instances',
    actionId: 'aws:ec2:stop-instances',
    parameters: [
      { key: 'startInstancesAfterDuration', value: duration },
      // Auto Scaling may replace a stopped web instance: that is not a failure of the experiment.
      { key: 'completeIfInstancesTerminated', value: 'true' },
    ],
    target: { key: 'Instances', value: target },
  });

  const rackTemplates = new Map<string, aws.fis.ExperimentTemplate>();
  for (const g of layout.placementGroups) {
    for (const zone of [...new Set(g.members.map((m) => m.zone))]) {
      const key = `${g.name}/${zone}`;
      rackTemplates.set(
        key,
        new aws.fis.ExperimentTemplate(
          `rack-${g.tier}-${g.index + 1}-${short(zone)}`,
          {
            description: `gameday ${stack}: loss of rack ${g.name} in ${zone} (its instances stop for ${RACK_OUTAGE.slice(2)})`,
            roleArn: role.arn,
            stopConditions,
            targets: [instanceTarget('rack', [{ path: 'Placement.AvailabilityZone', values: [zone] }], { [TAG.rack]: g.name })],
            actions: [stopInstances('rack', RACK_OUTAGE)],
            tags: tagsFor(stack, { tier: 'chaos', role: 'rack-loss', zone, rack: g.name, name: `gameday-${stack}-rack-${g.name}-${zone}` }),
          },
          opts,
        ),
      );
    }
  }

  const zoneTemplates = new Map<string, aws.fis.ExperimentTemplate>();
  for (const zone of config.zones) {
    zoneTemplates.set(
      zone,
      new aws.fis.ExperimentTemplate(
        `zone-${short(zone)}`,
        {
          description: `gameday ${stack}: power loss of zone ${zone} for ${ZONE_OUTAGE.slice(2)} (instances stop, ElastiCache fails over)`,
          roleArn: role.arn,
          stopConditions,
          targets: [
            instanceTarget('instances', [{ path: 'Placement.AvailabilityZone', values: [zone] }], {}),
            {
              name: 'cache',
              resourceType: 'aws:elasticache:replicationgroup',
              selectionMode: 'ALL',
              resourceArns: [replicationGroup.arn],
              parameters: { availabilityZoneIdentifier: zone },
            },
          ],
          actions: [
            stopInstances('instances', ZONE_OUTAGE),
            {
              name: 'cut-cache-power',
              actionId: 'aws:elasticache:replicationgroup-interrupt-az-power',
              parameters: [{ key: 'duration', value: ZONE_OUTAGE }],
              target: { key: 'ReplicationGroups', value: 'cache' },
            },
          ],
          tags: tagsFor(stack, { tier: 'chaos', role: 'zone-power-loss', zone, name: `gameday-${stack}-zone-${zone}` }),
        },
        opts,
      ),
    );
  }
  return { alarms: { http5xx, latency }, role, rackTemplates, zoneTemplates };
}
