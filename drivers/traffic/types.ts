/**
 * A share of traffic given by a weight outside HAProxy: an ALB target group
 * in a weighted forward action, a Route 53 weighted record. A zone or a data
 * center is ramped back through one of these the way a server is ramped
 * through HAProxy.
 */
export interface WeightedShare {
  /** What is ramped, for notes and errors, e.g. "target group web-az-a of listener app/web/1f2e". */
  readonly label: string;
  /** The highest weight the system accepts (ALB 999, Route 53 255). */
  readonly maxWeight: number;
  /** Its weight and the weights of the shares it splits traffic with. */
  weights(): Promise<ShareWeights>;
  /** Sets its weight and returns once the change is in effect (Route 53: INSYNC). */
  setWeight(weight: number): Promise<void>;
  /** What is known of its health since `since`; judged by warmup/trafficGates.ts. */
  health(since: Date): Promise<ShareHealth>;
}

export interface ShareWeights {
  own: number;
  peers: Array<{ name: string; weight: number }>;
}

/** Request counters of one share over a window (ALB target groups, from CloudWatch). */
export interface ShareTraffic {
  name: string;
  requests: number;
  errors: number;
  /** Mean response time in ms, when it answered at all. */
  responseMs?: number;
}

export interface ShareHealth {
  /** Its targets by health state (ALB DescribeTargetHealth), when the share has targets. */
  targets?: { healthy: number; total: number; unhealthy: string[] };
  /** Its traffic, and that of its peers with weight, over the window. */
  traffic?: { own: ShareTraffic; peers: ShareTraffic[] };
  /** Its Route 53 health check, when the record has one: checkers that see it healthy. */
  healthCheck?: { id: string; healthy: number; checkers: number };
}
