import { defineConfig } from 'vitest/config';
import { HAVE_PG18 } from './test/helpers/pg18.js';

// Unit and integration tests against the local PostgreSQL (15 on Debian), then the integration, security and
// short differential fuzzing suites again against PostgreSQL 18 where its binaries are installed (the
// pg18-server optional dependency).
const integration = ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts', 'test/fuzz/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true as const, test: { name: 'pg15', include: ['test/**/*.test.ts'], globalSetup: ['test/helpers/global-setup.ts'] } },
      ...(HAVE_PG18
        ? [{ extends: true as const, test: { name: 'pg18', include: integration, globalSetup: ['test/helpers/global-setup-pg18.ts'] } }]
        : []),
    ],
  },
});
