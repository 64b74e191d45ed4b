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
  /**
   * Whether the host has power now, as the power system itself says (the
   * lab's state, EC2's instance state): 'off' only when that is known, never
   * inferred from a host that does not answer. Absent where the driver has
   * no such view (ssh: a host that does not answer may be running).
   */
  powerState?(host: Host): Promise<'on' | 'off'>;
  /**
   * Cuts the host's power (a hard stop, not a shutdown): the fence of last
   * resort before a failover (STONITH), resolved once powerState says 'off'.
   */
  powerOff?(host: Host): Promise<void>;
}
