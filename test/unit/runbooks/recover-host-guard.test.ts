import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { recoverHost } from '../../../runbooks/recoverHost.js';
import type { FleetEnv } from '../../../runbooks/steps/fleet.js';
import { GamedayError } from '../../../core/errors.js';
import { fakeMariadbFleet } from '../../fixtures/fakeMariadb.js';

const inv = labInventory(22);
const answering = fakeMariadbFleet(inv, { 'db-1': { readOnly: false }, 'db-2': { readOnly: true, follows: 'db-1' }, 'db-3': { readOnly: true, follows: 'db-1' } });
const dark = fakeMariadbFleet(inv, { 'db-1': { readOnly: false }, 'db-2': 'dark', 'db-3': { readOnly: true, follows: 'db-1' } });
const noLogin: FleetEnv = {
  ...answering,
  mysql: async () => {
    throw new GamedayError('SECRET_MISSING', 'environment variable GAMEDAY_DB_PASSWORD is not set', 'clusters.main.login');
  },
};

async function resolve(fleet: FleetEnv, raw: Record<string, unknown>, dryRun = false) {
  const params = recoverHost.params.parse({ host: 'db-2', warmup: 'off', ...raw });
  const plan = await recoverHost.resolve({ params, inventory: inv, env: { fleet }, dryRun } as never);
  return { plan, steps: recoverHost.steps(plan, params) };
}

describe('recover-host\'s "is it the writable primary?" guard, when it cannot be evaluated', () => {
  it('refuses a run, naming the cause, when the login is missing or the host does not answer (before: the guard was skipped in silence)', async () => {
    for (const [fleet, cause] of [[noLogin, 'SECRET_MISSING: environment variable GAMEDAY_DB_PASSWORD is not set'], [dark, 'db-2']] as const) {
      const err = await resolve(fleet, {}).catch((e: GamedayError) => e);
      expect(err).toBeInstanceOf(GamedayError);
      expect((err as GamedayError).code).toBe('GUARD_UNKNOWN');
      expect((err as GamedayError).message).toContain(`cannot tell whether db-2 is the writable primary (`);
      expect((err as GamedayError).message).toContain(cause);
      expect((err as GamedayError).hint).toContain('--accept-unknown writable-primary');
    }
  });

  it('shows UNKNOWN in the plan, on the fence it would do, with the cause and that it would stop every write', async () => {
    const { steps } = await resolve(noLogin, {}, true);
    const fence = steps.find((s) => s.id === 'db-2/fence');
    expect(fence?.kind).toBe('action');
    const consequence = fence?.kind === 'action' ? fence.describe({} as never).consequence : '';
    expect(consequence).toContain('UNKNOWN whether db-2 is the writable primary (SECRET_MISSING');
    expect(consequence).toContain('this stops every write');
  });

  it('goes on when the operator accepts it, and plans as before when the guard was evaluated', async () => {
    const accepted = await resolve(dark, { acceptUnknown: 'writable-primary' });
    expect(accepted.plan.primaryUnknown).toBeTruthy();
    const evaluated = await resolve(answering, {}, true);
    expect(evaluated.plan.primaryUnknown).toBeUndefined();
    const fence = evaluated.steps[0];
    expect(fence.kind === 'action' && fence.describe({} as never).consequence).toBe('db-2 takes no traffic until it is ready');
    expect(() => recoverHost.params.parse({ host: 'db-2', acceptUnknown: 'everything' })).toThrow();
  });
});
