import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumeRun, startRun } from '../../../engine/runner.js';
import { ramp, sourceFile } from '../../../runbooks/ramp.js';
import { GamedayError } from '../../../core/errors.js';
import { engineOptions, events, tempDirs } from '../../fixtures/runbooks/helpers.js';

// No network, no credentials: every SDK client's send() is replaced by these mocks, which keep the state a real ALB / zone would.
const elb = mockClient(ElasticLoadBalancingV2Client);
const cloudwatch = mockClient(CloudWatchClient);
const route53 = mockClient(Route53Client);
const tmp = tempDirs();
afterEach(() => tmp.cleanup());

const ACCOUNT = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const LISTENER = `${ACCOUNT}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const LB = `${ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188`;
const tg = (zone: string) => `${ACCOUNT}:targetgroup/web-${zone}/73e2d6bc24d8a0${zone === 'az-a' ? '6a' : zone === 'az-b' ? '6b' : '6c'}`;
const entry = { runbook: ramp, sourceFile };
const FAST = { hold: '1s', steps: '10,50,100', retries: '1' };

/** One listener whose default action splits between three zones' target groups; az-a came back at weight 0. */
function albWorld(opts: { errorsFromWeight?: number; peersWeight?: number } = {}) {
  let actions: Action[] = [
    {
      Type: 'forward',
      Order: 1,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: tg('az-a'), Weight: 0 },
          { TargetGroupArn: tg('az-b'), Weight: opts.peersWeight ?? 100 },
          { TargetGroupArn: tg('az-c'), Weight: opts.peersWeight ?? 100 },
        ],
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
      },
    },
  ];
  const weightOf = () => actions[0].ForwardConfig!.TargetGroups!.find((g) => g.TargetGroupArn === tg('az-a'))!.Weight!;
  elb.on(DescribeListenersCommand, { ListenerArns: [LISTENER] }).callsFake(() => ({ Listeners: [{ ListenerArn: LISTENER, LoadBalancerArn: LB, DefaultActions: actions }] }));
  elb.on(ModifyListenerCommand).callsFake((input: { DefaultActions: Action[] }) => {
    actions = input.DefaultActions;
    return {};
  });
  elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: 'i-0aaa', Port: 80 }, TargetHealth: { State: 'healthy' } }, { Target: { Id: 'i-0bbb', Port: 80 }, TargetHealth: { State: 'healthy' } }] });
  // az-a answers 5xx to a third of its requests once it has at least `errorsFromWeight`; its peers answer clean.
  cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: Array<{ Id: string; MetricStat: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } } }> }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => {
      const group = q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'TargetGroup')!.Value;
      const mine = group.startsWith('targetgroup/web-az-a/');
      const failing = mine && opts.errorsFromWeight !== undefined && weightOf() >= opts.errorsFromWeight;
      const values = { RequestCount: [300], HTTPCode_Target_5XX_Count: [failing ? 100 : 0], TargetResponseTime: [0.012] }[q.MetricStat.Metric.MetricName as 'RequestCount'];
      return { Id: q.Id, Values: values };
    }),
  }));
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'web-5xx', StateValue: 'OK' }] });
  return { weightOf, actions: () => actions };
}

const modifiedWeights = () => elb.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input.DefaultActions![0].ForwardConfig!.TargetGroups!.find((g) => g.TargetGroupArn === tg('az-a'))!.Weight);

beforeEach(() => {
  elb.reset();
  cloudwatch.reset();
  route53.reset();
});

describe('gameday ramp through an ALB weighted forward (aws-sdk-client-mock)', () => {
  it('raises a zone\'s target group step by step to its peers\' weight, leaving the peers and stickiness as they were', async () => {
    const world = albWorld();
    const out = await startRun(entry, { albListener: LISTENER, targetGroup: tg('az-a'), alarms: 'web-5xx', ...FAST }, engineOptions(tmp.make()));
    expect(out.state).toBe('succeeded');
    expect(modifiedWeights()).toEqual([10, 50, 100]);
    const last = world.actions()[0].ForwardConfig!;
    expect(last.TargetGroups!.map((g) => g.Weight)).toEqual([100, 100, 100]);
    expect(last.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
    // Judged from its own metrics against its peers', for the listener's load balancer.
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries![0].MetricStat!.Metric!.Dimensions;
    expect(query).toEqual([{ Name: 'LoadBalancer', Value: 'app/web/50dc6c495c0c9188' }, { Name: 'TargetGroup', Value: 'targetgroup/web-az-a/73e2d6bc24d8a06a' }]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand).length).toBeGreaterThanOrEqual(3);
  });

  it('steps back down when its 5xx rate passes its peers\', takes it out at weight 0 and never raises it on resume', async () => {
    albWorld({ errorsFromWeight: 50 });
    const stateDir = tmp.make();
    const out = await startRun(entry, { albListener: LISTENER, targetGroup: tg('az-a'), ...FAST }, engineOptions(stateDir));
    expect(out.state).toBe('failed');
    expect(out.failedStep?.error).toMatch(/gates failed at 50% 2 times: target group web-az-a is at weight 0/);
    // 10, then 50 fails → back to 10, 50 again fails → 10, then out.
    expect(modifiedWeights()).toEqual([10, 50, 10, 50, 10, 0]);
    const notes = events(stateDir, out.runId).filter((e) => e.event === 'note').map((e) => String(e.data?.message ?? ''));
    expect(notes.some((n) => /gate failed at 50% \(try 1 of 2\): target group web-az-a: 100 5xx in 300 requests \(33.3 %, peers 0.0 %/.test(n))).toBe(true);
    expect(out.degraded.join(' ')).toMatch(/web-az-a is at weight 0/);

    const calls = elb.commandCalls(ModifyListenerCommand).length;
    const again = await resumeRun(out.runId, () => entry, { ...engineOptions(stateDir), retry: ['tg-web-az-a/weight-50'] }).catch((e: unknown) => e);
    const state = again instanceof GamedayError ? again.code : (again as { state: string; failedStep?: { error: string } }).failedStep?.error;
    expect(String(state)).toMatch(/RAMP_GATE_FAILED_BEFORE|does not raise it again/);
    expect(elb.commandCalls(ModifyListenerCommand).length).toBe(calls);
  }, 30_000);

  it('fails the gate on an unhealthy target and on a named alarm in ALARM', async () => {
    albWorld();
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: 'i-0aaa' }, TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' } }, { Target: { Id: 'i-0bbb' }, TargetHealth: { State: 'healthy' } }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'web-5xx', StateValue: 'ALARM', StateReason: 'Threshold Crossed' }] });
    const stateDir = tmp.make();
    const out = await startRun(entry, { albListener: LISTENER, targetGroup: tg('az-a'), alarms: 'web-5xx', ...FAST, retries: '0' }, engineOptions(stateDir));
    expect(out.state).toBe('failed');
    expect(modifiedWeights()).toEqual([10, 0, 0]);
    expect(out.failedStep?.error).toMatch(/at weight 0/);
    const failed = events(stateDir, out.runId).filter((e) => e.event === 'note').map((e) => String(e.data?.message ?? '')).find((n) => n.startsWith('gate failed'));
    expect(failed).toContain('1 of 2 targets not healthy: i-0aaa unhealthy (Target.ResponseCodeMismatch)');
    expect(failed).toContain('alarm web-5xx (Threshold Crossed)');
  });

  it('refuses bad input before any AWS call: a malformed ARN, two targets at once, a target group the listener does not forward to, all weights 0', async () => {
    albWorld();
    const refusal = async (params: Record<string, unknown>) => {
      const err = await startRun(entry, { ...FAST, ...params }, engineOptions(tmp.make())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GamedayError);
      return err as GamedayError;
    };
    expect((await refusal({ albListener: 'listener/web', targetGroup: tg('az-a') })).input).toBe('--alb-listener');
    expect(elb.calls()).toHaveLength(0);
    expect((await refusal({ host: 'toy-1', albListener: LISTENER, targetGroup: tg('az-a') })).code).toBe('RAMP_TWO_TARGETS');
    expect((await refusal({ albListener: LISTENER })).input).toBe('--target-group');
    expect((await refusal({ albListener: LISTENER, targetGroup: `${ACCOUNT}:targetgroup/batch/0123456789abcdef` })).code).toBe('TRAFFIC_ALB_NOT_FORWARDED');
    expect((await refusal({ albListener: LISTENER, targetGroup: tg('az-a'), fullWeight: '1000' })).input).toMatch(/full-?weight/i);
    expect((await refusal({ route53Zone: 'Z0123456789ABCDEFGHIJ', record: 'api.example.com' })).input).toBe('--set-identifier');
    albWorld({ peersWeight: 0 });
    const none = await refusal({ albListener: LISTENER, targetGroup: tg('az-a') });
    expect([none.code, none.input]).toEqual(['RAMP_NO_FULL_WEIGHT', '--full-weight']);
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });
});

describe('gameday ramp through Route 53 weighted records (aws-sdk-client-mock)', () => {
  const ZONE = 'Z0123456789ABCDEFGHIJ';
  function zoneWorld(opts: { healthy?: (weight: number) => boolean; pendingOnce?: boolean } = {}) {
    let records: ResourceRecordSet[] = [
      { Name: 'api.example.com.', Type: 'A', SetIdentifier: 'dc-east', Weight: 0, TTL: 30, ResourceRecords: [{ Value: '198.51.100.10' }], HealthCheckId: 'hc-east' },
      { Name: 'api.example.com.', Type: 'A', SetIdentifier: 'dc-west', Weight: 200, TTL: 30, ResourceRecords: [{ Value: '198.51.100.20' }] },
      { Name: 'www.example.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '198.51.100.30' }] },
    ];
    const east = () => records.find((r) => r.SetIdentifier === 'dc-east')!;
    route53.on(ListResourceRecordSetsCommand).callsFake(() => ({ ResourceRecordSets: records, IsTruncated: false }));
    let pending = opts.pendingOnce ?? false;
    route53.on(ChangeResourceRecordSetsCommand).callsFake((input: { ChangeBatch: { Changes: Array<{ ResourceRecordSet: ResourceRecordSet }> } }) => {
      const changed = input.ChangeBatch.Changes[0].ResourceRecordSet;
      records = records.map((r) => (r.SetIdentifier === changed.SetIdentifier ? changed : r));
      return { ChangeInfo: { Id: '/change/C1', Status: 'PENDING' } };
    });
    route53.on(GetChangeCommand).callsFake(() => {
      const status = pending ? 'PENDING' : 'INSYNC';
      pending = false;
      return { ChangeInfo: { Id: '/change/C1', Status: status } };
    });
    const healthy = opts.healthy ?? (() => true);
    route53.on(GetHealthCheckStatusCommand).callsFake(() => ({
      HealthCheckObservations: [1, 2, 3].map((i) => ({ Region: 'eu-west-1', IPAddress: `15.177.0.${i}`, StatusReport: { Status: healthy(east().Weight!) ? 'Success: HTTP Status Code 200, OK' : 'Failure: Connection timed out' } })),
    }));
    return { east };
  }
  const upserted = () => route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!.Changes![0].ResourceRecordSet!.Weight);

  it('raises a data center\'s record to its peer\'s weight, waiting for INSYNC, keeping the record as it was', async () => {
    const world = zoneWorld({ pendingOnce: true });
    const out = await startRun(entry, { route53Zone: ZONE, record: 'api.example.com', setIdentifier: 'dc-east', ...FAST }, engineOptions(tmp.make()));
    expect(out.state).toBe('succeeded');
    expect(upserted()).toEqual([20, 100, 200]);
    expect(world.east()).toEqual({ Name: 'api.example.com.', Type: 'A', SetIdentifier: 'dc-east', Weight: 200, TTL: 30, ResourceRecords: [{ Value: '198.51.100.10' }], HealthCheckId: 'hc-east' });
    expect(route53.commandCalls(GetChangeCommand).length).toBe(4); // one PENDING, then INSYNC for each of the 3 changes
    expect(route53.commandCalls(GetHealthCheckStatusCommand).length).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it('takes the record to weight 0 when its health check fails at a step', async () => {
    zoneWorld({ healthy: (w) => w < 100 });
    const out = await startRun(entry, { route53Zone: ZONE, record: 'api.example.com', setIdentifier: 'dc-east', ...FAST, retries: '0' }, engineOptions(tmp.make()));
    expect(out.state).toBe('failed');
    expect(out.failedStep?.error).toMatch(/gates failed at 50% 1 times/);
    expect(upserted()).toEqual([20, 100, 20, 0]);
  });

  it('names the weighted records there are when the set identifier is wrong', async () => {
    zoneWorld();
    const err = await startRun(entry, { route53Zone: ZONE, record: 'api.example.com', setIdentifier: 'dc-north', ...FAST }, engineOptions(tmp.make())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).hint).toContain('"dc-east", "dc-west"');
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });
});
