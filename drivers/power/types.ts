import type { Host } from '../../topology/index.js';

/**
 * How gameday reads a host's uptime and reboots it, whatever the host is:
 * a lab host (processes on a loopback address), a server reached over SSH,
 * or an EC2 instance. A reboot is clean (services stop properly), unlike a
 * power loss.
 */
export interface PowerDriver {
  readonly kind: 'lab' | 'ssh' | 'aws' | 'aws-asg' | 'elasticache';
  /** Seconds since the host (last) booted. */
  uptimeSeconds(host: Host): Promise<number>;
  /** Asks the host to reboot; resolves once the reboot has been requested. */
  reboot(host: Host): Promise<void>;
  /**
   * Resolves once the host is back from a reboot requested at `since`
   * (booted after it and reachable), or throws after `timeoutMs`.
   */
  waitUntilBack(host: Host, since: Date, timeoutMs: number): Promise<void>;
  /**
   * Where the host is reached now, when its inventory address is not an
   * address (an Auto Scaling slot): readiness checks connect there.
   */
  reachableAddress?(host: Host): Promise<string>;
}
