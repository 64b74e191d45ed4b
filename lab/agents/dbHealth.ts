/**
 * The db host's health agent (as clustercheck is for Galera): HAProxy's pools
 * ask it over HTTP whether this MariaDB may take writes (/primary) or reads
 * (/replica: both replication threads running and heartbeat lag under a limit).
 * Usage: dbHealth.ts <address> <port> <mariadb socket> <max lag ms>
 */
import { createServer } from 'node:http';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';

const [address, portText, socketPath, maxLagText] = process.argv.slice(2);
const port = Number(portText);
const maxLagMs = Number(maxLagText);

let conn: Connection | undefined;

async function query<T extends RowDataPacket>(sql: string): Promise<T[]> {
  conn ??= await createConnection({ socketPath, user: 'root', password: process.env.GAMEDAY_DB_ROOT_PASSWORD, connectTimeout: 1000 });
  try {
    const [rows] = await conn.query<T[]>({ sql, timeout: 1000 });
    return rows;
  } catch (err) {
    conn.destroy();
    conn = undefined;
    throw err;
  }
}

interface Health {
  primary: boolean;
  replica: boolean;
  reason: string;
  lagMs: number | null;
}

async function health(): Promise<Health> {
  const [ro] = await query<RowDataPacket>('SELECT @@read_only AS ro');
  const slave = await query<RowDataPacket>('SHOW SLAVE STATUS');
  if (slave.length === 0) {
    return ro.ro ? { primary: false, replica: false, reason: 'read-only and not replicating', lagMs: null }
      : { primary: true, replica: false, reason: 'writable primary', lagMs: 0 };
  }
  const s = slave[0];
  if (s.Slave_IO_Running !== 'Yes' || s.Slave_SQL_Running !== 'Yes') {
    return { primary: false, replica: false, reason: `replication threads IO=${s.Slave_IO_Running} SQL=${s.Slave_SQL_Running}`, lagMs: null };
  }
  if (s.Seconds_Behind_Master === null) return { primary: false, replica: false, reason: 'Seconds_Behind_Master is NULL', lagMs: null };
  const [hb] = await query<RowDataPacket>('SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) AS lag_us FROM gameday.heartbeat WHERE id = 1');
  if (!hb) return { primary: false, replica: false, reason: 'no heartbeat row yet', lagMs: null };
  const lagMs = Math.max(0, Number(hb.lag_us) / 1000);
  if (lagMs > maxLagMs) return { primary: false, replica: false, reason: `lag ${Math.round(lagMs)} ms over ${maxLagMs} ms`, lagMs };
  return { primary: false, replica: true, reason: `replica, lag ${Math.round(lagMs)} ms`, lagMs };
}

createServer((req, res) => {
  health()
    .then((h) => {
      const ok = req.url === '/primary' ? h.primary : req.url === '/replica' ? h.replica : true;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    })
    .catch((err: Error) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ primary: false, replica: false, reason: `mariadb unreachable: ${err.message}`, lagMs: null }));
    });
}).listen(port, address);
