import { defineConfig } from 'vitest/config';

/**
 * Integration files that bring up a lab of their own (an octet of their own),
 * never the shared one: they run one after another beside the files of the
 * shared lab (which run one after another too), so two labs at most run at once.
 */
const OWN_LAB_FILES = [
  'lab/app-redis-loss',
  'chaos/game-days',
  'chaos/false-passes',
  'runbooks/failover-db',
  'drivers/faults-ssh',
  'lab/layout',
  'lab/lifecycle',
  'drivers/power-ssh',
  'runbooks/reboot-cycle',
  'drivers/redis-handoff',
  'warmup/redis-rebuild',
].map((name) => `test/integration/${name}.test.ts`);

const integration = { fileParallelism: false, testTimeout: 90_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/unit/setup/loopbackOnly.ts'] } },
      {
        test: {
          name: 'integration-shared-lab',
          include: ['test/integration/**/*.test.ts'],
          exclude: OWN_LAB_FILES,
          ...integration,
          // One real lab serves every file of this project.
          globalSetup: ['test/integration/globalSetup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'integration-own-labs',
          include: OWN_LAB_FILES,
          ...integration,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
