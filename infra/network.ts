import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from './config.js';
import { tagsFor } from './naming.js';

export interface Network {
  vpc: aws.ec2.Vpc;
  /** zone → subnet */
  publicSubnets: Map<string, aws.ec2.Subnet>;
  privateSubnets: Map<string, aws.ec2.Subnet>;
}

/**
 * A VPC with a public and a private subnet in each zone. Each zone has its own NAT gateway, so
 * losing one zone never cuts the others off (a single NAT would be a zone-wide single point).
 */
export function createNetwork(stack: string, config: StackConfig, parent: pulumi.Resource): Network {
  const opts = { parent };
  const tags = (role: string, zone?: string) => tagsFor(stack, { tier: 'network', role, zone, name: `gameday-${stack}-${role}${zone ? `-${zone}` : ''}` });
  const vpc = new aws.ec2.Vpc('vpc', { cidrBlock: config.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags('vpc') }, opts);
  const igw = new aws.ec2.InternetGateway('igw', { vpcId: vpc.id, tags: tags('internet-gateway') }, opts);
  const publicRoutes = new aws.ec2.RouteTable(
    'public-routes',
    { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: tags('public-routes') },
    opts,
  );
  const publicSubnets = new Map<string, aws.ec2.Subnet>();
  const privateSubnets = new Map<string, aws.ec2.Subnet>();
  config.zones.forEach((zone, i) => {
    const pub = new aws.ec2.Subnet(
      `public-${zone}`,
      { vpcId: vpc.id, availabilityZone: zone, cidrBlock: config.publicSubnetCidrs[i]!, mapPublicIpOnLaunch: false, tags: tags('public-subnet', zone) },
      opts,
    );
    new aws.ec2.RouteTableAssociation(`public-${zone}`, { subnetId: pub.id, routeTableId: publicRoutes.id }, opts);
    const eip = new aws.ec2.Eip(`nat-${zone}`, { domain: 'vpc', tags: tags('nat-address', zone) }, opts);
    const nat = new aws.ec2.NatGateway(`nat-${zone}`, { subnetId: pub.id, allocationId: eip.id, tags: tags('nat-gateway', zone) }, { parent, dependsOn: [igw] });
    const priv = new aws.ec2.Subnet(
      `private-${zone}`,
      { vpcId: vpc.id, availabilityZone: zone, cidrBlock: config.privateSubnetCidrs[i]!, tags: tags('private-subnet', zone) },
      opts,
    );
    const routes = new aws.ec2.RouteTable(
      `private-routes-${zone}`,
      { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }], tags: tags('private-routes', zone) },
      opts,
    );
    new aws.ec2.RouteTableAssociation(`private-${zone}`, { subnetId: priv.id, routeTableId: routes.id }, opts);
    publicSubnets.set(zone, pub);
    privateSubnets.set(zone, priv);
  });
  return { vpc, publicSubnets, privateSubnets };
}
