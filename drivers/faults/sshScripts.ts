import { isIP } from 'node:net';
import { shellCommandLine, shellQuote } from '../power/shellQuote.js';

/**
 * The remote commands of the ssh fault driver, as the strings the host's
 * POSIX login shell receives. Pure functions: the unit tests assert them
 * word for word.
 *
 * What comes from gameday (unit names, paths, the mariadb argv, nft
 * scripts) is always single-quoted by shellQuote; the only words the remote
 * shell expands are its own variables: SSH_CONNECTION (set by sshd: the
 * controller's address and the port sshd answered on, as the host sees
 * them), checked against a strict character class before use, and the
 * loop variables.
 */

/** What each command is prefixed with to get root (e.g. ["sudo", "-n"]); empty when the ssh user is root. */
export type Privilege = readonly string[];

/** "sudo -n " quoted, or "" */
function as(privilege: Privilege): string {
  return privilege.length ? `${shellCommandLine(privilege)} ` : '';
}

/** A table name gameday owns, safe as a bare nft identifier (validated by the options schema). */
const TABLE = /^[a-z][a-z0-9_]*$/;

function assertTable(table: string): void {
  if (!TABLE.test(table)) throw new TypeError(`unsafe nft table name: ${JSON.stringify(table)}`);
}

/** Pipes a fixed nft script into `nft -f -`, all of it one quoted word. */
function nftRun(privilege: Privilege, script: string): string {
  return `printf '%s' ${shellQuote(script)} | ${as(privilege)}nft -f -`;
}

/** Deletes the table if it exists and fails only on real errors (no nft, no permission): "add, then delete" is one transaction. */
export function nftDropTableScript(table: string): string {
  assertTable(table);
  return `table inet ${table} {}\ndelete table inet ${table}\n`;
}

function unitList(units: readonly string[]): string {
  return units.map(shellQuote).join(' ');
}

/**
 * SIGKILL of every process of each unit (a crash: no clean shutdown), then
 * `systemctl stop` so that a `Restart=` policy does not bring it back before
 * the undo. The kill's own exit status is not counted (a unit with nothing
 * left to kill may fail it); the stop's is: a unit that does not exist or
 * cannot be stopped fails the fault.
 */
function killUnits(privilege: Privilege, units: readonly string[]): string {
  if (units.length === 0) return 'rc=0';
  const p = as(privilege);
  return `rc=0; for u in ${unitList(units)}; do ${p}systemctl kill -s KILL -- "$u"; ${p}systemctl stop -- "$u" || rc=5; done`;
}

/** SIGSTOP (or SIGCONT) to every process of each unit; a unit that cannot take it is left to the kill that follows. */
function signalUnits(privilege: Privilege, units: readonly string[], signal: 'STOP' | 'CONT'): string {
  if (units.length === 0) return ':';
  return `for u in ${unitList(units)}; do ${as(privilege)}systemctl kill -s ${signal} -- "$u"; done`;
}

function startUnits(privilege: Privilege, units: readonly string[]): string {
  if (units.length === 0) return 'rc=0';
  return `rc=0; for u in ${unitList(units)}; do ${as(privilege)}systemctl start -- "$u" || rc=5; done`;
}

/** Reads the controller address and sshd port from SSH_CONNECTION into $c, $p and the nft family into $f, or exits 3. */
const CONTROLLER = [
  'c=${SSH_CONNECTION%% *}; p=${SSH_CONNECTION##* }',
  'case $c in ::ffff:*.*) c=${c#::ffff:};; esac',
  `case $c in ''|*[!0-9A-Fa-f.:]*) echo "gameday: cannot tell the controller address from SSH_CONNECTION=$SSH_CONNECTION" >&2; exit 3;; esac`,
  `case $p in ''|*[!0-9]*) echo "gameday: cannot tell the ssh port from SSH_CONNECTION=$SSH_CONNECTION" >&2; exit 3;; esac`,
  'case $c in *:*) f=ip6;; *) f=ip;; esac',
].join('\n');

/** Addresses or networks (a.b.c.d, a.b.c.d/n, IPv6 likewise), validated here again: they go into an nft script. */
export function isAddressOrNetwork(text: string): boolean {
  const [addr, bits, ...rest] = text.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function byFamily(addresses: readonly string[]): { v4: string[]; v6: string[] } {
  for (const a of addresses) if (!isAddressOrNetwork(a)) throw new TypeError(`not an IP address or network: ${JSON.stringify(a)}`);
  const unique = [...new Set(addresses)];
  return { v4: unique.filter((a) => isIP(a.split('/')[0]!) === 4), v6: unique.filter((a) => isIP(a.split('/')[0]!) === 6) };
}

/**
 * Power loss of one host, short of cutting its power: the host's units are
 * frozen (SIGSTOP), a table of gameday's own drops every packet in and out, except the loopback and ssh between
 * this host's sshd and the controller (plus `allowSshFrom`), so that the
 * undo comes over the same path; then SIGKILL of the host's units. The
 * rules are not persistent: a reboot of the host clears them too.
 */
export function powerOffScript(o: { privilege: Privilege; table: string; units: readonly string[]; allowSshFrom: readonly string[] }): string {
  assertTable(o.table);
  const extra = byFamily(o.allowSshFrom);
  const allowIn = [
    ...(extra.v4.length ? [`    ip saddr { ${extra.v4.join(', ')} } tcp dport $p accept`] : []),
    ...(extra.v6.length ? [`    ip6 saddr { ${extra.v6.join(', ')} } tcp dport $p accept`] : []),
  ];
  const allowOut = [
    ...(extra.v4.length ? [`    ip daddr { ${extra.v4.join(', ')} } tcp sport $p accept`] : []),
    ...(extra.v6.length ? [`    ip6 daddr { ${extra.v6.join(', ')} } tcp sport $p accept`] : []),
  ];
  // Double-quoted lines carry $f $c $p (checked above); the rest is fixed text.
  const lines = [
    nftDropTableScript(o.table).trimEnd().split('\n'),
    `table inet ${o.table} {`,
    '  chain input {',
    '    type filter hook input priority -150; policy accept;',
    '    iif "lo" accept',
    '    $f saddr $c tcp dport $p accept',
    ...allowIn,
    '    drop',
    '  }',
    '  chain output {',
    '    type filter hook output priority -150; policy accept;',
    '    oif "lo" accept',
    '    $f daddr $c tcp sport $p accept',
    ...allowOut,
    '    drop',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority -150; policy drop;',
    '  }',
    '}',
  ].flat();
  const printf = `printf '%s\\n' ${lines.map((l) => (l.includes('$') ? `"${l.replaceAll('"', '\\"')}"` : shellQuote(l))).join(' ')}`;
  // Frozen first, then cut off, then killed, as a power cut stops the CPU with the network: a unit left running between the
  // cut and the kill commits writes no replica can receive (errant transactions on its return). A failed cut thaws them.
  return [
    CONTROLLER,
    signalUnits(o.privilege, o.units, 'STOP'),
    `${printf} | ${as(o.privilege)}nft -f - || { ${signalUnits(o.privilege, o.units, 'CONT')}; exit 4; }`,
    killUnits(o.privilege, o.units),
    'exit $rc',
  ].join('\n');
}

/**
 * The undo of a power loss: the table goes (if it is there), any unit an inject cut short left frozen is
 * let go (a start does nothing to a frozen unit), the units start cold.
 */
export function powerOnScript(o: { privilege: Privilege; table: string; units: readonly string[] }): string {
  return [`${nftRun(o.privilege, nftDropTableScript(o.table))} || exit 4`, signalUnits(o.privilege, o.units, 'CONT'), startUnits(o.privilege, o.units), 'exit $rc'].join('\n');
}

export function killUnitScript(privilege: Privilege, unit: string): string {
  return [killUnits(privilege, [unit]), 'exit $rc'].join('\n');
}

export function startUnitScript(privilege: Privilege, unit: string): string {
  return [startUnits(privilege, [unit]), 'exit $rc'].join('\n');
}

/** The nft script of one side of a partition: drop packets from and to the other side's addresses. */
export function partitionNftScript(table: string, peers: readonly string[]): string {
  assertTable(table);
  const { v4, v6 } = byFamily(peers);
  const sets = [
    ...(v4.length ? [`  set peers4 { type ipv4_addr; elements = { ${v4.join(', ')} } }`] : []),
    ...(v6.length ? [`  set peers6 { type ipv6_addr; elements = { ${v6.join(', ')} } }`] : []),
  ];
  const rule = (dir: 'saddr' | 'daddr') => [...(v4.length ? [`    ip ${dir} @peers4 drop`] : []), ...(v6.length ? [`    ip6 ${dir} @peers6 drop`] : [])];
  return [
    nftDropTableScript(table).trimEnd(),
    `table inet ${table} {`,
    ...sets,
    '  chain input {',
    '    type filter hook input priority -150; policy accept;',
    ...rule('saddr'),
    '  }',
    '  chain output {',
    '    type filter hook output priority -150; policy accept;',
    ...rule('daddr'),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** One side of a partition, on one host; replaces what an earlier try of the same fault left. */
export function partitionScript(privilege: Privilege, table: string, peers: readonly string[]): string {
  return nftRun(privilege, partitionNftScript(table, peers));
}

/** Any table of gameday's: gone (nothing to do when it is not there). */
export function dropTableCommand(privilege: Privilege, table: string): string {
  return nftRun(privilege, nftDropTableScript(table));
}

export function stopReplicationCommand(privilege: Privilege, mariadb: readonly string[], thread: 'sql' | 'io'): string {
  return shellCommandLine([...privilege, ...mariadb, '-e', thread === 'io' ? 'STOP SLAVE IO_THREAD' : 'STOP SLAVE SQL_THREAD']);
}

/** START SLAVE … again, only on a server that still replicates (a replica promoted meanwhile is left as it is). */
export function startReplicationScript(privilege: Privilege, mariadb: readonly string[], thread: 'sql' | 'io'): string {
  const db = shellCommandLine([...privilege, ...mariadb]);
  return [
    `s=$(${db} -N -B -e 'SHOW SLAVE STATUS') || exit 6`,
    `if [ -n "$s" ]; then ${db} -e ${shellQuote(thread === 'io' ? 'START SLAVE IO_THREAD' : 'START SLAVE SQL_THREAD')} || exit 6; echo started; else echo 'not a replica'; fi`,
  ].join('\n');
}

/** Redis down (SIGKILL, then stopped so that it stays down) and its files deleted; started again later, once every Redis is empty. */
export function redisWipeScript(privilege: Privilege, unit: string, paths: readonly string[]): string {
  if (paths.length === 0) throw new TypeError('no Redis data path to delete');
  return [killUnits(privilege, [unit]), '[ "$rc" = 0 ] || exit $rc', `${as(privilege)}rm -rf -- ${paths.map(shellQuote).join(' ')} || exit 7`].join('\n');
}
