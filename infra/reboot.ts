import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { InventoryInput } from '../topology/index.js';
import type { StackConfig } from './config.js';
import { TAG, tagsFor } from './naming.js';
import { dailyCron, JOB_STATE_DIR, rebootCommand } from './rebootSchedule.js';

export interface RebootJob {
  cluster: aws.ecs.Cluster;
  taskDefinition: aws.ecs.TaskDefinition;
  taskRole: aws.iam.Role;
  schedulerRole: aws.iam.Role;
  schedule: aws.scheduler.Schedule;
  /** The job's journal and locks: shared by every day's task, so a failed run is resumed and two runs never overlap. */
  stateFileSystem: aws.efs.FileSystem;
}

const assumedBy = (service: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });

/**
 * The 180-day reboot job: an EventBridge Scheduler schedule that starts, once a day somewhere in the
 * configured window, a Fargate task running `gameday runbook run reboot-stale`. Its role may describe
 * instances, reboot this stack's, and read and change the load balancer's weights; nothing else.
 */
export function createRebootJob(
  stack: string,
  config: StackConfig,
  inventory: pulumi.Output<InventoryInput>,
  subnetIds: pulumi.Input<string>[],
  securityGroupId: pulumi.Input<string>,
  stateSecurityGroupId: pulumi.Input<string>,
  alb: aws.lb.LoadBalancer,
  listener: aws.lb.Listener,
  parent: pulumi.Resource,
): RebootJob {
  const opts = { parent };
  const region = config.region;
  const tags = (role: string) => tagsFor(stack, { tier: 'reboot', role });
  const cluster = new aws.ecs.Cluster('reboot', { name: `gameday-${stack}-reboot`, tags: tags('ecs-cluster') }, opts);
  // EFS rather than S3 for the state: the engine's journal is an append-only file and its locks are
  // created atomically (a hard link that fails if the name exists), both of which NFSv4.1 on EFS keeps,
  // so the job runs the same engine as the lab and a data center, with no second storage backend.
  const stateFileSystem = new aws.efs.FileSystem(
    'reboot-state',
    { encrypted: true, performanceMode: 'generalPurpose', throughputMode: 'elastic', tags: tags('job-state') },
    opts,
  );
  const mountTargets = subnetIds.map(
    (subnetId, i) => new aws.efs.MountTarget(`reboot-state-${i}`, { fileSystemId: stateFileSystem.id, subnetId, securityGroups: [stateSecurityGroupId] }, opts),
  );
  const stateAccessPoint = new aws.efs.AccessPoint(
    'reboot-state',
    {
      fileSystemId: stateFileSystem.id,
      posixUser: { uid: 1000, gid: 1000 },
      rootDirectory: { path: '/gameday', creationInfo: { ownerUid: 1000, ownerGid: 1000, permissions: '0700' } },
      tags: tags('job-state'),
    },
    { ...opts, dependsOn: mountTargets },
  );
  const logGroup = new aws.cloudwatch.LogGroup('reboot', { name: `/gameday/${stack}/reboot-stale`, retentionInDays: 90, tags: tags('logs') }, opts);

  const executionRole = new aws.iam.Role(
    'reboot-execution',
    { name: `gameday-${stack}-reboot-exec`, assumeRolePolicy: assumedBy('ecs-tasks.amazonaws.com'), tags: tags('task-execution-role') },
    opts,
  );
  new aws.iam.RolePolicy(
    'reboot-execution',
    {
      role: executionRole.id,
      policy: logGroup.arn.apply((logArn) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'PullTheImage',
              Effect: 'Allow',
              Action: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
              Resource: '*',
            },
            { Sid: 'WriteLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logArn}:*` },
            // Only the secrets the task is given, by ARN.
            ...(Object.keys(config.reboot.secrets).length
              ? [{ Sid: 'ReadItsSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [...new Set(Object.values(config.reboot.secrets))] }]
              : []),
          ],
        }),
      ),
    },
    opts,
  );

  const taskRole = new aws.iam.Role(
    'reboot-task',
    { name: `gameday-${stack}-reboot-task`, assumeRolePolicy: assumedBy('ecs-tasks.amazonaws.com'), tags: tags('task-role') },
    opts,
  );
  new aws.iam.RolePolicy(
    'reboot-task',
    {
      role: taskRole.id,
      policy: pulumi.all([alb.arn, listener.arn, stateFileSystem.arn, stateAccessPoint.arn]).apply(([albArn, listenerArn, fsArn, apArn]) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DescribeInstances',
              Effect: 'Allow',
              Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus', 'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'elasticache:DescribeCacheClusters', 'elasticache:DescribeReplicationGroups'],
              Resource: '*',
            },
            {
              Sid: 'TakeWebMembersOutThroughTheirGroup',
              Effect: 'Allow',
              Action: ['autoscaling:EnterStandby', 'autoscaling:ExitStandby'],
              Resource: '*',
              Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: stack } },
            },
            {
              Sid: 'RebootAndFailOverTheCache',
              Effect: 'Allow',
              Action: ['elasticache:RebootCacheCluster', 'elasticache:TestFailover'],
              Resource: '*',
              Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: stack } },
            },
            {
              Sid: 'JournalAndLocks',
              Effect: 'Allow',
              Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
              Resource: fsArn,
              Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': apArn } },
            },
            {
              Sid: 'RebootThisStacksInstances',
              Effect: 'Allow',
              Action: 'ec2:RebootInstances',
              Resource: `arn:aws:ec2:${region}:*:instance/*`,
              Condition: { StringEquals: { [`aws:ResourceTag/${TAG.stack}`]: stack } },
            },
            {
              Sid: 'ReadLoadBalancerWeights',
              Effect: 'Allow',
              Action: [
                'elasticloadbalancing:DescribeLoadBalancers',
                'elasticloadbalancing:DescribeListeners',
                'elasticloadbalancing:DescribeRules',
                'elasticloadbalancing:DescribeTargetGroups',
                'elasticloadbalancing:DescribeTargetHealth',
              ],
              Resource: '*',
            },
            {
              Sid: 'ChangeLoadBalancerWeights',
              Effect: 'Allow',
              Action: ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyRule'],
              Resource: [listenerArn, albArn.replace(':loadbalancer/', ':listener-rule/') + '/*'],
            },
          ],
        }),
      ),
    },
    opts,
  );

  const taskDefinition = new aws.ecs.TaskDefinition(
    'reboot-stale',
    {
      family: `gameday-${stack}-reboot-stale`,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRole.arn,
      // Fargate platform 1.4.0 or later mounts EFS; LATEST is.
      volumes: [
        {
          name: 'state',
          efsVolumeConfiguration: {
            fileSystemId: stateFileSystem.id,
            transitEncryption: 'ENABLED',
            authorizationConfig: { accessPointId: stateAccessPoint.id, iam: 'ENABLED' },
          },
        },
      ],
      containerDefinitions: pulumi.all([inventory, logGroup.name]).apply(([inv, logName]) =>
        JSON.stringify([
          {
            name: 'gameday',
            image: config.reboot.image,
            essential: true,
            entryPoint: ['sh', '-c'],
            command: [rebootCommand(config.reboot.maxUptime, { start: config.reboot.windowStart, minutes: config.reboot.windowMinutes, timezone: config.reboot.timezone })],
            mountPoints: [{ sourceVolume: 'state', containerPath: JOB_STATE_DIR, readOnly: false }],
            environment: [
              { name: 'GAMEDAY_STATE_DIR', value: JOB_STATE_DIR },
              { name: 'GAMEDAY_INVENTORY', value: JSON.stringify(inv) },
              { name: 'AWS_REGION', value: region },
            ],
            // Read by ECS from Secrets Manager when the task starts: the notifier and the logins are never in the task definition.
            secrets: Object.entries(config.reboot.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': logName, 'awslogs-region': region, 'awslogs-stream-prefix': 'reboot-stale' } },
          },
        ]),
      ),
      tags: tags('task-definition'),
    },
    opts,
  );

  const schedulerRole = new aws.iam.Role(
    'reboot-scheduler',
    { name: `gameday-${stack}-reboot-scheduler`, assumeRolePolicy: assumedBy('scheduler.amazonaws.com'), tags: tags('scheduler-role') },
    opts,
  );
  new aws.iam.RolePolicy(
    'reboot-scheduler',
    {
      role: schedulerRole.id,
      policy: pulumi.all([taskDefinition.arnWithoutRevision, cluster.arn, taskRole.arn, executionRole.arn]).apply(([tdArn, clusterArn, taskArn, execArn]) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'RunTheTask', Effect: 'Allow', Action: 'ecs:RunTask', Resource: [`${tdArn}:*`, tdArn], Condition: { ArnLike: { 'ecs:cluster': clusterArn } } },
            { Sid: 'HandItsRoles', Effect: 'Allow', Action: 'iam:PassRole', Resource: [taskArn, execArn] },
          ],
        }),
      ),
    },
    opts,
  );

  const schedule = new aws.scheduler.Schedule(
    'reboot-stale',
    {
      name: `gameday-${stack}-reboot-stale`,
      description: `Daily: reboot hosts of ${stack} up for ${config.reboot.maxUptime} or more, in safe waves, behind gameday's gates; an unfinished run is resumed`,
      scheduleExpression: dailyCron(config.reboot.windowStart),
      scheduleExpressionTimezone: config.reboot.timezone,
      // Starts at a random time in the window, never twice a day.
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: config.reboot.windowMinutes },
      target: {
        arn: cluster.arn,
        roleArn: schedulerRole.arn,
        ecsParameters: {
          taskDefinitionArn: taskDefinition.arn,
          launchType: 'FARGATE',
          taskCount: 1,
          networkConfiguration: { subnets: subnetIds, securityGroups: [securityGroupId], assignPublicIp: false },
        },
        // No retry by the scheduler: the next day's task resumes a failed run from the shared journal (--resume-unfinished).
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    },
    opts,
  );
  return { cluster, taskDefinition, taskRole, schedulerRole, schedule, stateFileSystem };
}
