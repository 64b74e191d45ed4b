/**
 * Proxies this instance suspects of having gone dark (a query through them
 * stalled), shared by the app's write and read pools: they run through the
 * same proxy hosts, and a host that lost power is lost to both. A suspicion
 * lapses after `holdMs`, or at the next query through the proxy that answers.
 */
export class DarkProxies {
  private readonly suspectedAt = new Map<string, number>();

  constructor(private readonly holdMs = 2000) {}

  suspect(host: string): void {
    this.suspectedAt.set(host, Date.now());
  }

  answered(host: string): void {
    this.suspectedAt.delete(host);
  }

  isSuspect(host: string): boolean {
    const at = this.suspectedAt.get(host);
    return at !== undefined && Date.now() - at < this.holdMs;
  }
}
