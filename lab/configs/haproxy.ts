import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../../topology/index.js';
import type { LabContext } from '../context.js';

export function haproxyPaths(lab: LabContext, host: Host) {
  const dir = lab.hostDir(host.name);
  return {
    dir,
    cfg: join(dir, 'haproxy.cfg'),
    socket: join(dir, 'haproxy.sock'),
    log: join(dir, 'haproxy.log'),
    /** The server states HAProxy loads at start (server-state-file): every db server DOWN. */
    startState: join(dir, 'start-state'),
  };
}

function servers(hosts: Host[], port: (h: Host) => number, check: string): string {
  return hosts.map((h) => `  server ${h.name} ${h.address}:${port(h)} ${check} weight 100`).join('\n');
}

/**
 * Check timings, per pool. A check's connect gives up after
 * min(timeout connect, inter); a DOWN server is checked every downinter, a
 * server on its way up or down every fastinter.
 * - db_write and web: a dark server fails two checks, 500 ms + 2 x 250 ms
 *   timeouts + 250 ms apart: out within about 1.25 s; back after 3 good
 *   checks (flapping would move writes back and forth).
 * - db_read: checked every 250 ms and out after two failed checks, so a
 *   replica whose lag passes the limit stops serving reads within about
 *   0.5 s (the agent answers at once), a dark one within about 1 s. Not
 *   one failed check: a single slow answer on a busy host would empty the
 *   pool if it hit both replicas at once.
 */
const CHECKS = {
  db_write: 'inter 500ms fastinter 250ms downinter 1s fall 2 rise 3',
  db_read: 'inter 250ms fastinter 250ms downinter 500ms fall 2 rise 3',
  web: 'inter 500ms fastinter 250ms downinter 1s fall 2 rise 3',
} as const;

/** `show servers state` format, version 1: the columns HAProxy expects in a state file. */
const STATE_COLUMNS =
  'be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';

/**
 * A state file that starts every db server DOWN, its last check failed
 * (op state 0, check status L7STS, result failed, health 0), so it must pass
 * `rise` checks before it takes a connection. HAProxy 2.6 has no
 * `init-state` (3.1 added it) and otherwise counts every server UP until
 * its first check: a write could land on a read-only replica in that
 * first second. Backends match by name; the ids are informational.
 */
export function haproxyStartState(lab: LabContext): string {
  const db = lab.hostsOf('db');
  const lines = ['db_write', 'db_read'].flatMap((backend, b) =>
    db.map((h, i) =>
      [b + 2, backend, i + 1, h.name, h.address, 0, 0, 100, 100, 0, 17, 2, 0, 6, 0, 0, 0, '-', h.services.mysql, '-', 0, h.services['db-health'], '-', '-', 0].join(' '),
    ),
  );
  return ['1', `# ${STATE_COLUMNS}`, ...lines, ''].join('\n');
}

/**
 * One lab proxy. Every pool uses roundrobin so that weights can be ramped,
 * retries with redispatch so a failed connect goes to another server, and
 * short check intervals so that a dark server leaves every pool in about a
 * second. db servers start DOWN (see haproxyStartState); app servers start
 * UP, so a restarted proxy serves at once (a dead app costs a redispatch).
 * db_write: all db hosts, but the health agent passes only the writable primary.
 * db_read: all db hosts, but the agent passes only replicas that are caught up.
 * Writes the start-state file next to the config: HAProxy reads it at start.
 */
export function haproxyConfig(lab: LabContext, proxy: Host): string {
  const p = haproxyPaths(lab, proxy);
  writeFileSync(p.startState, haproxyStartState(lab));
  const db = lab.hostsOf('db');
  const apps = lab.hostsOf('app');
  // A MariaDB pool: TCP to every db host, but the health agent decides who passes.
  // A server marked down takes its sessions with it: a pooled connection would otherwise go on reading from it.
  const dbPool = (name: keyof typeof CHECKS, port: number, agentPath: string) => `listen ${name}
  mode tcp
  bind ${proxy.address}:${port}
  balance roundrobin
  option httpchk GET ${agentPath}
  http-check expect status 200
  default-server ${CHECKS[name]} on-marked-down shutdown-sessions
${servers(db, (h) => h.services.mysql, `check port ${db[0].services['db-health']}`)}
`;
  return `global
  stats socket ${p.socket} mode 660 level admin
  stats timeout 30s
  maxconn 4000
  server-state-file ${p.startState}

defaults
  # Connections to servers and health checks leave from the proxy's own lab address (never 127.0.0.1),
  # so that they are what a partition between lab addresses cuts.
  source ${proxy.address}
  # On loopback (and in one data center) a connect takes well under a millisecond: 250 ms is a dark server.
  timeout connect 250ms
  timeout client 60s
  timeout server 60s
  # The health agent answers within 300 ms or reports itself failed.
  timeout check 500ms
  retries 3
  option redispatch 1
  load-server-state-from-file global

${dbPool('db_write', proxy.services['mysql-write'], '/primary')}
${dbPool('db_read', proxy.services['mysql-read'], '/replica')}
listen web
  mode http
  bind ${proxy.address}:${proxy.services.http}
  balance roundrobin
  timeout server 10s
  option httpchk GET /monitor/l7check
  http-check expect status 200
  retry-on all-retryable-errors
  # a POST whose answer was lost may have been applied: never replay it
  http-request disable-l7-retry if METH_POST
  # Failed requests (timeouts, 5xx) speed up the checks of their server.
  default-server ${CHECKS.web} observe layer7 error-limit 5 on-error fastinter
${servers(apps, (h) => h.services.http, 'check')}
`;
}
