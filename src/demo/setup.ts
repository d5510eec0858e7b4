// The demo_ecommerce database: an operator login that owns the data and runs tenantctl (CREATEROLE, not a
// superuser), the fixture's schema and data, the registry, three tenants, and the fixture's policies applied.
// Used by `tenantctl demo up` and by the integration tests, so both run the same steps.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { apply } from '../apply/apply.js';
import { Migrator } from '../migrate/runner.js';
import { loadMigrations, packagedMigrationsDir } from '../migrate/source.js';
import { ident, literal } from '../pg/quote.js';
import { scramVerifier } from '../pg/scram.js';
import { loadPolicyModel } from '../policy/check.js';
import { DEFAULT_REGISTRY_SCHEMA } from '../registry/types.js';

export const DEMO_DATABASE = 'demo_ecommerce';
export const DEMO_OPERATOR = { user: 'admin', password: 'changeme' } as const;
export const DEMO_USER_PASSWORD = 'Demo1234!';
export const DEMO_TENANTS = [
  { slug: 'acme', name: 'Acme Corp', user: 'alice' },
  { slug: 'globex', name: 'Globex', user: 'bob' },
  { slug: 'stark', name: 'Stark Industries', user: 'charlie' },
] as const;

/** fixtures/demo_ecommerce, shipped in the package. */
export function demoFixtureDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'demo_ecommerce');
}

const DUPLICATE = new Set(['42710', '23505']);

/** CREATE ROLE for the operator, or reset its password when it exists (another database on the cluster). */
export async function ensureOperator(superuser: postgres.Sql, user: string, password: string): Promise<void> {
  const verifier = literal(scramVerifier(password));
  try {
    await superuser.unsafe(`CREATE ROLE ${ident(user)} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS PASSWORD ${verifier}`);
  } catch (e) {
    if (!DUPLICATE.has((e as { code?: string }).code ?? '')) throw e;
    await superuser.unsafe(`ALTER ROLE ${ident(user)} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS PASSWORD ${verifier}`);
  }
}

export interface DemoSetupOptions {
  /** A superuser URL of the server (any database). */
  superuserUrl: string;
  database: string;
  operator: { user: string; password: string };
  /** Apply policies.yaml too (the demo does; some tests apply their own file). */
  applyPolicies: boolean;
  log?: (line: string) => void;
}

/** Everything `demo up` does on a running server. Returns the operator's URL of the new database. */
export async function setupDemoDatabase(options: DemoSetupOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const fixture = demoFixtureDir();
  const superuser = postgres(options.superuserUrl, { max: 1, onnotice: () => {} });
  try {
    await ensureOperator(superuser, options.operator.user, options.operator.password);
    await superuser.unsafe(`CREATE DATABASE ${ident(options.database)} OWNER ${ident(options.operator.user)}`);
  } finally {
    await superuser.end();
  }
  const url = new URL(options.superuserUrl);
  url.username = encodeURIComponent(options.operator.user);
  url.password = encodeURIComponent(options.operator.password);
  url.pathname = '/' + encodeURIComponent(options.database);
  const operatorUrl = url.toString();

  const sql = postgres(operatorUrl, { max: 1, onnotice: () => {} });
  try {
    log(`loading ${options.database}: schema and data`);
    await sql.unsafe(readFileSync(join(fixture, 'schema.sql'), 'utf8'));
    await sql.unsafe(readFileSync(join(fixture, 'seed.sql'), 'utf8'));
    log('migrating the tenant registry');
    await new Migrator({ sql, schema: DEFAULT_REGISTRY_SCHEMA, migrations: loadMigrations(packagedMigrationsDir()), lockTimeoutMs: 15_000 }).up();
    for (const t of DEMO_TENANTS) {
      await sql.unsafe(`INSERT INTO ${ident(DEFAULT_REGISTRY_SCHEMA)}.tenants (slug, name, status, kind) VALUES ($1, $2, 'demo', 'demo')`, [t.slug, t.name]);
    }
    if (options.applyPolicies) {
      log('applying policies.yaml');
      const file = join(fixture, 'policies.yaml');
      const { model } = await loadPolicyModel(file);
      const outcome = await apply(sql, model, {
        registrySchema: DEFAULT_REGISTRY_SCHEMA,
        env: { DEMO_PASSWORD: DEMO_USER_PASSWORD },
        plan: { prune: false },
        lockTimeoutMs: 15_000,
        attempts: 3,
        dryRun: false,
        fileHash: createHash('sha256').update(readFileSync(file)).digest('hex'),
        fileName: 'policies.yaml',
        confirm: async () => true,
      });
      if (outcome.kind !== 'applied') throw new Error(`applying the demo policies ended as ${outcome.kind}`);
    }
  } finally {
    await sql.end();
  }
  return operatorUrl;
}
