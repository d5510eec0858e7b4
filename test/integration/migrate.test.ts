// The tenant-registry migrations and `tenantctl migrate`, against a real server. Ported from the seed's Go
// tests (TestMigrate_upDownRoundTrip, TestSeed_canInsertAndQuery, TestSlugConstraint) and beyond.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator } from '../../src/migrate/runner.js';
import { loadMigrations, packagedMigrationsDir } from '../../src/migrate/source.js';
import { REGISTRY_ENUMS } from '../../src/registry/types.js';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

const S = 'tenant_registry';
/** The packaged registry migrations (tests add theirs at 900001 and after, past any packaged version). */
const PACKAGED = loadMigrations(packagedMigrationsDir());
const LATEST = PACKAGED[PACKAGED.length - 1]!.version;

/** The 6 tables of seed 001's migration (later migrations may add more to REGISTRY_TABLES). */
const SEED_TABLES = ['api_keys', 'audit_log', 'tenant_idp_config', 'tenant_products', 'tenant_projects', 'tenants'];

/** Only the seed's migration (000001): what the seed's Go tests covered. */
function seedOnlyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-seed-'));
  for (const f of ['000001_tenant_registry.up.sql', '000001_tenant_registry.down.sql']) cpSync(join(packagedMigrationsDir(), f), join(dir, f));
  return dir;
}

async function registryObjects(sql: postgres.Sql, schema = S): Promise<{ tables: string[]; enums: string[] }> {
  const tables = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${schema} AND c.relkind = 'r'
       AND c.relname NOT IN ('schema_migrations', 'tenantctl_migrations') ORDER BY 1`;
  const enums = await sql<{ name: string }[]>`
    SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = ${schema} AND t.typtype = 'e' ORDER BY 1`;
  return { tables: tables.map((r) => r.name), enums: enums.map((r) => r.name) };
}

function migrator(db: TestDatabase, options: { dir?: string; schema?: string; lockTimeoutMs?: number } = {}): { m: Migrator; end: () => Promise<void> } {
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const m = new Migrator({
    sql,
    schema: options.schema ?? S,
    migrations: loadMigrations(options.dir ?? packagedMigrationsDir()),
    lockTimeoutMs: options.lockTimeoutMs ?? 5000,
  });
  return { m, end: () => sql.end() };
}

/** A copy of the packaged migrations plus extra files, in a temp folder. */
function migrationsDir(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-mig-'));
  cpSync(packagedMigrationsDir(), dir, { recursive: true });
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('registry migrations: round trip (TestMigrate_upDownRoundTrip)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await freshDatabase('mig_rt')));
  afterAll(async () => db.drop());

  it('up gives exactly the 6 tables and 4 enums; down empties the schema; up after down is clean', async () => {
    const { m, end } = migrator(db, { dir: seedOnlyDir() });
    try {
      expect((await m.up()).map((a) => a.migration.version)).toEqual([1]);
      const after = await registryObjects(db.sql);
      expect(after.tables).toEqual(SEED_TABLES);
      expect(after.enums).toEqual([...REGISTRY_ENUMS].sort());
      const triggers = await db.sql<{ tgname: string }[]>`
        SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'tenant_registry.%' ORDER BY 1`;
      expect(triggers.map((t) => t.tgname)).toEqual([
        'tenant_idp_config_touch_updated_at',
        'tenant_products_touch_updated_at',
        'tenant_projects_touch_updated_at',
        'tenants_touch_updated_at',
      ]);

      expect((await m.down(1)).map((a) => a.migration.version)).toEqual([1]);
      expect(await registryObjects(db.sql)).toEqual({ tables: [], enums: [] });
      const [fn] = await db.sql`SELECT to_regprocedure('tenant_registry.touch_updated_at()') AS f`;
      expect(fn?.['f']).toBeNull();
      expect(await m.version()).toBeUndefined();

      await m.up();
      expect((await registryObjects(db.sql)).tables).toHaveLength(6);
      expect(await m.version()).toEqual({ version: 1, dirty: false });
    } finally {
      await end();
    }
  });
});

describe('registry migrations: data (TestSeed_canInsertAndQuery, TestSlugConstraint)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('mig_data');
    const { m, end } = migrator(db);
    await m.up();
    await end();
  });
  afterAll(async () => db.drop());

  it('inserts across every table; deleting a tenant cascades to owned rows and keeps audit rows with tenant_id NULL', async () => {
    const sql = db.sql;
    await sql.begin(async (tx) => {
      await tx.unsafe('SET LOCAL search_path TO tenant_registry');
      const [t] = await tx`INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme Corp') RETURNING id, status, kind, plan`;
      expect(t).toMatchObject({ status: 'trial', kind: 'customer', plan: 'starter' });
      const [p] = await tx`INSERT INTO tenant_projects (tenant_id, name, slug) VALUES (${t!['id']}, 'Default', 'default') RETURNING id`;
      await tx`INSERT INTO tenant_products (tenant_id, product, config) VALUES (${t!['id']}, 'analytics', ${tx.json({ max_seats: 5 })})`;
      await tx`INSERT INTO tenant_idp_config (tenant_id, type, metadata) VALUES (${t!['id']}, 'oidc', ${tx.json({ client_id: 'x' })})`;
      await tx`INSERT INTO api_keys (tenant_id, name, hash, prefix, scopes) VALUES (${t!['id']}, 'ci', 'argon2id$...', 'tk_abcd1', ${['read']})`;
      await tx`INSERT INTO audit_log (tenant_id, project_id, action, metadata) VALUES (${t!['id']}, ${p!['id']}, 'tenant.create', '{}')`;
      const counts = await tx`
        SELECT (SELECT count(*) FROM tenant_projects)::int AS projects, (SELECT count(*) FROM tenant_products)::int AS products,
               (SELECT count(*) FROM tenant_idp_config)::int AS idp, (SELECT count(*) FROM api_keys)::int AS keys,
               (SELECT count(*) FROM audit_log WHERE action = 'tenant.create')::int AS audit`;
      expect(counts[0]).toEqual({ projects: 1, products: 1, idp: 1, keys: 1, audit: 1 });

      await tx`DELETE FROM tenants WHERE slug = 'acme'`;
      const after = await tx`
        SELECT (SELECT count(*) FROM tenant_projects)::int AS projects, (SELECT count(*) FROM tenant_products)::int AS products,
               (SELECT count(*) FROM tenant_idp_config)::int AS idp, (SELECT count(*) FROM api_keys)::int AS keys`;
      expect(after[0]).toEqual({ projects: 0, products: 0, idp: 0, keys: 0 });
      const audit = await tx`SELECT tenant_id, project_id FROM audit_log WHERE action = 'tenant.create'`;
      expect(audit).toEqual([{ tenant_id: null, project_id: null }]);
      await tx`SELECT 1`;
      throw new Rollback();
    }).catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  });

  it('updated_at moves on UPDATE on every table that has it', async () => {
    await db.sql.begin(async (tx) => {
      await tx.unsafe('SET LOCAL search_path TO tenant_registry');
      const old = '2020-01-01T00:00:00Z';
      const [t] = await tx`INSERT INTO tenants (slug, name, updated_at) VALUES ('moves', 'M', ${old}) RETURNING id`;
      const id = t!['id'] as string;
      await tx`INSERT INTO tenant_projects (tenant_id, name, slug, updated_at) VALUES (${id}, 'P', 'p1', ${old})`;
      await tx`INSERT INTO tenant_products (tenant_id, product, updated_at) VALUES (${id}, 'x', ${old})`;
      await tx`INSERT INTO tenant_idp_config (tenant_id, type, updated_at) VALUES (${id}, 'saml', ${old})`;
      await tx`UPDATE tenants SET name = 'M2' WHERE id = ${id}`;
      await tx`UPDATE tenant_projects SET name = 'P2' WHERE tenant_id = ${id}`;
      await tx`UPDATE tenant_products SET enabled = false WHERE tenant_id = ${id}`;
      await tx`UPDATE tenant_idp_config SET verified = true WHERE tenant_id = ${id}`;
      const rows = await tx`
        SELECT 'tenants' AS t, updated_at FROM tenants WHERE id = ${id}
        UNION ALL SELECT 'tenant_projects', updated_at FROM tenant_projects WHERE tenant_id = ${id}
        UNION ALL SELECT 'tenant_products', updated_at FROM tenant_products WHERE tenant_id = ${id}
        UNION ALL SELECT 'tenant_idp_config', updated_at FROM tenant_idp_config WHERE tenant_id = ${id}`;
      expect(rows).toHaveLength(4);
      for (const r of rows) expect((r['updated_at'] as Date).getTime(), r['t'] as string).toBeGreaterThan(Date.parse(old));
      throw new Rollback();
    }).catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  });

  const rejected = ['ab', '-acme', 'acme-', 'Acme', 'ac_me', 'a', 'x'.repeat(41), 'acme corp'];
  const accepted = ['abc', 'acme', 'acme-eu-1', '0ab', 'a'.repeat(40)];
  it.each(rejected)('slug %j is rejected by the CHECK constraint', async (slug) => {
    await expect(db.sql`INSERT INTO tenant_registry.tenants (slug, name) VALUES (${slug}, 'n')`).rejects.toMatchObject({
      code: '23514',
      constraint_name: 'tenants_slug_check',
    });
  });
  it.each(accepted)('slug %j is accepted', async (slug) => {
    const [row] = await db.sql`INSERT INTO tenant_registry.tenants (slug, name) VALUES (${slug}, 'n') RETURNING slug`;
    expect(row?.['slug']).toBe(slug);
    await db.sql`DELETE FROM tenant_registry.tenants WHERE slug = ${slug}`;
  });
});

class Rollback extends Error {}

describe('tenantctl migrate (the command line)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await freshDatabase('mig_cli')));
  afterAll(async () => db.drop());
  const env = (): NodeJS.ProcessEnv => ({ DATABASE_URL: db.url });

  it('version says "no migration" and exits 1 before anything is applied; up, version, status, audit rows', async () => {
    const none = await runCli(['migrate', 'version'], { env: env() });
    expect(none).toMatchObject({ code: 1, stdout: 'no migration\n' });

    const up = await runCli(['migrate', 'up'], { env: env() });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('applied 000001_tenant_registry.up.sql');
    expect(up.stdout).toContain(`Migrated up to version ${LATEST} (${PACKAGED.length} applied).`);

    const again = await runCli(['migrate', 'up'], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No pending migrations');

    expect(await runCli(['migrate', 'version'], { env: env() })).toMatchObject({ code: 0, stdout: `${LATEST}\n` });
    const status = await runCli(['migrate', 'status', '--exit-code'], { env: env() });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/000001_tenant_registry {2}applied {2}\d{4}-\d\d-\d\dT.* by postgres/);

    const audit = await db.sql`SELECT action, target_type, target_id, target_name, metadata->>'checksum' AS checksum FROM tenant_registry.audit_log`;
    expect(audit).toEqual(
      PACKAGED.map((m) => ({ action: 'migrate.up', target_type: 'migration', target_id: String(m.version), target_name: m.name, checksum: m.up.checksum })),
    );
  });

  it('down refuses without --yes when standard input is not a terminal, and changes nothing', async () => {
    const r = await runCli(['migrate', 'down'], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to roll back 1 migration without confirmation: standard input is not a terminal; pass --yes');
    expect(await runCli(['migrate', 'version'], { env: env() })).toMatchObject({ stdout: `${LATEST}\n` });
    const all = await runCli(['migrate', 'down', '--all'], { env: env() });
    expect(all.stderr).toContain('refusing to roll back every applied migration without confirmation');
  });

  it('a missing or malformed migrations folder is a clear error with exit 1', async () => {
    const missing = await runCli(['migrate', 'up', '--dir', '/nonexistent/migrations'], { env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: migrations folder /nonexistent/migrations does not exist or cannot be read\n');

    const bad = mkdtempSync(join(tmpdir(), 'tenantctl-bad-'));
    writeFileSync(join(bad, '1_first.sql'), 'SELECT 1;');
    const malformed = await runCli(['migrate', 'up', '--dir', bad], { env: env() });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain(`${join(bad, '1_first.sql')}: not a migration file name; expected NNNNNN_name.up.sql or NNNNNN_name.down.sql`);

    const empty = mkdtempSync(join(tmpdir(), 'tenantctl-empty-'));
    expect((await runCli(['migrate', 'up', '--dir', empty], { env: env() })).stderr).toContain('holds no migrations');

    const orphan = mkdtempSync(join(tmpdir(), 'tenantctl-orphan-'));
    writeFileSync(join(orphan, '000001_x.down.sql'), 'SELECT 1;');
    expect((await runCli(['migrate', 'up', '--dir', orphan], { env: env() })).stderr).toContain('000001_x.down.sql: no matching .up.sql file');
  });

  it('a failing migration prints the server error with file and line, and leaves the version where it was', async () => {
    const dir = migrationsDir({
      '900001_broken.up.sql': 'CREATE TABLE extra (id int);\n\nINSERT INTO no_such_table VALUES (1);\n',
      '900001_broken.down.sql': 'DROP TABLE extra;\n',
    });
    const r = await runCli(['migrate', 'up', '--dir', dir], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: 900001_broken.up.sql:3: ERROR: relation "no_such_table" does not exist (SQLSTATE 42P01)');
    expect(r.stderr).toContain(`nothing was applied; the version stays at ${LATEST}`);
    expect(await runCli(['migrate', 'version'], { env: env() })).toMatchObject({ stdout: `${LATEST}\n` });
    const [t] = await db.sql`SELECT to_regclass('tenant_registry.extra') AS t`;
    expect(t?.['t']).toBeNull();
  });

  it('status --exit-code reports pending (2) and an applied migration edited afterwards', async () => {
    const dir = migrationsDir({ '900001_more.up.sql': 'CREATE TABLE more (id int);\n', '900001_more.down.sql': 'DROP TABLE more;\n' });
    const pending = await runCli(['migrate', 'status', '--exit-code', '--dir', dir], { env: env() });
    expect(pending.code).toBe(2);
    expect(pending.stdout).toMatch(/900001_more {2}pending/);

    writeFileSync(join(dir, '000001_tenant_registry.up.sql'), readFileSync(join(dir, '000001_tenant_registry.up.sql'), 'utf8') + '\n-- edited\n');
    const edited = await runCli(['migrate', 'status', '--format', 'json', '--dir', dir], { env: env() });
    expect(edited.code).toBe(0);
    const json = JSON.parse(edited.stdout) as { version: number; migrations: { version: number; state: string }[] };
    expect(json.version).toBe(LATEST);
    expect(json.migrations.map((m) => [m.version, m.state])).toEqual([
      ...PACKAGED.map((m) => [m.version, m.version === 1 ? 'edited' : 'applied']),
      [900001, 'pending'],
    ]);
  });

  it('-- tenantctl:no-transaction runs CREATE INDEX CONCURRENTLY; a failure leaves the registry dirty until force', async () => {
    const dir = migrationsDir({
      '900001_concurrent_index.up.sql':
        '-- tenantctl:no-transaction\nCREATE INDEX CONCURRENTLY tenants_name_idx ON tenants (name);\nCREATE INDEX CONCURRENTLY tenants_plan_idx ON tenants (plan);\n',
      '900001_concurrent_index.down.sql': '-- tenantctl:no-transaction\nDROP INDEX CONCURRENTLY tenants_plan_idx;\nDROP INDEX CONCURRENTLY tenants_name_idx;\n',
      '900002_bad_concurrent.up.sql': '-- tenantctl:no-transaction\nCREATE INDEX CONCURRENTLY t_sales_idx ON tenants (sales_owner);\nCREATE INDEX CONCURRENTLY t_bad_idx ON tenants (no_such_column);\n',
      '900002_bad_concurrent.down.sql': 'DROP INDEX t_sales_idx;\n',
    });
    const up = await runCli(['migrate', 'up', '1', '--dir', dir], { env: env() });
    expect(up.stderr).toBe('');
    expect(up.stdout).toContain('Migrated up to version 900001 (1 applied).');
    const idx = await db.sql`SELECT indexname FROM pg_indexes WHERE schemaname = 'tenant_registry' AND indexname LIKE 'tenants_%_idx' ORDER BY 1`;
    expect(idx.map((r) => r['indexname'])).toEqual(['tenants_kind_idx', 'tenants_name_idx', 'tenants_plan_idx', 'tenants_status_idx', 'tenants_trial_ends_idx']);

    const bad = await runCli(['migrate', 'up', '--dir', dir], { env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('900002_bad_concurrent.up.sql:3: ERROR: column "no_such_column" does not exist (SQLSTATE 42703)');
    expect(bad.stderr).toContain('the registry is now dirty at version 900002');
    expect(await runCli(['migrate', 'version'], { env: env() })).toMatchObject({ code: 0, stdout: '900002 (dirty)\n' });

    const refused = await runCli(['migrate', 'up', '--dir', dir], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the registry is dirty at version 900002: a migration failed half-way');

    await db.sql`DROP INDEX tenant_registry.t_sales_idx`;
    const forced = await runCli(['migrate', 'force', '900001', '--dir', dir], { env: env() });
    expect(forced).toMatchObject({ code: 0, stdout: 'Forced version 900001; dirty cleared. Nothing was run.\n' });
    expect(await runCli(['migrate', 'version'], { env: env() })).toMatchObject({ stdout: '900001\n' });
    const [audit] = await db.sql`SELECT metadata FROM tenant_registry.audit_log WHERE action = 'migrate.force'`;
    expect(audit?.['metadata']).toMatchObject({ version: 900001, from: 900002, from_dirty: true });

    const down = await runCli(['migrate', 'down', '--yes', '--dir', dir], { env: env() });
    expect(down.stdout).toContain(`Rolled back 1 migration; now at version ${LATEST}.`);
    const left = await db.sql`SELECT indexname FROM pg_indexes WHERE indexname IN ('tenants_name_idx', 'tenants_plan_idx')`;
    expect(left).toHaveLength(0);
  });

  it('bad arguments are errors with exit 1', async () => {
    expect(await runCli(['migrate', 'up', 'zero'], { env: env() })).toMatchObject({ code: 1, stderr: 'error: N must be a positive whole number, got "zero"\n' });
    expect(await runCli(['migrate', 'force', 'x'], { env: env() })).toMatchObject({ code: 1, stderr: 'error: V must be a version number (0 for none), got "x"\n' });
    expect(await runCli(['migrate', 'down', '2', '--all', '--yes'], { env: env() })).toMatchObject({ code: 1, stderr: 'error: give either N or --all, not both\n' });
    expect(await runCli(['migrate', 'up', '--lock-timeout', 'soon'], { env: env() })).toMatchObject({
      code: 1,
      stderr: 'error: --lock-timeout: invalid duration "soon"; expected e.g. 500ms, 15s or 2m\n',
    });
  });

  it('a server that cannot be reached is a one-line error, no stack trace', async () => {
    const r = await runCli(['migrate', 'version', '--database-url', 'postgresql://x:y@127.0.0.1:1/db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: could not connect to PostgreSQL 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('    at ');
  });
});

describe('tenantctl migrate: locking, schemas, golang-migrate compatibility', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await freshDatabase('mig_lock')));
  afterAll(async () => db.drop());

  it('two `migrate up` at once: one migrates, the other waits and then finds nothing to do', async () => {
    const dir = migrationsDir({ '900001_slow.up.sql': 'SELECT pg_sleep(1.5);\n', '900001_slow.down.sql': 'SELECT 1;\n' });
    const env = { DATABASE_URL: db.url };
    const [a, b] = await Promise.all([runCli(['migrate', 'up', '--dir', dir], { env }), runCli(['migrate', 'up', '--dir', dir], { env })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const migrated = [a, b].filter((r) => r.stdout.includes(`Migrated up to version 900001 (${PACKAGED.length + 1} applied).`));
    const waited = [a, b].filter((r) => r.stdout.includes('No pending migrations') && r.stdout.includes('is at version 900001'));
    expect([migrated.length, waited.length]).toEqual([1, 1]);
    const audit = await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'migrate.up'`;
    expect(audit[0]?.['n']).toBe(PACKAGED.length + 1);
  });

  it('--lock-timeout ends the wait with a message naming the holding backend pid', async () => {
    const holder = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const [{ key }] = (await holder`SELECT current_database() AS key`) as unknown as [{ key: string }];
      const { migrateLockKey } = await import('../../src/pg/advisory-lock.js');
      const k = migrateLockKey(key, S).toString();
      const [{ pid }] = (await holder`SELECT pg_advisory_lock(${k}::bigint), pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
      const r = await runCli(['migrate', 'up', '--lock-timeout', '300ms'], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: the migration lock of schema "tenant_registry" is locked by backend pid ${pid}`);
      expect(r.stderr).toContain('gave up after 300ms (--lock-timeout)');
    } finally {
      await holder.end();
    }
  });

  it('--registry-schema keeps the registry apart from an application table called tenants', async () => {
    await db.sql`CREATE TABLE public.tenants (id int PRIMARY KEY, label text)`;
    const r = await runCli(['migrate', 'up', '--registry-schema', 'registry two', '--dir', seedOnlyDir()], { env: { DATABASE_URL: db.url } });
    expect(r.stderr).toBe('');
    expect((await registryObjects(db.sql, 'registry two')).tables).toEqual(SEED_TABLES);
    const cols = await db.sql`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'tenants' ORDER BY 1`;
    expect(cols.map((c) => c['column_name'])).toEqual(['id', 'label']);
  });

  it('a registry migrated by golang-migrate (schema_migrations only) is picked up as it is', async () => {
    const schema = 'from_go';
    const sqlText = readFileSync(join(packagedMigrationsDir(), '000001_tenant_registry.up.sql'), 'utf8');
    await db.sql.unsafe(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}; ${sqlText};
      CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
      INSERT INTO schema_migrations VALUES (1, false); RESET search_path;`);
    const env = { DATABASE_URL: db.url };
    expect(await runCli(['migrate', 'version', '--registry-schema', schema], { env })).toMatchObject({ stdout: '1\n' });
    const seed = seedOnlyDir();
    const up = await runCli(['migrate', 'up', '--registry-schema', schema, '--dir', seed], { env });
    expect(up.stdout).toContain('No pending migrations');
    const status = await runCli(['migrate', 'status', '--format', 'json', '--registry-schema', schema, '--dir', seed], { env });
    expect((JSON.parse(status.stdout) as { migrations: { state: string }[] }).migrations.map((m) => m.state)).toEqual(['unrecorded']);
  });
});

describe('tenantctl migrate create', () => {
  it('writes the next NNNNNN_name.up.sql and .down.sql pair', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tenantctl-create-')), 'db', 'migrations');
    const first = await runCli(['migrate', 'create', 'Add tenant region', '--dir', dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`Created ${join(dir, '000001_add_tenant_region.up.sql')}\nCreated ${join(dir, '000001_add_tenant_region.down.sql')}\n`);
    await runCli(['migrate', 'create', 'second', '--dir', dir]);
    expect(readdirSync(dir).sort()).toEqual([
      '000001_add_tenant_region.down.sql',
      '000001_add_tenant_region.up.sql',
      '000002_second.down.sql',
      '000002_second.up.sql',
    ]);
    const bad = await runCli(['migrate', 'create', 'drop;table', '--dir', dir]);
    expect(bad).toMatchObject({ code: 1, stderr: 'error: invalid migration name "drop;table": use letters, digits and underscores\n' });
  });
});
