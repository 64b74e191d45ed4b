import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { showServers } from '../../../drivers/haproxy/runtime.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { sentinelStrays } from '../../../lab/sentinelScope.js';
import { sharedLab } from '../helpers.js';

describe('Sentinel and HAProxy in the lab', () => {
  const lab = sharedLab();

  it('has every Sentinel knowing the Redis primary, its replica and the other Sentinels, and nothing outside the lab', async () => {
    const [primary, replica] = [lab.host('redis-1'), lab.host('redis-2')];
    for (const s of lab.hostsOf('sentinel')) {
      const r = new Redis({ ...lab.redisEndpoint(s), maxRetriesPerRequest: 1 });
      try {
        expect(await r.call('SENTINEL', 'get-master-addr-by-name', 'notifications')).toEqual([primary.address, '6379']);
        const replicas = (await r.call('SENTINEL', 'replicas', 'notifications')) as string[][];
        expect(replicas.map((f) => f[f.indexOf('ip') + 1])).toEqual([replica.address]);
        const sentinels = (await r.call('SENTINEL', 'sentinels', 'notifications')) as string[][];
        expect(sentinels).toHaveLength(2);
        const [, quorumOk] = [null, await r.call('SENTINEL', 'ckquorum', 'notifications')];
        expect(String(quorumOk)).toMatch(/^OK/);
      } finally {
        r.disconnect();
      }
    }
    expect(await sentinelStrays(lab)).toEqual([]);
  });

  it('sends reads through the read pool to replicas only, and writes to the primary only', async () => {
    for (const proxy of lab.hostsOf('proxy')) {
      const seen = new Map<string, number>();
      for (const [port, label] of [[proxy.services['mysql-read'], 'read'], [proxy.services['mysql-write'], 'write']] as const) {
        for (let i = 0; i < 12; i++) {
          const conn = await createConnection({ host: proxy.address, port, user: 'app', password: lab.state.secrets.appDbPassword });
          const [[row]] = (await conn.query('SELECT @@server_id AS id')) as any;
          await conn.end();
          const key = `${label}:${row.id}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      }
      // server ids: db-1 = 1 (primary), db-2 = 2, db-3 = 3; roundrobin spreads reads over both replicas.
      expect([...seen.keys()].sort(), proxy.name).toEqual(['read:2', 'read:3', 'write:1']);
    }
  });

  it('exposes an admin runtime API with weights that can change (roundrobin pools)', async () => {
    const servers = await showServers(haproxyPaths(lab, lab.host('proxy-1')).socket);
    const read = servers.filter((s) => s.backend === 'db_read');
    expect(read.map((s) => [s.server, s.status])).toEqual([['db-1', 'DOWN'], ['db-2', 'UP'], ['db-3', 'UP']]);
    expect(servers.filter((s) => s.backend === 'web').every((s) => s.status === 'UP' && s.weight === 100)).toBe(true);
  });
});
