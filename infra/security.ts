import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from './config.js';
import { tagsFor } from './naming.js';

export interface SecurityGroups {
  alb: aws.ec2.SecurityGroup;
  web: aws.ec2.SecurityGroup;
  dbProxy: aws.ec2.SecurityGroup;
  db: aws.ec2.SecurityGroup;
  redis: aws.ec2.SecurityGroup;
  /** The scheduled reboot job: it reaches every tier to check its gates. */
  rebootJob: aws.ec2.SecurityGroup;
  /** The reboot job's state (journal and locks) on EFS: NFS from the job only. */
  jobState: aws.ec2.SecurityGroup;
}

const allEgress = [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }];

/** One security group per tier: each tier is reachable only from the tier in front of it (and the reboot job). */
export function createSecurityGroups(stack: string, config: StackConfig, vpcId: pulumi.Input<string>, parent: pulumi.Resource): SecurityGroups {
  const opts = { parent };
  const sg = (name: string, tier: string, description: string, ingress: aws.types.input.ec2.SecurityGroupIngress[]) =>
    new aws.ec2.SecurityGroup(
      `sg-${name}`,
      { vpcId, description, ingress, egress: allEgress, tags: tagsFor(stack, { tier, role: 'security-group', name: `gameday-${stack}-${name}` }) },
      opts,
    );
  const rebootJob = sg('reboot-job', 'reboot', 'gameday reboot-stale job', []);
  const alb = sg('alb', 'web', 'gameday load balancer', [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidrBlocks: config.allowedHttpCidrs }]);
  const web = sg('web', 'web', 'gameday web tier', [{ protocol: 'tcp', fromPort: 80, toPort: 80, securityGroups: [alb.id, rebootJob.id] }]);
  const dbProxy = sg('db-proxy', 'db-proxy', 'gameday HAProxy tier', [
    { protocol: 'tcp', fromPort: 3306, toPort: 3306, securityGroups: [web.id, rebootJob.id] },
    // HAProxy's runtime API: the reboot job drains and ramps servers through it.
    { protocol: 'tcp', fromPort: 9999, toPort: 9999, securityGroups: [rebootJob.id] },
  ]);
  const db = sg('db', 'db', 'gameday MariaDB tier', [
    { protocol: 'tcp', fromPort: 3306, toPort: 3306, securityGroups: [dbProxy.id, rebootJob.id] },
    // replication between primary and replicas
    { protocol: 'tcp', fromPort: 3306, toPort: 3306, self: true },
  ]);
  const redis = sg('redis', 'redis', 'gameday ElastiCache tier', [
    { protocol: 'tcp', fromPort: 6379, toPort: 6379, securityGroups: [web.id, rebootJob.id] },
  ]);
  const jobState = sg('job-state', 'reboot', 'gameday reboot job state (EFS)', [{ protocol: 'tcp', fromPort: 2049, toPort: 2049, securityGroups: [rebootJob.id] }]);
  return { alb, web, dbProxy, db, redis, rebootJob, jobState };
}
