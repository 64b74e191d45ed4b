import { createConnection } from 'mysql2/promise';
import type { FleetEnv } from '../../runbooks/steps/fleet.js';
import { chown, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Host } from '../../topology/index.js';
import type { PoolListWriter } from '../../drivers/mysql/bufferPool.js';
import { requireLab, type LabContext } from '../../lab/context.js';
import { mariadbPaths } from '../../lab/configs/mariadb.js';
import { rootConnection } from '../../lab/bootstrap.js';
import { haproxyPaths } from '../../lab/configs/haproxy.js';
import { SENTINEL_MASTER_NAME } from '../../lab/layout.js';
import { labPowerDriver } from '../../lab/powerDriver.js';
import { labSshPowerOptions } from '../../lab/sshFiles.js';
import { SshPowerDriver } from '../../drivers/power/ssh.js';

/** The loader's list in the host's datadir, written whole (a temporary file renamed) and owned by the account mariadbd runs as. */
function labPoolListWriter(lab: LabContext, host: Host): PoolListWriter {
  return async (text) => {
    const file = join(mariadbPaths(lab, host).datadir, 'ib_buffer_pool');
    const tmp = `${file}.gameday-tmp`;
    await writeFile(tmp, text, { mode: 0o640 });
    const account = lab.state.serviceAccounts.mariadb;
    if (account) await chown(tmp, account.uid, account.gid);
    await rename(tmp, file);
  };
}

/** The fleet drivers for the lab in `labDir`: its power, HAProxy sockets, MariaDB sockets and secrets. */
export function labFleetEnv(labDir: string): FleetEnv {
  const lab = requireLab(labDir);
  // A --power ssh lab is powered as a fleet is: gameday's ssh driver, against each host's sshd (lab/sshd.ts).
  const power = lab.state.power === 'ssh' ? new SshPowerDriver(labSshPowerOptions(labDir)) : labPowerDriver(labDir);
  const { probePassword } = lab.state.secrets;
  return {
    power: () => power,
    haproxyEndpoint: (proxy) => haproxyPaths(lab, proxy).socket,
    // The fleet connector's 3 s (fleetFromEnv.ts): a frozen server costs a switchover that long, not mysql2's default 10 s.
    mysql: (host) => rootConnection(lab, lab.host(host), 3000),
    replication: { user: 'repl', password: lab.state.secrets.replPassword },
    sentinelMasterName: SENTINEL_MASTER_NAME,
    bufferPoolList: (host) => labPoolListWriter(lab, host),
    l7checkToken: lab.state.secrets.l7checkToken,
    redisPassword: lab.state.secrets.redisPassword,
    sentinelPassword: lab.state.secrets.sentinelPassword,
    ...(probePassword ? { mysqlThroughProxy: (proxy: Host, service: 'mysql-write' | 'mysql-read') => createConnection({ host: proxy.address, port: proxy.services[service], user: 'gameday_probe', password: probePassword, database: 'gameday', connectTimeout: 3000 }) } : {}),
  };
}
