// A database holding the demo_ecommerce fixture, the registry migrations and the three tenants.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Migrator } from '../../src/migrate/runner.js';
import { loadMigrations, packagedMigrationsDir } from '../../src/migrate/source.js';
import { runCli, type CliResult } from './cli.js';
import { randomBytes } from 'node:crypto';
import { setupDemoDatabase, DEMO_OPERATOR } from '../../src/demo/setup.js';
import { adminUrl, openDatabase, type TestDatabase } from './db.js';

export const FIXTURE = fileURLToPath(new URL('../../fixtures/demo_ecommerce/', import.meta.url));
export const DEMO_POLICIES = join(FIXTURE, 'policies.yaml');
export const DEMO_PASSWORD = 'Demo1234!';
export const ADMIN_PASSWORD = DEMO_OPERATOR.password;

export async function migrateRegistry(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await new Migrator({ sql, schema: 'tenant_registry', migrations: loadMigrations(packagedMigrationsDir()), lockTimeoutMs: 10_000 }).up();
  } finally {
    await sql.end();
  }
}

export interface DemoDatabase extends TestDatabase {
  /** The operator login (admin/changeme: owns the data, CREATEROLE, not a superuser) on this database. */
  readonly operatorUrl: string;
}

/** What `tenantctl demo up` prepares (src/demo/setup.ts), on the run's shared server; policies not applied. */
export async function demoDatabase(prefix: string): Promise<DemoDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const operatorUrl = await setupDemoDatabase({ superuserUrl: adminUrl(), database: name, operator: DEMO_OPERATOR, applyPolicies: false });
  return { ...openDatabase(name), operatorUrl };
}

export function demoEnv(db: TestDatabase, url = db.url): NodeJS.ProcessEnv {
  return { DATABASE_URL: url, DEMO_PASSWORD };
}

export function applyFile(db: TestDatabase, file: string, ...flags: string[]): Promise<CliResult> {
  return runCli(['apply', file, '--yes', ...flags], { env: demoEnv(db) });
}

/** Write `text` to a fresh policies.yaml and return its path. */
export function policyFile(text: string, name = 'policies.yaml'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tenantctl-policy-')), name);
  writeFileSync(path, text);
  return path;
}

/** A password login over TCP, as psql does. */
export function login(db: TestDatabase, user: string, password = DEMO_PASSWORD, onnotice?: (n: postgres.Notice) => void): postgres.Sql {
  return postgres(db.urlFor(user, password), { max: 1, onnotice: onnotice ?? (() => {}), connect_timeout: 10 });
}
