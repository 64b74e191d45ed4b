import { GamedayError } from '../../core/errors.js';

/**
 * AWS SDK failures turned into what a user can act on: the AWS error name and
 * message, and a hint that depends on the kind of failure.
 */

interface SdkErrorShape {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
}

/** A failed AWS call: `transient` when waiting and retrying may help (throttling, AWS-side errors). */
export class AwsApiError extends GamedayError {
  constructor(
    message: string,
    input: string,
    hint: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super('POWER_AWS_API', message, input, hint);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

const CREDENTIALS = /Credential|ExpiredToken|UnrecognizedClient|AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|TokenRefreshRequired/;
const PERMISSION = /UnauthorizedOperation|AccessDenied/;
const TRANSIENT = /Throttl|RequestLimitExceeded|TooManyRequests|ServiceUnavailable|InternalError|Unavailable/;

export function isTransientAwsError(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  return e.$fault === 'server' || Boolean(e.$retryable) || TRANSIENT.test(e.name ?? '');
}

/** "Name: message" and a hint for one SDK error. */
export function describeAwsError(err: unknown): { message: string; hint: string } {
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const text = (e.message ?? String(err)).trim();
  const message = text.startsWith(name) ? text : `${name}: ${text}`;
  let hint: string;
  if (/region is missing/i.test(text)) {
    hint = 'give the region: an AWS zone name as the host zone (eu-west-1a), the region option, or AWS_REGION';
  } else if (CREDENTIALS.test(name) || CREDENTIALS.test(text)) {
    hint = 'check the AWS credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or an SSO login that has not expired';
  } else if (PERMISSION.test(name)) {
    hint = 'the credentials lack a permission: gameday needs ec2:DescribeInstances, ec2:DescribeInstanceStatus, ec2:RebootInstances (and ssm:SendCommand, ssm:GetCommandInvocation for SSM uptime)';
  } else if (/InvalidInstanceID/.test(name)) {
    hint = 'check the host id and that the instance lives in this region';
  } else if (isTransientAwsError(err)) {
    hint = 'AWS is throttling or failing on its side: try again in a minute';
  } else {
    hint = 'see the AWS error above';
  }
  return { message, hint };
}

/** The GamedayError for a failed call `what` (e.g. "EC2 RebootInstances") about `subject`. */
export function awsApiError(what: string, subject: string, input: string, err: unknown): AwsApiError {
  const { message, hint } = describeAwsError(err);
  return new AwsApiError(`${what} for ${subject} failed: ${message}`, input, hint, isTransientAwsError(err), { cause: err });
}
