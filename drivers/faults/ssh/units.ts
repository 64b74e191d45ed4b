import type { Host, Inventory } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { DEFAULT_UNITS, type SshFaultOptions } from './options.js';

/** Which systemd unit runs each inventory service, as the options and the inventory's pools say. */
export interface Units {
  /** The unit behind a service on a host: a unit, "" (no process of its own), or undefined (unknown). */
  unitOf(host: Host, service: string): string | undefined;
  /** Every unit of a host, for a power-off (a service mapped to "" is skipped); an unknown one is a GamedayError. */
  unitsOfHost(host: Host): string[];
  /** The one unit of a service, to kill or start; a service the host does not run, or without a unit, is a GamedayError. */
  serviceUnit(host: Host, service: string): string;
}

/** The error for services whose unit gameday does not know. */
export function noUnit(host: Host, services: string[]): GamedayError {
  return new GamedayError(
    'FAULT_NO_UNIT',
    `gameday does not know the systemd unit of ${services.map((s) => `"${s}"`).join(', ')} on ${host.name}`,
    `host ${host.name}: services`,
    services.includes('http')
      ? 'give the app\'s unit (appUnit, GAMEDAY_FAULT_APP_UNIT), or map services to units (units, GAMEDAY_FAULT_UNITS="service=unit,…"; "service=" for none)'
      : 'map services to units (units option, GAMEDAY_FAULT_UNITS="service=unit,…"); "service=" says it has no process of its own',
  );
}

export function unitsFor(inventory: Inventory, o: SshFaultOptions): Units {
  // A pool's proxy runs every service of its host behind the proxy's own unit.
  const proxies = new Set(inventory.pools.flatMap((p) => p.proxies));

  function unitOf(host: Host, service: string): string | undefined {
    if (service in o.units) return o.units[service];
    if (proxies.has(host.name)) return o.proxyUnit;
    if (service === 'http') return o.appUnit;
    return DEFAULT_UNITS[service];
  }

  return {
    unitOf,
    unitsOfHost(host) {
      const services = Object.keys(host.services);
      const unknown = services.filter((s) => unitOf(host, s) === undefined);
      if (unknown.length) throw noUnit(host, unknown);
      return [...new Set(services.map((s) => unitOf(host, s)!).filter((u) => u !== ''))];
    },
    serviceUnit(host, service) {
      if (!(service in host.services)) {
        throw new GamedayError('FAULT_NO_SERVICE', `${host.name} runs no service "${service}" (it runs ${Object.keys(host.services).join(', ') || 'none'})`, `host ${host.name}: services`);
      }
      const unit = unitOf(host, service);
      if (unit === undefined) throw noUnit(host, [service]);
      if (unit === '') throw new GamedayError('FAULT_NO_UNIT', `"${service}" on ${host.name} is mapped to no unit of its own: there is no process to kill`, `host ${host.name}: services`, 'kill the service whose unit serves it, or map it to a unit');
      return unit;
    },
  };
}
