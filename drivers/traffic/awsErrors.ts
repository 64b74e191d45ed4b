import { GamedayError } from '../../core/errors.js';
import { describeAwsError, isTransientAwsError } from '../power/awsErrors.js';

/** The GamedayError for a failed AWS call `what` (e.g. "ELB ModifyListener") about a traffic share. */
export function trafficApiError(what: string, subject: string, err: unknown): GamedayError {
  const { message, hint } = describeAwsError(err);
  const permission = /AccessDenied|UnauthorizedOperation/.test((err as { name?: string })?.name ?? '');
  return new GamedayError(
    'TRAFFIC_AWS_API',
    `${what} for ${subject} failed: ${message}`,
    subject,
    permission
      ? 'the credentials lack a permission: a ramp needs elasticloadbalancing:DescribeListeners, DescribeRules, ModifyListener, ModifyRule, DescribeTargetHealth and cloudwatch:GetMetricData, DescribeAlarms (ALB), or route53:ListResourceRecordSets, ChangeResourceRecordSets, GetChange, GetHealthCheckStatus (Route 53)'
      : isTransientAwsError(err)
        ? 'AWS is throttling or failing on its side: resume the run in a minute (gameday runbook resume <run>)'
        : hint,
  );
}

/** The region an ARN names (arn:aws:service:REGION:account:…), if any. */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region ? region : undefined;
}
