import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { InventoryInput } from '../topology/index.js';
import { createCache } from './cache.js';
import { createChaos } from './chaos.js';
import { createCompute } from './compute.js';
import type { StackConfig } from './config.js';
import { buildInventory, stackLayout, type HostIdentity, type StackLayout } from './layout.js';
import { createNetwork } from './network.js';
import { createRebootJob } from './reboot.js';
import { createSecurityGroups } from './security.js';

export interface GamedayStackOutputs {
  /** The inventory in topology/'s shape: what `gameday inventory from-pulumi` writes. */
  inventory: pulumi.Output<InventoryInput>;
  albDnsName: pulumi.Output<string>;
  vpcId: pulumi.Output<string>;
  placementGroups: string[];
  /** "<placement group>/<zone>" → FIS experiment template id */
  rackExperiments: pulumi.Output<Record<string, string>>;
  /** zone → FIS experiment template id */
  zoneExperiments: pulumi.Output<Record<string, string>>;
  rebootSchedule: pulumi.Output<string>;
}

function idsOf(templates: Map<string, aws.fis.ExperimentTemplate>): pulumi.Output<Record<string, string>> {
  const keys = [...templates.keys()];
  return pulumi.all([...templates.values()].map((t) => t.id)).apply((ids) => Object.fromEntries(keys.map((k, i) => [k, ids[i]!])));
}

/** Every resource of one gameday stack, under one component, in the configured region. */
export class GamedayStack extends pulumi.ComponentResource {
  readonly layout: StackLayout;
  readonly outputs: GamedayStackOutputs;

  constructor(name: string, stack: string, config: StackConfig, opts: pulumi.ComponentResourceOptions = {}) {
    const provider = new aws.Provider(`${name}-aws`, { region: config.region as aws.Region });
    super('gameday:infra:Stack', name, {}, { ...opts, providers: [provider] });

    const layout = stackLayout(stack, config);
    this.layout = layout;
    const net = createNetwork(stack, config, this);
    const sgs = createSecurityGroups(stack, config, net.vpc.id, this);
    const compute = createCompute(stack, config, layout, net, sgs, this);
    const cache = createCache(stack, config, layout, net, sgs, this);

    const hosts = [...layout.db, ...layout.dbProxy];
    const ec2Identities = pulumi
      .all(hosts.map((h) => pulumi.all([compute.instances.get(h.name)!.privateIp, compute.instances.get(h.name)!.id])))
      .apply((pairs) => Object.fromEntries(pairs.map(([address, id], i): [string, HostIdentity] => [hosts[i]!.name, { address, id }])));
    const webGroupNames = pulumi
      .all([...compute.webGroups.entries()].map(([pg, asg]) => asg.name.apply((n): [string, string] => [pg, n])))
      .apply((pairs) => Object.fromEntries(pairs));
    const inventory = pulumi
      .all([ec2Identities, cache.nodes, webGroupNames])
      .apply(([ec2, nodes, asgs]) => buildInventory(layout, config, { ...ec2, ...nodes }, asgs));

    const chaos = createChaos(stack, config, layout, compute.alb, cache.replicationGroup, this);
    const reboot = createRebootJob(
      stack,
      config,
      inventory,
      [...net.privateSubnets.values()].map((s) => s.id),
      sgs.rebootJob.id,
      sgs.jobState.id,
      compute.alb,
      compute.listener,
      this,
    );

    this.outputs = {
      inventory,
      albDnsName: compute.alb.dnsName,
      vpcId: net.vpc.id,
      placementGroups: layout.placementGroups.map((g) => g.name),
      rackExperiments: idsOf(chaos.rackTemplates),
      zoneExperiments: idsOf(chaos.zoneTemplates),
      rebootSchedule: reboot.schedule.name,
    };
    this.registerOutputs({ inventory, albDnsName: this.outputs.albDnsName });
  }
}
