import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { mysqlWarmup } from '../../../runbooks/mysqlWarmup.js';
import type { FleetEnv } from '../../../runbooks/steps/fleet.js';
import { GamedayError } from '../../../core/errors.js';
import { fakeMariadbFleet } from '../../fixtures/fakeMariadb.js';

const inv = labInventory(22);
const base = fakeMariadbFleet(inv, { 'db-1': { readOnly: false }, 'db-2': { readOnly: true, follows: 'db-1' }, 'db-3': { readOnly: true, follows: 'db-1' } });

async function peerError(fleet: FleetEnv): Promise<GamedayError> {
  const params = mysqlWarmup.params.parse({ host: 'db-2' });
  return mysqlWarmup.resolve({ params, inventory: inv, env: { fleet } } as never).then(
    () => { throw new Error('resolved'); },
    (e: GamedayError) => e,
  );
}

describe('warmup mysql, when no peer can be asked', () => {
  it('names a missing login as such (before: NO_WARM_PEER, "no other db host answers")', async () => {
    const err = await peerError({
      ...base,
      mysql: async () => {
        throw new GamedayError('SECRET_MISSING', 'environment variable GAMEDAY_DB_PASSWORD is not set', 'clusters.main.login', 'export GAMEDAY_DB_PASSWORD=…');
      },
    });
    expect(err.code).toBe('SECRET_MISSING');
    expect(err.message).toContain('GAMEDAY_DB_PASSWORD');
  });

  it('says what each peer answered when none answers', async () => {
    const err = await peerError({ ...base, mysql: async (host: string) => { throw new Error(`connect ECONNREFUSED (${host})`); } });
    expect(err.code).toBe('NO_WARM_PEER');
    expect(err.message).toContain('db-1: connect ECONNREFUSED (db-1); db-3: connect ECONNREFUSED (db-3)');
  });
});
