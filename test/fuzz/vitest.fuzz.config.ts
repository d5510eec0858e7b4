import { defineConfig } from 'vitest/config';

// The long differential fuzzing run (not part of `npm test`):
//   FUZZ_RUNS=1000 FUZZ_SEED=1 npx vitest run --config test/fuzz/vitest.fuzz.config.ts
// One throwaway PostgreSQL server (test/helpers/global-setup.ts), one file, no time limit per test.
export default defineConfig({
  test: {
    name: 'fuzz',
    include: ['test/fuzz/**/*.fuzz.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 0,
    hookTimeout: 120_000,
  },
});
