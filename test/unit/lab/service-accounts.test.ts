import { describe, expect, it } from 'vitest';
import { runsWhen } from '../../fixtures/requirements.js';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseServiceAccounts, firstBlockingFolder, lookupAccount } from '../../../lab/serviceAccounts.js';

const nobody = { name: 'nobody', uid: 65534, gid: 65534 };

describe('lab services run as their packages\' accounts where they can reach the lab', () => {
  it('reads an account from a passwd file, and knows when there is none', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gameday-passwd-')), 'passwd');
    writeFileSync(file, 'root:x:0:0::/root:/bin/sh\nmysql:x:107:110:MySQL Server,,,:/nonexistent:/bin/false\n');
    expect(lookupAccount('mysql', file)).toEqual({ name: 'mysql', uid: 107, gid: 110 });
    expect(lookupAccount('redis', file)).toBeUndefined();
    expect(lookupAccount('mysql', '/nonexistent/passwd')).toBeUndefined();
  });

  it('names the first folder an account cannot pass through', () => {
    const base = mkdtempSync(join(tmpdir(), 'gameday-reach-'));
    const deep = join(base, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    chmodSync(base, 0o700);
    expect(firstBlockingFolder(join(deep, 'lab'), nobody)).toBe(base);
    chmodSync(base, 0o711);
    chmodSync(join(base, 'a'), 0o750);
    expect(firstBlockingFolder(join(deep, 'lab'), nobody)).toBe(join(base, 'a'));
    chmodSync(join(base, 'a'), 0o755);
    expect(firstBlockingFolder(join(deep, 'lab'), nobody)).toBeUndefined();
  });

  it.runIf(runsWhen(process.getuid?.() === 0))('falls back to root with a reason and a fix, per service', () => {
    const base = mkdtempSync(join(tmpdir(), 'gameday-choose-'));
    chmodSync(base, 0o700);
    const lookup = (name: string) => (name === 'haproxy' ? undefined : { ...nobody, name });
    const closed = chooseServiceAccounts(join(base, 'lab'), lookup);
    expect(closed.accounts).toEqual({});
    expect(closed.warnings).toEqual([
      `mariadb runs as root: user mysql cannot enter ${base} (chmod o+x ${base}, or put the lab under a folder others may enter, with --dir)`,
      `redis runs as root: user redis cannot enter ${base} (chmod o+x ${base}, or put the lab under a folder others may enter, with --dir)`,
      'haproxy runs as root: there is no user haproxy (apt-get install haproxy creates it)',
    ]);
    chmodSync(base, 0o711);
    const open = chooseServiceAccounts(join(base, 'lab'), lookup);
    expect(Object.keys(open.accounts)).toEqual(['mariadb', 'redis']);
    expect(open.warnings).toHaveLength(1);
  });
});
