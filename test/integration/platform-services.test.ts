// Seed 004 (fixtures/platform_services): governed tables in four service schemas, text tenant ids (ten_...) mapped
// to registry slugs through a governed accounts.tenants, one policy file for all of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { migrateRegistry, policyFile } from '../helpers/demo.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/platform_services/', import.meta.url));
const read = (f: string): string => readFileSync(join(FIXTURE, f), 'utf8');
const SCHEMAS = ['accounts', 'catalog', 'billing', 'provisioning'];
const TENANT_TABLES = ['accounts.users', 'catalog.products', 'billing.customers', 'billing.orders', 'provisioning.clusters', 'provisioning.resources'];

let db: TestDatabase;
let sfx: string;
let file: string;
let env: Record<string, string>;
const pools: postgres.Sql[] = [];
const tenIds = new Map<string, string>();

function names(text: string): string {
  return text.replace(/\b(svc_console|svc_provisioner|ops_viewer)\b/g, `$1_${sfx}`);
}
function connect(role: string, password: string, max = 1): postgres.Sql {
  const pool = postgres(db.urlFor(`${role}_${sfx}`, password), { max, onnotice: () => {} });
  pools.push(pool);
  return pool;
}
async function asTenant<T>(pool: postgres.Sql, slug: string, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return pool.begin(async (tx) => {
    await tx`SELECT set_config('app.tenant', ${slug}, true)`;
    return work(tx);
  }) as Promise<T>;
}

beforeAll(async () => {
  db = await freshDatabase('services');
  sfx = db.name.slice(-6);
  await db.sql.unsafe(read('schema.sql'));
  await db.sql.unsafe(read('seed.sql'));
  await migrateRegistry(db.url);
  await db.sql.unsafe(read('tenants.sql'));
  for (const r of await db.sql`SELECT slug, id FROM accounts.tenants`) tenIds.set(r['slug'] as string, r['id'] as string);
  file = policyFile(names(read('policies.yaml')));
  env = { DATABASE_URL: db.url, SERVICES_APP_PASSWORD: 'svc-pw', SERVICES_OPS_PASSWORD: 'ops-pw' };
  const r = await runCli(['apply', file, '--yes'], { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db.drop();
  const admin = postgres(db.url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} });
  for (const n of ['svc_console', 'svc_provisioner', 'ops_viewer']) await admin.unsafe(`DROP ROLE IF EXISTS "${n}_${sfx}"`);
  await admin.end();
});

describe('one policy file, four service schemas', () => {
  it('the data uses prefixed text ids', async () => {
    expect([...tenIds.keys()].sort()).toEqual(['contoso', 'fabrikam', 'northwind']);
    for (const id of tenIds.values()) expect(id).toMatch(/^ten_[0-9a-f]{12}$/);
    expect(await db.sql`SELECT id FROM billing.orders ORDER BY id LIMIT 1`).toEqual([{ id: expect.stringMatching(/^ord_[0-9a-f]{12}$/) }]);
  });

  it('forces row security on every table of every governed schema', async () => {
    const rows = await db.sql`SELECT n.nspname || '.' || c.relname AS t, c.relrowsecurity AND c.relforcerowsecurity AS forced
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ${db.sql(SCHEMAS)} AND c.relkind IN ('r', 'p') ORDER BY 1`;
    expect(rows).toEqual(
      ['accounts.tenants', 'accounts.users', 'billing.customers', 'billing.order_items', 'billing.orders', 'catalog.products', 'provisioning.clusters', 'provisioning.resources'].map((t) => ({ t, forced: true })),
    );
  });

  it('an app that names its tenant by slug sees exactly that tenant\'s rows in every schema', async () => {
    const app = connect('svc_console', 'svc-pw', 3);
    for (const [slug, ten] of tenIds) {
      for (const qualified of TENANT_TABLES) {
        const table = qualified.split('.')[1]!;
        const truth = await db.sql.unsafe(`SELECT id FROM ${qualified} WHERE tenant_id = $1 ORDER BY id`, [ten]);
        expect(truth.length).toBeGreaterThan(0);
        const seen = await asTenant(app, slug, (tx) => tx.unsafe(`SELECT id, tenant_id FROM ${table} ORDER BY id`));
        expect({ slug, table, ids: seen.map((r) => r['id']), tenants: [...new Set(seen.map((r) => r['tenant_id']))] }).toEqual({
          slug,
          table,
          ids: truth.map((r) => r['id']),
          tenants: [ten],
        });
      }
      const items = await db.sql`SELECT i.id FROM billing.order_items i JOIN billing.orders o ON o.id = i.order_id WHERE o.tenant_id = ${ten} ORDER BY i.id`;
      expect(await asTenant(app, slug, (tx) => tx`SELECT id FROM order_items ORDER BY id`)).toEqual([...items]);
      expect(await asTenant(app, slug, (tx) => tx`SELECT id, slug FROM tenants`)).toEqual([{ id: ten, slug }]);
    }
  });

  it('no setting, an unknown slug, or the service\'s own ten_ id in place of the slug: zero rows everywhere', async () => {
    const app = connect('svc_console', 'svc-pw');
    const all = ['tenants', 'order_items', ...TENANT_TABLES.map((t) => t.split('.')[1]!)];
    for (const t of all) expect({ t, rows: await app.unsafe(`SELECT count(*)::int AS n FROM ${t}`) }).toEqual({ t, rows: [{ n: 0 }] });
    for (const value of ['initech', tenIds.get('northwind')!]) {
      for (const t of all) {
        expect({ t, value, rows: await asTenant(app, value, (tx) => tx.unsafe(`SELECT count(*)::int AS n FROM ${t}`)) }).toEqual({ t, value, rows: [{ n: 0 }] });
      }
    }
  });

  it('writes stay inside the tenant, across schemas', async () => {
    const app = connect('svc_console', 'svc-pw');
    const northwind = tenIds.get('northwind')!;
    const contoso = tenIds.get('contoso')!;
    await asTenant(app, 'northwind', (tx) => tx`INSERT INTO clusters (id, tenant_id, name, region) VALUES ('clu_new1', ${northwind}, 'nw-3', 'eu-west-1')`);
    await expect(
      asTenant(app, 'northwind', (tx) => tx`INSERT INTO clusters (id, tenant_id, name, region) VALUES ('clu_new2', ${contoso}, 'sneaky', 'eu-west-1')`),
    ).rejects.toMatchObject({ message: 'new row violates row-level security policy for table "clusters"' });
    expect(await asTenant(app, 'contoso', (tx) => tx`UPDATE products SET status = 'archived' WHERE tenant_id = ${northwind}`)).toHaveProperty('count', 0);
    expect(await db.sql`SELECT id, tenant_id FROM provisioning.clusters WHERE id LIKE 'clu_new%'`).toEqual([{ id: 'clu_new1', tenant_id: northwind }]);
    expect(await db.sql`SELECT count(*)::int AS n FROM catalog.products WHERE status = 'archived'`).toEqual([{ n: 0 }]);
  });

  it('billing customers do not exist for the provisioner; its other tables work', async () => {
    const worker = connect('svc_provisioner', 'svc-pw');
    await expect(asTenant(worker, 'contoso', (tx) => tx`SELECT 1 FROM customers`)).rejects.toMatchObject({ code: '42P01', message: 'relation "customers" does not exist' });
    expect(await asTenant(worker, 'contoso', (tx) => tx`SELECT DISTINCT tenant_id FROM resources`)).toEqual([{ tenant_id: tenIds.get('contoso') }]);
  });

  it('a user of one tenant reads that tenant with customer emails and payment methods masked', async () => {
    const ops = connect('ops_viewer', 'ops-pw');
    expect(await ops`SELECT DISTINCT tenant_id FROM orders`).toEqual([{ tenant_id: tenIds.get('northwind') }]);
    expect(await ops`SELECT email, payment_method FROM customers WHERE name = 'Customer 1'`).toEqual([{ email: 'bi***@customer1.example', payment_method: { type: 'card' } }]);
    // A tenant setting means nothing for a user: their tenant is fixed by the file.
    await ops`SET app.tenant = 'contoso'`;
    expect(await ops`SELECT DISTINCT tenant_id FROM orders`).toEqual([{ tenant_id: tenIds.get('northwind') }]);
  });

  it('a second apply of the same file is a no-op', async () => {
    const r = await runCli(['apply', file, '--yes'], { env });
    expect(r).toEqual({ code: 0, stdout: 'No changes.\n', stderr: '' });
  });

  it('a table named like one in another governed schema is refused before anything runs, naming both', async () => {
    const snapshot = (): Promise<postgres.Row[]> =>
      db.sql`SELECT (SELECT count(*)::int FROM pg_policies) AS policies, (SELECT count(*)::int FROM pg_views WHERE schemaname LIKE 'tenantctl\_%') AS views,
        (SELECT count(*)::int FROM tenantctl.applied) AS applied, (SELECT count(*)::int FROM tenant_registry.audit_log) AS audit`;
    const before = await snapshot();
    await db.sql`CREATE TABLE catalog.orders (id text PRIMARY KEY, tenant_id text NOT NULL)`;
    try {
      const r = await runCli(['apply', file, '--yes'], { env });
      const at = `${file}:16:21: error: tables \`billing.orders\` and \`catalog.orders\` are both visible to`;
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter((l) => l.includes('error: tables'))).toEqual(
        [`ops_viewer_${sfx}`, `svc_console_${sfx}`, `svc_provisioner_${sfx}`].map(
          (p) => `${at} ${p}, whose views are named by table name; deny one of them to ${p} (table_deny) or rename one`,
        ),
      );
      expect(await snapshot()).toEqual(before);
      expect(await db.sql`SELECT relrowsecurity FROM pg_class WHERE oid = 'catalog.orders'::regclass`).toEqual([{ relrowsecurity: false }]);
    } finally {
      await db.sql`DROP TABLE catalog.orders`;
    }
    expect((await runCli(['plan', file, '--detailed-exitcode'], { env })).code).toBe(0);
  });
});
