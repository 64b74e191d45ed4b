import type { FleetEnv } from '../runbooks/fleet.js';
import { requireLab } from './context.js';
import { rootConnection } from './bootstrap.js';
import { haproxyPaths } from './configs/haproxy.js';
import { SENTINEL_MASTER_NAME } from './layout.js';
import { labPowerDriver } from './powerDriver.js';

/** The fleet drivers for the lab in `labDir`: its power, HAProxy sockets, MariaDB sockets and secrets. */
export function labFleetEnv(labDir: string): FleetEnv {
  const lab = requireLab(labDir);
  const power = labPowerDriver(labDir);
  return {
    power: () => power,
    haproxyEndpoint: (proxy) => haproxyPaths(lab, proxy).socket,
    mysql: (host) => rootConnection(lab, lab.host(host)),
    replication: { user: 'repl', password: lab.state.secrets.replPassword },
    sentinelMasterName: SENTINEL_MASTER_NAME,
    l7checkToken: lab.state.secrets.l7checkToken,
    redisPassword: lab.state.secrets.redisPassword,
    sentinelPassword: lab.state.secrets.sentinelPassword,
  };
}
