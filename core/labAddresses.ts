/**
 * The lab's address plan: 198.18.<octet>.<host>, one /24 per lab, inside
 * 198.18.0.0/15, the block set aside for benchmarking networks (RFC 2544)
 * and routed nowhere. Here, not in lab/, because the load generator's safety
 * check needs it too.
 */
export function labSubnetPrefix(octet: number): string {
  return `198.18.${octet}`;
}

/** Every lab's addresses lie in 198.18.0.0/16. */
export function isLabAddress(address: string): boolean {
  return /^198\.18\.\d{1,3}\.\d{1,3}$/.test(address);
}
