import { join } from 'node:path';
import type { Host } from '../../topology/index.js';
import type { LabContext } from '../context.js';

export function haproxyPaths(lab: LabContext, host: Host) {
  const dir = lab.hostDir(host.name);
  return { dir, cfg: join(dir, 'haproxy.cfg'), socket: join(dir, 'haproxy.sock'), log: join(dir, 'haproxy.log') };
}

function servers(hosts: Host[], port: (h: Host) => number, check: string): string {
  return hosts.map((h) => `  server ${h.name} ${h.address}:${port(h)} ${check} weight 100`).join('\n');
}

/**
 * One lab proxy. Every pool uses roundrobin so that weights can be ramped,
 * retries with redispatch so a failed connect goes to another server, and
 * short check intervals so the lab reacts in seconds.
 * db_write: all db hosts, but the health agent passes only the writable primary.
 * db_read: all db hosts, but the agent passes only replicas that are caught up.
 */
export function haproxyConfig(lab: LabContext, proxy: Host): string {
  const p = haproxyPaths(lab, proxy);
  const db = lab.hostsOf('db');
  const apps = lab.hostsOf('app');
  // A MariaDB pool: TCP to every db host, but the health agent decides who passes.
  const dbPool = (name: string, port: number, agentPath: string) => `listen ${name}
  mode tcp
  bind ${proxy.address}:${port}
  balance roundrobin
  option httpchk GET ${agentPath}
  http-check expect status 200
  default-server on-marked-down shutdown-sessions
${servers(db, (h) => h.services.mysql, `check port ${db[0].services['db-health']}`)}
`;
  return `global
  stats socket ${p.socket} mode 600 level admin
  stats timeout 30s
  maxconn 4000

defaults
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout check 1s
  retries 3
  option redispatch 1
  default-server inter 1s fall 2 rise 2

${dbPool('db_write', proxy.services['mysql-write'], '/primary')}
${dbPool('db_read', proxy.services['mysql-read'], '/replica')}
listen web
  mode http
  bind ${proxy.address}:${proxy.services.http}
  balance roundrobin
  option httpchk GET /monitor/l7check
  http-check expect status 200
  retry-on all-retryable-errors
  # a POST whose answer was lost may have been applied: never replay it
  http-request disable-l7-retry if METH_POST
${servers(apps, (h) => h.services.http, 'check')}
`;
}
