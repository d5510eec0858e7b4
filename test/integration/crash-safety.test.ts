// Crash safety: `tenantctl apply` and `tenantctl migrate up` killed with SIGKILL at random moments. Afterwards
// the catalog is the state before or the state after, never a mix, and the next run converges.
// TENANTCTL_CRASH_TRIALS sets the number of trials of each (default 2 in npm test; `npm run reliability` runs 50).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { packagedMigrationsDir } from '../../src/migrate/source.js';
import { BIN, runCli } from '../helpers/cli.js';
import { adminUrl, freshDatabase } from '../helpers/db.js';
import { demoDatabase, DEMO_PASSWORD, DEMO_POLICIES, policyFile } from '../helpers/demo.js';
import { catalogSnapshot } from '../helpers/snapshot.js';

const TRIALS = Number(process.env['TENANTCTL_CRASH_TRIALS'] ?? 2);

/** Start the CLI and SIGKILL it after `ms`; resolves with how it ended. */
function killAfter(args: string[], env: NodeJS.ProcessEnv, ms: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', ...env }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

/** Wait until the server has noticed the dead client and ended its session (and so its transaction). */
async function sessionsGone(sql: postgres.Sql, database: string, application: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${database} AND application_name = ${application}`;
    if (row?.['n'] === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sessions of ${application} still open after 10 s`);
}

// Random but reproducible moments: spread over the first 1.5 s, where every apply of the demo file runs.
const moments = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.round(((Math.sin(seed + i * 12.9898) * 43758.5453) % 1 + 1) % 1 * 1500));

describe('apply killed with SIGKILL', () => {
  it.each(moments(TRIALS, 7).map((ms, i) => [i + 1, ms] as const))(
    'trial %i (kill after %i ms): before or after, never a mix; the next apply converges',
    async (_trial, ms) => {
      const db = await demoDatabase('crash');
      // Logins of this trial only (roles are cluster-wide): other test files apply the demo's alice, bob and
      // charlie meanwhile, and drop them, which would change this database's snapshot under it.
      const logins = ['alice', 'bob', 'charlie'].map((u) => `crash_${u}_${db.name.slice(-10)}`);
      const file = policyFile(logins.reduce((text, login, i) => text.replace(`  - name: ${['alice', 'bob', 'charlie'][i]}\n`, `  - name: ${login}\n`), readFileSync(DEMO_POLICIES, 'utf8')));
      try {
        const env = { DATABASE_URL: db.operatorUrl, DEMO_PASSWORD };
        const before = await catalogSnapshot(db.sql, logins);
        const run = await killAfter(['apply', file, '--yes'], env, ms);
        await sessionsGone(db.sql, db.name, 'tenantctl apply');
        const now = await catalogSnapshot(db.sql, logins);
        const plan = await runCli(['plan', file, '--detailed-exitcode'], { env });
        const state = JSON.stringify(now) === JSON.stringify(before) ? 'before' : plan.code === 0 ? 'after' : 'mix';
        expect({ state, killed: run.killed }).toMatchObject({ state: expect.stringMatching(/^(before|after)$/) });
        if (!run.killed) expect(state).toBe('after'); // it finished before the kill
        const converge = await runCli(['apply', file, '--yes'], { env });
        expect(converge.code).toBe(0);
        expect(await runCli(['plan', file, '--detailed-exitcode'], { env })).toMatchObject({ code: 0, stdout: 'No changes.\n' });
      } finally {
        await db.drop();
        const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
        try {
          for (const login of logins) await admin.unsafe(`DROP ROLE IF EXISTS "${login}"`);
        } finally {
          await admin.end();
        }
      }
    },
    60_000,
  );
});

describe('migrate up killed with SIGKILL', () => {
  it.each(moments(TRIALS, 3).map((ms, i) => [i + 1, Math.round(ms / 2)] as const))(
    'trial %i (kill after %i ms): every migration all there or not at all, never dirty; the next run converges',
    async (_trial, ms) => {
      const dir = mkdtempSync(join(tmpdir(), 'tenantctl-crash-mig-'));
      cpSync(packagedMigrationsDir(), dir, { recursive: true });
      writeFileSync(join(dir, '900001_slow.up.sql'), 'CREATE TABLE slow_a (id int);\nSELECT pg_sleep(0.2);\nCREATE TABLE slow_b (id int);\n');
      writeFileSync(join(dir, '900001_slow.down.sql'), 'DROP TABLE slow_b;\nDROP TABLE slow_a;\n');
      writeFileSync(join(dir, '900002_more.up.sql'), 'SELECT pg_sleep(0.2);\nCREATE TABLE more_c (id int);\n');
      writeFileSync(join(dir, '900002_more.down.sql'), 'DROP TABLE more_c;\n');
      const db = await freshDatabase('crash_mig');
      try {
        const env = { DATABASE_URL: db.url };
        await killAfter(['migrate', 'up', '--dir', dir], env, ms);
        await sessionsGone(db.sql, db.name, 'tenantctl migrate');
        const [book] = await db.sql`SELECT to_regclass('tenant_registry.schema_migrations') IS NOT NULL AS present`;
        const [v] = book?.['present'] ? await db.sql`SELECT version, dirty FROM tenant_registry.schema_migrations` : [];
        const version = v === undefined ? 0 : Number(v['version']);
        expect(v?.['dirty'] ?? false).toBe(false);
        const [objects] = await db.sql`
          SELECT to_regclass('tenant_registry.tenants') IS NOT NULL AS registry,
                 to_regclass('tenant_registry.slow_a') IS NOT NULL AS a, to_regclass('tenant_registry.slow_b') IS NOT NULL AS b,
                 to_regclass('tenant_registry.more_c') IS NOT NULL AS c`;
        expect(objects).toEqual({ registry: version >= 1, a: version >= 900001, b: version >= 900001, c: version >= 900002 });
        const up = await runCli(['migrate', 'up', '--dir', dir], { env });
        expect(up.code).toBe(0);
        expect(await runCli(['migrate', 'version'], { env })).toMatchObject({ stdout: '900002\n' });
      } finally {
        await db.drop();
      }
    },
    60_000,
  );
});
