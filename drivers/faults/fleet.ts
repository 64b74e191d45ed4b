import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import type { AwsClientConfig } from '../power/regionalClients.js';
import type { Clock } from '../power/clock.js';
import type { SshRunner } from '../power/ssh.js';
import { awsFaultDriver, type AwsFaultOptionsInput } from './aws.js';
import { assertSupported, settleAll, valuesOrThrow, type CheckedFaultDriver } from './common.js';
import { sshFaultDriver, type SshFaultOptionsInput } from './ssh.js';
import { FAULT_TYPES, type ResolvedFault } from './types.js';

/**
 * The fault driver of a real fleet: each host is handled by the driver of
 * its `power` kind (ssh by default, as for power), the way powerDriverFor
 * picks a power driver. A fault over hosts of both kinds (a zone with
 * servers and EC2 instances) is split, each part injected (and undone) by
 * its driver at the same time. `supports` is what every kind in the
 * inventory supports.
 */

export type FleetKind = 'ssh' | 'aws';

export interface FleetFaultOptions {
  ssh?: SshFaultOptionsInput;
  aws?: AwsFaultOptionsInput;
  /** The kind of hosts whose inventory entry has no `power`; default ssh. */
  defaultKind?: FleetKind;
}

export interface FleetFaultDeps {
  sshRunner?: SshRunner;
  resolveName?: (name: string) => Promise<string[]>;
  awsClientConfig?: AwsClientConfig;
  clock?: Clock;
}

export function fleetFaultDriver(inventory: Inventory, options: FleetFaultOptions = {}, deps: FleetFaultDeps = {}): CheckedFaultDriver {
  // Auto Scaling members and ElastiCache nodes are AWS resources: the AWS fault driver (FIS templates) handles them.
  const kindOf = (h: Host) => {
    const k = h.power ?? options.defaultKind ?? 'ssh';
    return k === 'aws-asg' || k === 'elasticache' ? 'aws' : k;
  };
  const lab = inventory.hosts.filter((h) => kindOf(h) === 'lab');
  if (lab.length) {
    throw new GamedayError(
      'FAULT_LAB_HOSTS',
      `${lab.map((h) => h.name).join(', ')} ${lab.length > 1 ? 'are lab hosts' : 'is a lab host'} (power: lab): the lab's own fault driver handles them`,
      `inventory ${inventory.name}`,
      'run the game day on the lab without --inventory (--lab-dir names the lab)',
    );
  }
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  const kinds = [...new Set(inventory.hosts.map(kindOf))].sort() as FleetKind[];
  const drivers = new Map<FleetKind, CheckedFaultDriver>();
  for (const k of kinds) {
    drivers.set(
      k,
      k === 'ssh'
        ? sshFaultDriver(inventory, options.ssh, { run: deps.sshRunner, resolveName: deps.resolveName })
        : awsFaultDriver(inventory, options.aws, { clock: deps.clock, clientConfig: deps.awsClientConfig }),
    );
  }
  const supports = FAULT_TYPES.filter((t) => kinds.every((k) => drivers.get(k)!.supports.includes(t)));

  const kindOfName = (n: string, f: ResolvedFault): FleetKind => {
    const h = byName.get(n);
    if (!h) throw new GamedayError('FAULT_UNKNOWN_HOST', `fault ${f.type} ${f.label} names host ${n}, which inventory ${inventory.name} does not have`, `fault ${f.id}`, 'run (or abort) the game day with the inventory it was planned on');
    return kindOf(h) as FleetKind;
  };
  const parts = (f: ResolvedFault) => partsByKind(f, (n) => kindOfName(n, f));

  function checkOne(f: ResolvedFault): void {
    const ps = parts(f);
    if (f.type === 'partition' && ps.length > 1) {
      // A partition needs rules on both sides' hosts: every one must be of a kind that can partition.
      for (const p of ps) assertSupported(drivers.get(p.kind)!, f);
    }
    assertSupported(driver, f);
    for (const p of ps) drivers.get(p.kind)!.check([p.fault]);
  }

  async function each(f: ResolvedFault, verb: 'inject' | 'undo'): Promise<Record<string, unknown>> {
    const ps = parts(f);
    if (ps.length === 1) return drivers.get(ps[0]!.kind)![verb](ps[0]!.fault);
    const settled = await settleAll(ps, ps.length, (p) => drivers.get(p.kind)![verb](p.fault));
    const values = valuesOrThrow(`${verb} ${f.type} ${f.label}`, ps.map((p) => `${p.kind} hosts`), settled, `fault ${f.id}`);
    return Object.fromEntries(ps.map((p, i) => [p.kind, values[i]]));
  }

  const driver: CheckedFaultDriver = {
    kind: kinds.join('+'),
    supports,
    check(faults) {
      for (const f of faults) checkOne(f);
    },
    async inject(f) {
      checkOne(f);
      return each(f, 'inject');
    },
    async undo(f) {
      assertSupported(driver, f);
      return each(f, 'undo');
    },
  };
  return driver;
}

/** The fault cut into one part per kind of host it touches (a partition keeps its sides, cut the same way). */
function partsByKind(f: ResolvedFault, kindOfName: (name: string) => FleetKind): Array<{ kind: FleetKind; fault: ResolvedFault }> {
  const all = f.sides ? [...f.sides[0], ...f.sides[1], ...f.hosts] : f.hosts;
  const involved = [...new Set(all.map(kindOfName))].sort();
  return involved.map((kind) => ({
    kind,
    fault: {
      ...f,
      hosts: f.hosts.filter((n) => kindOfName(n) === kind),
      ...(f.sides ? { sides: [f.sides[0].filter((n) => kindOfName(n) === kind), f.sides[1].filter((n) => kindOfName(n) === kind)] as [string[], string[]] } : {}),
    },
  }));
}
