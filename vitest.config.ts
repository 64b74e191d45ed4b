import { defineConfig } from 'vitest/config';

/**
 * Integration files that bring up a lab of their own (an octet of their own),
 * never the shared one, in two groups: scripts/integration-tests.sh runs group
 * A in one stream, and the shared lab's files then group B in the other, so two
 * labs at most run at once (CI, 2026-12-07: shared 337 s + B 116 s beside A
 * about 800 s). Moving redis-rebuild, app-redis-loss and reboot-cycle into B
 * as well evened the streams out but ran them beside the heaviest files of A,
 * and two of them failed on timing (an error window of 1,018 ms against 1,000).
 */
const ownLab = (names: string[]) => names.map((name) => `test/integration/${name}.test.ts`);
const OWN_LAB_FILES_A = ownLab([
  'lab/app-redis-loss', 'chaos/game-days', 'chaos/false-passes', 'runbooks/failover-db', 'drivers/faults-ssh', 'lab/layout',
  'lab/lifecycle', 'drivers/power-ssh', 'runbooks/reboot-cycle', 'drivers/redis-handoff', 'warmup/redis-rebuild',
]);
const OWN_LAB_FILES_B = ownLab(['warmup/disk-model', 'runbooks/reboot-cycle-ssh', 'chaos/rack-ssh']);

const integration = { fileParallelism: false, testTimeout: 90_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/unit/setup/loopbackOnly.ts'] } },
      {
        test: {
          name: 'integration-shared-lab',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...OWN_LAB_FILES_A, ...OWN_LAB_FILES_B],
          ...integration,
          // One real lab serves every file of this project.
          globalSetup: ['test/integration/globalSetup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      { test: { name: 'integration-own-labs-a', include: OWN_LAB_FILES_A, ...integration, sequence: { groupOrder: 1 } } },
      { test: { name: 'integration-own-labs-b', include: OWN_LAB_FILES_B, ...integration, sequence: { groupOrder: 1 } } },
    ],
  },
});
