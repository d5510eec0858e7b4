// Differential fuzzing, short run (part of `npm test`): random schemas, data, tenants, users and policy files
// are applied with the built CLI, and what each user reads over a real login is compared with the reference
// evaluator (reference.ts). Seeded, so a failure reproduces; FUZZ_SEED and FUZZ_SHORT_RUNS override.
// The long run is long.fuzz.ts (docs/fuzzing.md).
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { adminUrl } from '../helpers/db.js';
import { fuzz } from './harness.js';

const RUNS = Number(process.env['FUZZ_SHORT_RUNS'] ?? 15);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20260707);

describe('differential fuzzing (short run)', () => {
  it(`${RUNS} random cases read the same through tenantctl as the reference says (seed ${SEED})`, async () => {
    const counts = await fuzz({ runs: RUNS, seed: SEED, shrinkBudgetMs: 240_000 });
    expect(counts.compared + counts.refused).toBe(RUNS);
    expect(counts.compared).toBeGreaterThan(0);
    expect(counts.withRows).toBeGreaterThan(0);
    expect(counts.writes).toBeGreaterThan(0);
    expect(counts.wrote).toBeGreaterThan(0);
  }, 600_000);

  it("leaves none of its cases' users and group roles behind (roles are cluster-wide)", async () => {
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    try {
      expect(await admin`SELECT rolname FROM pg_roles WHERE rolname ~ '^fz[0-9a-f]{6}_[ug][0-9]$'`).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
