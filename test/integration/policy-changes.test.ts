// Writes by a readwrite user, tenant status, and changing the file: plans, convergence, --dry-run, --prune,
// and files with errors that must change nothing.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { TestDatabase } from '../helpers/db.js';
import { catalogSnapshot } from '../helpers/snapshot.js';
import { applyFile, DEMO_POLICIES, demoDatabase, demoEnv, login, policyFile } from '../helpers/demo.js';

const FIXTURE_TEXT = readFileSync(DEMO_POLICIES, 'utf8');
const DORA = `  - name: dora
    password: { env: DEMO_PASSWORD }
    tenant: acme
    access: readwrite
`;
/** The demo file, plus a readwrite user, with support_tickets left out of tenant-isolation. */
const BASE = FIXTURE_TEXT.replace('tables: [customers, orders, products, support_tickets]', 'tables: [customers, orders, products]').replace(
  'users:\n',
  `users:\n${DORA}`,
);

let db: TestDatabase;
const sessions: postgres.Sql[] = [];
function as(user: string): postgres.Sql {
  const s = login(db, user);
  sessions.push(s);
  return s;
}

function snapshot(): Promise<unknown> {
  return catalogSnapshot(db.sql, ['alice', 'bob', 'charlie', 'dora']);
}

beforeAll(async () => {
  db = await demoDatabase('demo_chg');
  const r = await applyFile(db, policyFile(BASE));
  // Another test file may create the same demo logins at the same moment: apply plans again then.
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end()));
  await db.drop();
});

describe('a readwrite user writes only inside her tenant', () => {
  it('insert, update and delete inside acme work', async () => {
    const s = as('dora');
    const [c] = await s`INSERT INTO customers (org, first_name, last_name, email) VALUES ('acme', 'Dora', 'Explorer', 'dora@acme.test') RETURNING id, org`;
    expect(c?.['org']).toBe('acme');
    const id = c?.['id'] as string;
    expect(await s`UPDATE customers SET last_name = 'Marquez' WHERE id = ${id} RETURNING last_name`).toEqual([{ last_name: 'Marquez' }]);
    const [truth] = await db.sql`SELECT ssn, credit_card, last_name FROM public.customers WHERE id = ${id}`;
    expect(truth).toEqual({ ssn: null, credit_card: null, last_name: 'Marquez' });
    expect((await s`DELETE FROM customers WHERE id = ${id}`).count).toBe(1);
  });

  it('no write can create, move or touch a row of another tenant', async () => {
    const s = as('dora');
    await expect(s`INSERT INTO customers (org, first_name, last_name, email) VALUES ('globex', 'E', 'Vil', 'e@globex.test')`).rejects.toMatchObject({
      code: '42501',
      message: 'new row violates row-level security policy for table "customers"',
    });
    const [mine] = await s`SELECT id FROM customers ORDER BY id LIMIT 1`;
    await expect(s`UPDATE customers SET org = 'globex' WHERE id = ${mine?.['id'] as string}`).rejects.toMatchObject({
      message: 'new row violates row-level security policy for table "customers"',
    });
    const before = await db.sql`SELECT count(*)::int AS n FROM public.customers WHERE org = 'globex'`;
    expect((await s`DELETE FROM customers WHERE org = 'globex'`).count).toBe(0);
    expect((await s`UPDATE customers SET first_name = 'x' WHERE org = 'globex'`).count).toBe(0);
    expect(await db.sql`SELECT count(*)::int AS n FROM public.customers WHERE org = 'globex'`).toEqual(before);
    // A child row pointing at another tenant's order is refused by the children's filter.
    const [foreign] = await db.sql`SELECT o.id AS order_id, p.id AS product_id FROM public.orders o, public.products p WHERE o.org = 'globex' AND p.org = 'acme' LIMIT 1`;
    await expect(s`INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES (${foreign?.['order_id'] as string}, ${foreign?.['product_id'] as string}, 1, 1)`).rejects.toMatchObject({
      message: 'new row violates row-level security policy for table "order_items"',
    });
  });

  it('masked and denied columns cannot be written', async () => {
    const s = as('dora');
    await expect(s`INSERT INTO customers (org, first_name, last_name, email, ssn) VALUES ('acme', 'a', 'b', 'c', '123-45-6789')`).rejects.toMatchObject({
      message: 'cannot insert into column "ssn" of view "customers"',
    });
    await expect(s`UPDATE customers SET ssn = '1'`).rejects.toMatchObject({ message: 'cannot update column "ssn" of view "customers"' });
    await expect(s`UPDATE customers SET credit_card = '4111111111111111'`).rejects.toMatchObject({ message: 'column "credit_card" of relation "customers" does not exist' });
    await expect(s`INSERT INTO products (org, name, price, cost_price) VALUES ('acme', 'x', 1, 1)`).rejects.toMatchObject({ message: 'column "cost_price" of relation "products" does not exist' });
  });

  it('a frozen tenant reads but cannot write; an archived tenant sees nothing; both at once, without DDL', async () => {
    const s = as('dora');
    try {
      await db.sql`UPDATE tenant_registry.tenants SET status = 'frozen' WHERE slug = 'acme'`;
      expect((await s`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(10);
      await expect(s`INSERT INTO customers (org, first_name, last_name, email) VALUES ('acme', 'F', 'Rozen', 'f@acme.test')`).rejects.toMatchObject({
        code: '42501',
        message: 'tenant "acme" is frozen: writes are not allowed',
      });
      await expect(s`UPDATE customers SET first_name = first_name`).rejects.toMatchObject({ message: 'tenant "acme" is frozen: writes are not allowed' });
      await expect(s`DELETE FROM support_tickets`).resolves.toBeDefined();
      await db.sql`UPDATE tenant_registry.tenants SET status = 'archived' WHERE slug = 'acme'`;
      for (const table of ['customers', 'orders', 'order_items', 'organizations']) {
        expect((await s.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0]?.['n'], table).toBe(0);
      }
      expect((await as('alice')`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(0);
      expect((await as('bob')`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(10);
    } finally {
      await db.sql`UPDATE tenant_registry.tenants SET status = 'active' WHERE slug = 'acme'`;
    }
    expect((await s`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(10);
  });

  it('a user without a principals row sees zero rows, never all rows', async () => {
    const schema = (await as('alice')`SELECT current_schema() AS schema`)[0]?.['schema'] as string;
    const reader = `${schema}_reader`;
    const name = `stranger_${db.name}`;
    await db.sql.unsafe(`CREATE ROLE "${name}" LOGIN PASSWORD 'x'; GRANT "${reader}" TO "${name}"; ALTER ROLE "${name}" IN DATABASE "${db.name}" SET search_path = "${reader.replace(/_reader$/, '')}"`);
    const s = postgres(db.urlFor(name, 'x'), { max: 1, onnotice: () => {} });
    try {
      expect((await s`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(0);
      expect((await s`SELECT count(*)::int AS n FROM orders`)[0]?.['n']).toBe(0);
    } finally {
      await s.end();
      await db.sql.unsafe(`DROP ROLE "${name}"`);
    }
  });
});

describe('changing the file', () => {
  it('adding a table to a filter: the plan creates its policy, and the table becomes readable', async () => {
    expect((await as('alice')`SELECT count(*)::int AS n FROM support_tickets`)[0]?.['n']).toBe(0);
    const file = policyFile(BASE.replace('tables: [customers, orders, products]', 'tables: [customers, orders, products, support_tickets]'));
    const plan = await runCli(['plan', file, '--format', 'json', '--detailed-exitcode'], { env: demoEnv(db) });
    expect(plan.code).toBe(2);
    const json = JSON.parse(plan.stdout) as { summary: { add: number }; changes: { object: string; action: string; effect: string; sql: string[] }[] };
    const created = json.changes.filter((c) => c.object.startsWith('policy public.support_tickets'));
    expect(created.map((c) => [c.action, c.effect])).toContainEqual(['create', 'widens']);
    expect(created[0]?.sql[0]).toContain('CREATE POLICY');
    expect((await applyFile(db, file)).code).toBe(0);
    expect(await as('alice')`SELECT DISTINCT org FROM support_tickets`).toEqual([{ org: 'acme' }]);
    expect(await applyFile(db, file)).toMatchObject({ code: 0, stdout: 'No changes.\n' });
  });

  it('assigning mask-ssn-full at a lower priority replaces the views (review) and converges', async () => {
    const text = BASE.replace('tables: [customers, orders, products]', 'tables: [customers, orders, products, support_tickets]') + '  - { policy: mask-ssn-full, to: all, priority: 50 }\n';
    const file = policyFile(text);
    const plan = await runCli(['plan', file], { env: demoEnv(db) });
    expect(plan.stdout).toMatch(/-\/\+ replace view tenantctl_\w+\.customers {2}\(review: effect depends on the data; changed in the file\)/);
    expect(plan.stdout).toContain(`('[RESTRICTED]') AS "ssn"`);
    const records = async (): Promise<Map<string, { x: string; value: string }>> =>
      new Map(
        (await db.sql<{ object: string; x: string; value: string }[]>`SELECT object, xmin::text AS x, desired || ' ' || rendered AS value FROM tenantctl.applied`).map(
          (r) => [r.object, { x: r.x, value: r.value }] as const,
        ),
      );
    const before = await records();
    expect((await applyFile(db, file)).code).toBe(0);
    expect(await as('alice')`SELECT DISTINCT ssn FROM customers`).toEqual([{ ssn: '[RESTRICTED]' }]);
    // The drift record is written where it changed, not rewritten: a record whose value is the same keeps its row
    // version (logins, the untouched views and policies), the replaced customers views get new ones.
    const after = await records();
    const kept = [...after].filter(([object, r]) => before.get(object)?.value === r.value);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.filter(([object, r]) => before.get(object)?.x !== r.x).map(([object]) => object)).toEqual([]);
    const rewritten = [...after].filter(([object, r]) => before.get(object)?.x !== r.x).map(([object]) => object);
    expect(rewritten.some((o) => /customers/.test(o))).toBe(true);
    expect(await applyFile(db, file)).toMatchObject({ code: 0, stdout: 'No changes.\n' });
  });

  it('--dry-run runs everything, then rolls back: the catalog is unchanged', async () => {
    const before = await snapshot();
    const r = await applyFile(db, policyFile(BASE), '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Dry run: every statement ran and was rolled back\. Would apply: \d+ to add, \d+ to change, \d+ to remove\./);
    expect(await snapshot()).toEqual(before);
  });

  it('removing a user without --prune takes its access away and keeps the login; with --prune drops it', async () => {
    const withoutDora = BASE.replace(DORA, '').replace('tables: [customers, orders, products]', 'tables: [customers, orders, products, support_tickets]');
    const file = policyFile(withoutDora);
    const r = await applyFile(db, file);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('note: role dora was created by tenantctl but is no longer in the file');
    const dora = as('dora');
    await expect(dora`SELECT count(*) FROM customers`).rejects.toMatchObject({ code: '42P01' });
    expect(await db.sql`SELECT count(*)::int AS n FROM tenantctl.principals WHERE role = 'dora'`).toEqual([{ n: 0 }]);
    await dora.end();

    const pruned = await applyFile(db, file, '--prune');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('- drop role dora');
    expect(await db.sql`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'dora'`).toEqual([{ n: 0 }]);
    expect(await applyFile(db, file, '--prune')).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    expect(await applyFile(db, policyFile(BASE))).toMatchObject({ code: 0 });
  });

  it('a policy edited by hand shows as drift, and apply puts it back', async () => {
    const [p] = await db.sql`SELECT polname FROM pg_policy WHERE polrelid = 'public.customers'::regclass AND polname LIKE 'tenantctl_%' LIMIT 1`;
    const name = p?.['polname'] as string;
    await db.sql.unsafe(`ALTER POLICY "${name}" ON public.customers USING (true)`);
    const plan = await runCli(['plan', policyFile(BASE), '--detailed-exitcode'], { env: demoEnv(db) });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`-/+ replace policy public.customers ${name}  (review: effect depends on the data; drift: the policy was changed outside tenantctl)`);
    expect((await applyFile(db, policyFile(BASE))).code).toBe(0);
    expect((await as('alice')`SELECT count(DISTINCT org)::int AS n FROM customers`)[0]?.['n']).toBe(1);
  });
});

describe('files with errors change nothing', () => {
  it.each([
    ['an unknown policy in an assignment', (t: string) => t.replace('{ policy: hide-credit-card,', '{ policy: hide-credit-crad,'), /policies\.yaml:\d+:\d+: error: unknown policy `hide-credit-crad`[\s\S]*did you mean `hide-credit-card`\?/],
    ['an unknown column on a live table', (t: string) => t.replace('columns: [credit_card]', 'columns: [credit_crad]'), /policies\.yaml:\d+:\d+: error: unknown column `credit_crad` on customers\n {2}did you mean `credit_card`\?/],
    ['an unknown table', (t: string) => t.replace('tables: [order_items, payments]', 'tables: [order_itemz, payments]'), /policies\.yaml:\d+:\d+: error: unknown table `order_itemz` in schema public\n {2}did you mean `order_items`\?/],
    ['a tenant missing from the registry', (t: string) => t.replace('tenant: globex', 'tenant: globx'), /policies\.yaml:\d+:\d+: error: tenant `globx` is not in the registry \(tenant_registry\.tenants\); register it with `tenantctl tenant create globx`\n {2}did you mean `globex`\?/],
    ['a mask the server rejects (the failing object and statement are named)', (t: string) => t.replace(`mask: "'***-**-' || right(ssn, 4)"`, `mask: "ssn + 1"`), /error: view tenantctl_\w+\.customers: ERROR: operator does not exist: text \+ integer \(SQLSTATE 42883\)[\s\S]*statement: CREATE VIEW/],
    ['a multi-statement expression', (t: string) => t.replace('filter: "org = {user.tenant}"', 'filter: "org = {user.tenant}; DROP TABLE customers"'), /policies\.yaml:\d+:\d+: error: /],
  ])('%s: exit 1 with file:line:column, catalog unchanged', async (_what, edit, message) => {
    const before = await snapshot();
    const r = await applyFile(db, policyFile(edit(BASE)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/nothing was applied/);
    expect(r.stdout).not.toContain('Apply complete');
    expect(await snapshot()).toEqual(before);
  });

  it('a missing password variable is an error that names the variable, not a value', async () => {
    const r = await runCli(['apply', policyFile(BASE), '--yes'], { env: { DATABASE_URL: db.url, OTHER_SECRET: 'changeme' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/policies\.yaml:\d+:\d+: error: environment variable DEMO_PASSWORD is not set \(password of dora\)/);
    expect(r.stderr).not.toContain('changeme');
  });

  it('apply without --yes and without a terminal refuses and changes nothing', async () => {
    const before = await snapshot();
    const text = BASE.replace('access: readwrite', 'access: read');
    const r = await runCli(['apply', policyFile(text)], { env: demoEnv(db) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to apply without confirmation: standard input is not a terminal; pass --yes');
    expect(await snapshot()).toEqual(before);
  });

  it('a database without the registry is refused with the command that fixes it', async () => {
    const r = await runCli(['plan', policyFile(BASE), '--registry-schema', 'no_registry_here'], { env: demoEnv(db) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: the tenant registry is not installed in schema "no_registry_here"');
    expect(r.stderr).toContain('run `tenantctl migrate up` first');
  });

  it('a role of the same name that tenantctl did not create is never touched', async () => {
    await db.sql`CREATE ROLE erin_outsider LOGIN`;
    try {
      const text = BASE.replace('users:\n', 'users:\n  - name: erin_outsider\n    tenant: acme\n');
      const before = await snapshot();
      const r = await applyFile(db, policyFile(text));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: role "erin_outsider" already exists and was not created by tenantctl');
      expect(await snapshot()).toEqual(before);
    } finally {
      await db.sql`DROP ROLE erin_outsider`;
    }
  });
});
