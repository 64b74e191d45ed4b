import { describe, expect, it } from 'vitest';
import { createConnection } from 'mysql2/promise';

describe('unit tests never reach a fixture address', () => {
  it('a real driver pointed at a 10.x address fails at once, naming it, and sends nothing', async () => {
    const t0 = Date.now();
    await expect(createConnection({ host: '10.0.1.11', port: 3306, user: 'x', connectTimeout: 10_000 })).rejects.toThrow('unit tests never connect outside loopback: 10.0.1.11:3306');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
