import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GamedayError } from '../../core/errors.js';
import { regionOfArn, trafficApiError } from './awsErrors.js';
import type { ShareHealth, ShareTraffic, ShareWeights, WeightedShare } from './types.js';
import { ALB_MAX_WEIGHT, checkAlbShareOptions, type AlbShareOptions } from './shapes.js';

/** "targetgroup/web-az-a/73e2d6bc24d8a067": the name CloudWatch's TargetGroup dimension takes, and a short label. */
const resourceOf = (arn: string) => arn.split(':').slice(5).join(':');
const nameOf = (tgArn: string) => resourceOf(tgArn).split('/')[1] ?? tgArn;

/**
 * A target group's weight in an ALB listener's weighted forward action (or a
 * rule's), its targets' health, and its request counters from CloudWatch
 * (AWS/ApplicationELB, one-minute periods: a hold under two minutes judges
 * mostly the minute before it).
 */
export class AlbForwardShare implements WeightedShare {
  readonly maxWeight = ALB_MAX_WEIGHT;
  readonly label: string;
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly cloudwatch: CloudWatchClient;

  constructor(private readonly o: AlbShareOptions) {
    checkAlbShareOptions(o);
    const region = regionOfArn(o.targetGroupArn);
    this.elb = new ElasticLoadBalancingV2Client({ region });
    this.cloudwatch = new CloudWatchClient({ region });
    // listener/app/<load balancer>/<id>/<id>
    this.label = `target group ${nameOf(o.targetGroupArn)} on ALB ${resourceOf(o.listenerArn).split('/')[2]}${o.ruleArn ? ' (rule)' : ''}`;
  }

  /** The forward action and where it lives; only its target-group weights are ever changed. */
  private async forward(): Promise<{ actions: Action[]; index: number; loadBalancerArn: string }> {
    let listener;
    try {
      listener = (await this.elb.send(new DescribeListenersCommand({ ListenerArns: [this.o.listenerArn] }))).Listeners?.[0];
    } catch (err) {
      throw trafficApiError('ELB DescribeListeners', this.o.listenerArn, err);
    }
    if (!listener) throw new GamedayError('TRAFFIC_ALB_NO_LISTENER', `listener ${this.o.listenerArn} does not exist`, '--alb-listener', 'check the ARN and the region it names');
    let actions = listener.DefaultActions ?? [];
    if (this.o.ruleArn) {
      try {
        actions = (await this.elb.send(new DescribeRulesCommand({ RuleArns: [this.o.ruleArn] }))).Rules?.[0]?.Actions ?? [];
      } catch (err) {
        throw trafficApiError('ELB DescribeRules', this.o.ruleArn, err);
      }
    }
    const index = actions.findIndex((a) => a.Type === 'forward' && (a.ForwardConfig?.TargetGroups ?? []).some((t) => t.TargetGroupArn === this.o.targetGroupArn));
    if (index < 0) {
      throw new GamedayError(
        'TRAFFIC_ALB_NOT_FORWARDED',
        `${this.label}: the ${this.o.ruleArn ? 'rule' : 'listener\'s default action'} has no weighted forward to this target group`,
        '--target-group',
        'name a target group of the listener\'s forward action (aws elbv2 describe-listeners), or the rule that forwards to it with --alb-rule',
      );
    }
    return { actions, index, loadBalancerArn: listener.LoadBalancerArn ?? '' };
  }

  async weights(): Promise<ShareWeights> {
    const { actions, index } = await this.forward();
    const groups = actions[index].ForwardConfig?.TargetGroups ?? [];
    return {
      own: groups.find((g) => g.TargetGroupArn === this.o.targetGroupArn)?.Weight ?? 0,
      peers: groups.filter((g) => g.TargetGroupArn !== this.o.targetGroupArn).map((g) => ({ name: nameOf(g.TargetGroupArn ?? ''), weight: g.Weight ?? 0 })),
    };
  }

  async setWeight(weight: number): Promise<void> {
    const { actions, index } = await this.forward();
    const action = actions[index];
    const groups = (action.ForwardConfig?.TargetGroups ?? []).map((g) => (g.TargetGroupArn === this.o.targetGroupArn ? { ...g, Weight: weight } : g));
    // With a ForwardConfig of several groups the action must not also name a single TargetGroupArn.
    const { TargetGroupArn: _single, ...rest } = action;
    const changed = actions.map((a, i) => (i === index ? { ...rest, ForwardConfig: { ...action.ForwardConfig, TargetGroups: groups } } : a));
    try {
      if (this.o.ruleArn) await this.elb.send(new ModifyRuleCommand({ RuleArn: this.o.ruleArn, Actions: changed }));
      else await this.elb.send(new ModifyListenerCommand({ ListenerArn: this.o.listenerArn, DefaultActions: changed }));
    } catch (err) {
      throw trafficApiError(this.o.ruleArn ? 'ELB ModifyRule' : 'ELB ModifyListener', this.label, err);
    }
  }

  async health(since: Date): Promise<ShareHealth> {
    let described;
    try {
      described = await this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: this.o.targetGroupArn }));
    } catch (err) {
      throw trafficApiError('ELB DescribeTargetHealth', this.label, err);
    }
    const targets = described.TargetHealthDescriptions ?? [];
    const unhealthy = targets.filter((t) => t.TargetHealth?.State !== 'healthy').map((t) => `${t.Target?.Id ?? '?'} ${t.TargetHealth?.State ?? 'unknown'}${t.TargetHealth?.Reason ? ` (${t.TargetHealth.Reason})` : ''}`);
    const { actions, index, loadBalancerArn } = await this.forward();
    const peers = (actions[index].ForwardConfig?.TargetGroups ?? []).filter((g) => g.TargetGroupArn !== this.o.targetGroupArn && (g.Weight ?? 0) > 0).map((g) => g.TargetGroupArn ?? '');
    const traffic = await this.traffic(resourceOf(loadBalancerArn).replace(/^loadbalancer\//, ''), [this.o.targetGroupArn, ...peers], since);
    return {
      targets: { healthy: targets.length - unhealthy.length, total: targets.length, unhealthy },
      traffic: { own: traffic[0], peers: traffic.slice(1) },
    };
  }

  /** RequestCount, HTTPCode_Target_5XX_Count and TargetResponseTime of each target group since `since`. */
  private async traffic(loadBalancer: string, groups: string[], since: Date): Promise<ShareTraffic[]> {
    const metrics = [
      ['RequestCount', 'Sum'],
      ['HTTPCode_Target_5XX_Count', 'Sum'],
      ['TargetResponseTime', 'Average'],
    ] as const;
    const queries = groups.flatMap((tg, g) =>
      metrics.map(([name, stat], m) => ({
        Id: `m${g}_${m}`,
        MetricStat: {
          Metric: { Namespace: 'AWS/ApplicationELB', MetricName: name, Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancer }, { Name: 'TargetGroup', Value: resourceOf(tg) }] },
          Period: 60,
          Stat: stat,
        },
      })),
    );
    let results;
    try {
      results = (await this.cloudwatch.send(new GetMetricDataCommand({ StartTime: since, EndTime: new Date(), MetricDataQueries: queries }))).MetricDataResults ?? [];
    } catch (err) {
      throw trafficApiError('CloudWatch GetMetricData', this.label, err);
    }
    const values = (id: string) => results.find((r) => r.Id === id)?.Values ?? [];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return groups.map((tg, g) => {
      const seconds = values(`m${g}_2`);
      return {
        name: nameOf(tg),
        requests: sum(values(`m${g}_0`)),
        errors: sum(values(`m${g}_1`)),
        ...(seconds.length ? { responseMs: Math.round((sum(seconds) / seconds.length) * 1000) } : {}),
      };
    });
  }
}
