import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { trafficApiError } from './awsErrors.js';

/** The named CloudWatch alarms that are in ALARM (a missing name counts as one: a typo must not pass a gate). */
export async function alarmsFiring(names: string[], region?: string): Promise<string[]> {
  if (names.length === 0) return [];
  const client = new CloudWatchClient(region ? { region } : {});
  let answer;
  try {
    answer = await client.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
  } catch (err) {
    throw trafficApiError('CloudWatch DescribeAlarms', names.join(', '), err);
  }
  const alarms = [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])];
  return names.flatMap((n) => {
    const a = alarms.find((x) => x.AlarmName === n);
    if (!a) return [`${n} (no such alarm)`];
    return a.StateValue === 'ALARM' ? [`${n} (${a.StateReason ?? 'in ALARM'})`] : [];
  });
}
