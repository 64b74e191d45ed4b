import type { Inventory } from './schema.js';

/**
 * The web frontends of an inventory: the HTTP port of every proxy that
 * serves a pool of application hosts (hosts with an `http` service that are
 * not proxies themselves). Load meant for the application goes through them.
 */
export function webFrontends(inv: Inventory): Array<{ address: string; port: number }> {
  const appHosts = new Set(inv.hosts.filter((h) => 'http' in h.services && !inv.pools.some((p) => p.proxies.includes(h.name))).map((h) => h.name));
  const proxies = new Set(inv.pools.filter((p) => p.servers.some((s) => appHosts.has(s))).flatMap((p) => p.proxies));
  return inv.hosts.filter((h) => proxies.has(h.name) && h.services.http).map((h) => ({ address: h.address, port: h.services.http }));
}
