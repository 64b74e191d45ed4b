/**
 * Runs the gameday Pulumi program against the Pulumi mocks: no engine, no cloud, no credentials.
 * Every resource the program registers is recorded with its inputs, as the policy pack sees them.
 */
import * as pulumi from '@pulumi/pulumi';
// Waits until every pending resource registration is done, then drops the (mock) monitor.
import { disconnect } from '@pulumi/pulumi/runtime/settings.js';
import type { StackConfig } from '../../../infra/config.js';
import { GamedayStack } from '../../../infra/stack.js';
import type { InventoryInput } from '../../../topology/index.js';

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** What the program gave (the policy pack validates these). */
  inputs: Record<string, any>;
}

export { configWith, TEST_IMAGE } from './fixtures.js';

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** An EC2-shaped instance id (i- and 17 hex digits), the same for the same resource name. */
export function mockInstanceId(name: string): string {
  let h = 0n;
  for (const c of name) h = (h * 131n + BigInt(c.charCodeAt(0))) % (1n << 68n);
  return `i-${h.toString(16).padStart(17, '0').slice(-17)}`;
}

/** Installs fresh mocks; returns the list the registered resources are recorded in. */
export async function installMocks(stack: string, config: Record<string, string> = {}): Promise<RecordedResource[]> {
  const resources: RecordedResource[] = [];
  let ip = 10;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, any> = { ...args.inputs, arn: `arn:aws:mock:${args.type}:${args.name}` };
        switch (args.type) {
          case 'aws:ec2/instance:Instance':
            state.privateIp = `10.40.${128 + Math.floor(ip / 250)}.${(ip++ % 250) + 1}`;
            break;
          case 'aws:lb/loadBalancer:LoadBalancer':
            state.dnsName = `${args.name}.elb.mock`;
            state.arn = `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/${args.name}/50dc6c495c0c9188`;
            state.arnSuffix = `app/${args.name}/50dc6c495c0c9188`;
            break;
          case 'aws:ecs/taskDefinition:TaskDefinition':
            state.arnWithoutRevision = `arn:aws:ecs:us-east-1:123456789012:task-definition/${args.inputs.family}`;
            state.arn = `${state.arnWithoutRevision}:1`;
            break;
          case 'aws:autoscaling/group:Group':
          case 'aws:ec2/placementGroup:PlacementGroup':
            state.name = args.inputs.name ?? args.name;
            break;
        }
        const id =
          args.type === 'aws:elasticache/replicationGroup:ReplicationGroup'
            ? args.inputs.replicationGroupId
            : args.type === 'aws:ec2/instance:Instance'
              ? mockInstanceId(args.name)
              : `${args.name}-id`;
        resources.push({ type: args.type, name: args.name, urn: `urn:pulumi:${stack}::gameday::${args.type}::${args.name}`, inputs: args.inputs });
        return { id, state };
      },
      call(args) {
        switch (args.token) {
          case 'aws:ec2/getAmi:getAmi':
            return { id: 'ami-0123456789abcdef0', name: 'debian-12-amd64-mock' };
          case 'aws:elasticache/getCluster:getCluster':
            return {
              clusterId: args.inputs.clusterId,
              cacheNodes: [{ id: '0001', address: `${args.inputs.clusterId}.abc123.0001.use1.cache.amazonaws.com`, port: 6379 }],
            };
          default:
            return args.inputs;
        }
      },
    },
    'gameday',
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`gameday:${k}`, v])));
  return resources;
}

export interface MockedRun {
  stack: GamedayStack;
  inventory: InventoryInput;
  resources: RecordedResource[];
}

/** Builds the whole stack under mocks and waits until every resource is registered. */
export async function runStack(config: StackConfig, stackName = 'dev'): Promise<MockedRun> {
  const resources = await installMocks(stackName);
  const stack = new GamedayStack('gameday', stackName, config);
  const inventory = await valueOf(stack.outputs.inventory);
  await valueOf(pulumi.all([stack.outputs.rackExperiments, stack.outputs.zoneExperiments, stack.outputs.rebootSchedule]));
  await disconnect();
  return { stack, inventory, resources };
}
