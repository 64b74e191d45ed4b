import { join } from 'node:path';
import type { Host } from '../../topology/index.js';
import type { LabContext } from '../context.js';
import { SENTINEL_MASTER_NAME } from '../layout.js';

export function redisPaths(lab: LabContext, host: Host) {
  const dir = lab.hostDir(host.name);
  return { dir, conf: join(dir, host.tier === 'sentinel' ? 'sentinel.conf' : 'redis.conf'), log: join(dir, `${host.tier}.log`) };
}

/** A config line that needs a secret, left out for a lab made before the secret existed. The config file is 0600. */
const auth = (line: string, secret: string | undefined) => (secret ? line : '');

/** The process title keeps the config path, so the lab can tell its own processes by PID and path. */
const TITLE = 'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"';

/**
 * A notification store as production runs one: AOF every second plus RDB
 * snapshots (both lose a little on power loss), truncated AOF loaded silently.
 */
export function redisConfig(lab: LabContext, host: Host, primary: Host | undefined): string {
  const p = redisPaths(lab, host);
  return `bind ${host.address}
port ${host.services.redis}
# Connect from and announce the host's own address. Without these a replica
# connects from 127.0.0.1, its primary reports it as 127.0.0.1:6379, and
# Sentinel takes whatever listens there (another Redis!) for a lab replica.
bind-source-addr ${host.address}
replica-announce-ip ${host.address}
protected-mode no
dir ${p.dir}
logfile ${p.log}
${TITLE}
${auth(`requirepass ${lab.state.secrets.redisPassword}`, lab.state.secrets.redisPassword)}
${auth(`masterauth ${lab.state.secrets.redisPassword}`, lab.state.secrets.redisPassword)}
appendonly yes
appendfsync everysec
aof-load-truncated yes
save 3600 1 300 100 60 10000
dbfilename dump.rdb
replica-read-only yes
${primary ? `replicaof ${primary.address} ${primary.services.redis}` : ''}
`;
}

/** Sentinel monitoring the notification store; it rewrites this file as it learns. */
export function sentinelConfig(lab: LabContext, host: Host, primary: Host): string {
  const p = redisPaths(lab, host);
  return `bind ${host.address}
port ${host.services.sentinel}
protected-mode no
dir ${p.dir}
logfile ${p.log}
${TITLE}
bind-source-addr ${host.address}
sentinel resolve-hostnames no
sentinel announce-ip ${host.address}
sentinel monitor ${SENTINEL_MASTER_NAME} ${primary.address} ${primary.services.redis} 2
# Faster than the 30 s default so a lab game day sees the failover in seconds.
${auth(`sentinel auth-pass ${SENTINEL_MASTER_NAME} ${lab.state.secrets.redisPassword}`, lab.state.secrets.redisPassword)}
${auth(`requirepass ${lab.state.secrets.sentinelPassword}`, lab.state.secrets.sentinelPassword)}
${auth(`sentinel sentinel-pass ${lab.state.secrets.sentinelPassword}`, lab.state.secrets.sentinelPassword)}
sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 5000
sentinel failover-timeout ${SENTINEL_MASTER_NAME} 60000
sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1
`;
}
