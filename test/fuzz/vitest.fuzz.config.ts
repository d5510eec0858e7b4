import { defineConfig } from 'vitest/config';

// The long differential fuzzing run (not part of `npm test`):
//   FUZZ_RUNS=1000 FUZZ_SEED=1 npx vitest run --config test/fuzz/vitest.fuzz.config.ts
// One throwaway PostgreSQL server, one file, no time limit per test. The server is the local PostgreSQL 15
// (test/helpers/global-setup.ts), or PostgreSQL 18 from the pg18-server dependency with FUZZ_PG=18.
export default defineConfig({
  test: {
    name: process.env['FUZZ_PG'] === '18' ? 'fuzz-pg18' : 'fuzz',
    include: ['test/fuzz/**/*.fuzz.ts'],
    globalSetup: [process.env['FUZZ_PG'] === '18' ? 'test/helpers/global-setup-pg18.ts' : 'test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 0,
    hookTimeout: 120_000,
  },
});
