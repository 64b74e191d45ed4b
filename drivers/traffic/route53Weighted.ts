import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
import { setTimeout as sleep } from 'node:timers/promises';
import { GamedayError } from '../../core/errors.js';
import { trafficApiError } from './awsErrors.js';
import type { ShareHealth, ShareWeights, WeightedShare } from './types.js';
import { ROUTE53_MAX_WEIGHT, checkRoute53ShareOptions, type Route53ShareOptions } from './shapes.js';

/** Route 53 names end with a dot and are compared without case. */
const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/**
 * One weighted record of a Route 53 record set (same name and type, one
 * SetIdentifier per zone or data center), its weight and, when it has one,
 * its health check as Route 53's checkers see it.
 */
export class Route53WeightedShare implements WeightedShare {
  readonly maxWeight = ROUTE53_MAX_WEIGHT;
  readonly label: string;
  private readonly route53 = new Route53Client({ region: 'us-east-1' }); // a global service, signed in us-east-1

  constructor(private readonly o: Route53ShareOptions) {
    checkRoute53ShareOptions(o);
    this.label = `Route 53 record ${fqdn(o.recordName)} ${o.recordType} "${o.setIdentifier}"`;
  }

  private get zoneId(): string {
    return this.o.hostedZoneId.replace(/^\/hostedzone\//, '');
  }

  /** Every weighted record of the set (the list is sorted by name, then type; a big set spans pages). */
  private async recordSet(): Promise<ResourceRecordSet[]> {
    const name = fqdn(this.o.recordName);
    const found: ResourceRecordSet[] = [];
    let start: { name?: string; type?: RRType; id?: string } = { name, type: this.o.recordType as RRType };
    for (;;) {
      let page;
      try {
        page = await this.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: this.zoneId, StartRecordName: start.name, StartRecordType: start.type, StartRecordIdentifier: start.id }));
      } catch (err) {
        throw trafficApiError('Route 53 ListResourceRecordSets', this.label, err);
      }
      const sets = page.ResourceRecordSets ?? [];
      found.push(...sets.filter((r) => fqdn(r.Name ?? '') === name && r.Type === this.o.recordType && r.SetIdentifier !== undefined));
      const last = sets.at(-1);
      if (!page.IsTruncated || !last || fqdn(last.Name ?? '') !== name || last.Type !== this.o.recordType) return found;
      start = { name: page.NextRecordName, type: page.NextRecordType, id: page.NextRecordIdentifier };
    }
  }

  private async own(): Promise<{ mine: ResourceRecordSet; all: ResourceRecordSet[] }> {
    const all = await this.recordSet();
    const mine = all.find((r) => r.SetIdentifier === this.o.setIdentifier);
    if (!mine || mine.Weight === undefined) {
      const ids = all.filter((r) => r.Weight !== undefined).map((r) => `"${r.SetIdentifier}"`);
      throw new GamedayError(
        'TRAFFIC_ROUTE53_NO_RECORD',
        `${this.label} is not a weighted record of zone ${this.zoneId}`,
        '--set-identifier',
        ids.length ? `weighted records of ${fqdn(this.o.recordName)} ${this.o.recordType}: ${ids.join(', ')}` : `zone ${this.zoneId} has no weighted ${this.o.recordType} record named ${fqdn(this.o.recordName)}: check --record and --record-type`,
      );
    }
    return { mine, all };
  }

  async weights(): Promise<ShareWeights> {
    const { mine, all } = await this.own();
    return { own: mine.Weight ?? 0, peers: all.filter((r) => r !== mine && r.Weight !== undefined).map((r) => ({ name: r.SetIdentifier ?? '', weight: r.Weight ?? 0 })) };
  }

  async setWeight(weight: number): Promise<void> {
    const { mine } = await this.own();
    let changeId: string | undefined;
    try {
      const answer = await this.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.zoneId,
          ChangeBatch: { Comment: `gameday ramp: ${this.o.setIdentifier} to weight ${weight}`, Changes: [{ Action: 'UPSERT', ResourceRecordSet: { ...mine, Weight: weight } }] },
        }),
      );
      changeId = answer.ChangeInfo?.Id;
    } catch (err) {
      throw trafficApiError('Route 53 ChangeResourceRecordSets', this.label, err);
    }
    if (changeId) await this.untilInSync(changeId);
  }

  /** A weight counts from when every Route 53 name server has it, not from when it was accepted. */
  private async untilInSync(changeId: string): Promise<void> {
    const deadline = Date.now() + (this.o.syncTimeoutMs ?? 180_000);
    for (;;) {
      let status;
      try {
        status = (await this.route53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status;
      } catch (err) {
        throw trafficApiError('Route 53 GetChange', this.label, err);
      }
      if (status === 'INSYNC') return;
      if (Date.now() > deadline) throw new GamedayError('TRAFFIC_ROUTE53_NOT_IN_SYNC', `change ${changeId} of ${this.label} is still ${status ?? 'unknown'} after ${Math.round((this.o.syncTimeoutMs ?? 180_000) / 1000)} s`, this.label, 'Route 53 is slow to propagate: resume the run once aws route53 get-change says INSYNC');
      await sleep(this.o.pollMs ?? 2000);
    }
  }

  async health(_since: Date): Promise<ShareHealth> {
    const { mine } = await this.own();
    if (!mine.HealthCheckId) return {};
    let observations;
    try {
      observations = (await this.route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: mine.HealthCheckId }))).HealthCheckObservations ?? [];
    } catch (err) {
      throw trafficApiError('Route 53 GetHealthCheckStatus', this.label, err);
    }
    const healthy = observations.filter((o) => (o.StatusReport?.Status ?? '').startsWith('Success')).length;
    return { healthCheck: { id: mine.HealthCheckId, healthy, checkers: observations.length } };
  }
}
