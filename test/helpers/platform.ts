// A database holding the ecommerce_platform fixture (seed 002): schema, deterministic data at a given scale,
// the registry migrated and the five tenants registered with the data's UUIDs. Policies are not applied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { runCli, type CliResult } from './cli.js';
import { freshDatabase, type TestDatabase } from './db.js';
import { migrateRegistry, policyFile } from './demo.js';

export const PLATFORM = fileURLToPath(new URL('../../fixtures/ecommerce_platform/', import.meta.url));
export const PLATFORM_POLICIES = join(PLATFORM, 'policies.yaml');
export const PLATFORM_PASSWORDS = {
  PLATFORM_APP_PASSWORD: 'storefront-pw',
  PLATFORM_SUPPORT_PASSWORD: 'support-pw',
  PLATFORM_ANALYST_PASSWORD: 'analyst-pw',
} as const;

/** The fixture's tenants: slug -> the UUID shared by the registry and the data. */
export const PLATFORM_TENANTS = {
  acme: '10000000-0000-4000-8000-000000000001',
  globex: '10000000-0000-4000-8000-000000000002',
  initech: '10000000-0000-4000-8000-000000000003',
  umbrella: '10000000-0000-4000-8000-000000000004',
  hooli: '10000000-0000-4000-8000-000000000005',
} as const;

export interface PlatformDatabase extends TestDatabase {
  /** Role names of this database's copy of the fixture (roles are cluster-wide). */
  readonly roles: { storefront: string; support: string; analyst: string };
  /** The fixture's policies.yaml with this database's role names, as a file. */
  readonly policies: string;
  apply(...flags: string[]): Promise<CliResult>;
  plan(...flags: string[]): Promise<CliResult>;
  /** A password login pool for one of the fixture's roles. */
  connect(role: 'storefront' | 'support' | 'analyst', options?: { max?: number }): postgres.Sql;
  /** Close the pools, drop the database and the roles. */
  dispose(): Promise<void>;
}

/** The fixture's policies with every role name suffixed, so that parallel test databases never share a login. */
export function platformPolicies(suffix: string, text = readFileSync(PLATFORM_POLICIES, 'utf8')): string {
  return text.replace(/\bplatform_(storefront|support|analyst)\b/g, `platform_$1_${suffix}`);
}

export async function loadPlatform(sql: postgres.Sql, scale = 1): Promise<void> {
  await sql.unsafe(readFileSync(join(PLATFORM, 'schema.sql'), 'utf8'));
  await sql.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL platform.scale = ${Math.trunc(scale)}`);
    await tx.unsafe(readFileSync(join(PLATFORM, 'seed.sql'), 'utf8'));
  });
}

export async function platformDatabase(prefix: string, scale = 1): Promise<PlatformDatabase> {
  const db = await freshDatabase(prefix);
  await loadPlatform(db.sql, scale);
  await migrateRegistry(db.url);
  await db.sql.unsafe(readFileSync(join(PLATFORM, 'tenants.sql'), 'utf8'));
  const suffix = db.name.slice(-6);
  const roles = { storefront: `platform_storefront_${suffix}`, support: `platform_support_${suffix}`, analyst: `platform_analyst_${suffix}` };
  const policies = policyFile(platformPolicies(suffix));
  const env = { DATABASE_URL: db.url, ...PLATFORM_PASSWORDS };
  const pools: postgres.Sql[] = [];
  const password = { storefront: PLATFORM_PASSWORDS.PLATFORM_APP_PASSWORD, support: PLATFORM_PASSWORDS.PLATFORM_SUPPORT_PASSWORD, analyst: PLATFORM_PASSWORDS.PLATFORM_ANALYST_PASSWORD };
  return {
    ...db,
    roles,
    policies,
    apply: (...flags) => runCli(['apply', policies, '--yes', ...flags], { env }),
    plan: (...flags) => runCli(['plan', policies, ...flags], { env }),
    connect: (role, options = {}) => {
      const pool = postgres(db.urlFor(roles[role], password[role]), { max: options.max ?? 1, onnotice: () => {}, connect_timeout: 10 });
      pools.push(pool);
      return pool;
    },
    dispose: async () => {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
      const admin = postgres(db.url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} });
      try {
        for (const r of Object.values(roles)) await admin.unsafe(`DROP ROLE IF EXISTS "${r}"`);
      } finally {
        await admin.end();
      }
    },
  };
}
