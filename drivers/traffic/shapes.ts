import { GamedayError } from '../../core/errors.js';

/**
 * What an ALB or Route 53 ramp is given, checked before any AWS call (and
 * without loading the AWS SDK), so that a typo is one clear error.
 */

/** ALB target-group weights in a weighted forward action (REFERENCE: 0-999). */
export const ALB_MAX_WEIGHT = 999;

const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]+\/[0-9a-f]+$/;
const LISTENER_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[A-Za-z0-9-]+\/[0-9a-f]+\/[0-9a-f]+$/;
const RULE_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[A-Za-z0-9-]+\/[0-9a-f]+\/[0-9a-f]+\/[0-9a-f]+$/;

export interface AlbShareOptions {
  /** The listener whose default forward action splits traffic between target groups. */
  listenerArn: string;
  /** A listener rule instead of the default action, when the weighted forward is in a rule. */
  ruleArn?: string;
  /** The target group to ramp. */
  targetGroupArn: string;
}

/** Checks the ARNs before any call, so that a typo is one clear error. */
export function checkAlbShareOptions(o: AlbShareOptions): void {
  const bad = (input: string, value: string, shape: string) =>
    new GamedayError('BAD_ARN', `"${value}" is not ${shape}`, input, `copy it from the console or "aws elbv2 describe-…": it looks like ${shape.replace(/^an? /, '')}`);
  if (!LISTENER_ARN.test(o.listenerArn)) throw bad('--alb-listener', o.listenerArn, 'an ALB listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<lb>/<id>/<id>)');
  if (!TARGET_GROUP_ARN.test(o.targetGroupArn)) throw bad('--target-group', o.targetGroupArn, 'a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)');
  if (o.ruleArn !== undefined && !RULE_ARN.test(o.ruleArn)) throw bad('--alb-rule', o.ruleArn, 'a listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<lb>/<id>/<id>/<id>)');
}

/** Route 53 record weights (REFERENCE: 0-255). */
export const ROUTE53_MAX_WEIGHT = 255;

const ZONE_ID = /^(?:\/hostedzone\/)?Z[A-Z0-9]{1,31}$/;
const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV', 'NS', 'PTR', 'CAA', 'SPF', 'NAPTR', 'DS', 'HTTPS', 'SVCB'] as const;

export interface Route53ShareOptions {
  hostedZoneId: string;
  /** The record's name, e.g. api.example.com (a trailing dot is optional). */
  recordName: string;
  recordType: string;
  /** The SetIdentifier of the weighted record to ramp (one per zone or data center). */
  setIdentifier: string;
  /** Pause between two GetChange calls while a change propagates, and how long it may take. */
  pollMs?: number;
  syncTimeoutMs?: number;
}

export function checkRoute53ShareOptions(o: Route53ShareOptions): void {
  if (!ZONE_ID.test(o.hostedZoneId)) throw new GamedayError('BAD_ZONE_ID', `"${o.hostedZoneId}" is not a Route 53 hosted zone id`, '--route53-zone', 'a hosted zone id looks like Z0123456789ABCDEFGHIJ (aws route53 list-hosted-zones)');
  if (!(RECORD_TYPES as readonly string[]).includes(o.recordType)) throw new GamedayError('BAD_RECORD_TYPE', `"${o.recordType}" is not a record type`, '--record-type', `one of ${RECORD_TYPES.join(', ')}`);
  if (!/^[A-Za-z0-9*_.-]+$/.test(o.recordName)) throw new GamedayError('BAD_RECORD_NAME', `"${o.recordName}" is not a DNS name`, '--record', 'the weighted record\'s name, e.g. api.example.com');
}

