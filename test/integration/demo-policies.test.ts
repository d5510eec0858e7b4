// The demo_ecommerce policies applied natively, checked as alice, bob, charlie and admin would check them:
// password logins over TCP, then the seed's Quick verification and attempts to get out.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../src/catalog/read.js';
import { ADMIN_PASSWORD, DEMO_POLICIES, demoDatabase, demoEnv, login, type DemoDatabase } from '../helpers/demo.js';
import { runCli } from '../helpers/cli.js';

const USERS = [
  { user: 'alice', tenant: 'acme', first: ['Alice', 'Brian', 'Carmen'] },
  { user: 'bob', tenant: 'globex', first: ['Olivia', 'Marcus', 'Priya'] },
  { user: 'charlie', tenant: 'stark', first: ['Natalie', 'Samuel', 'Ava'] },
] as const;

const TABLES = ['organizations', 'customers', 'products', 'orders', 'order_items', 'payments', 'support_tickets'] as const;

let db: DemoDatabase;
/** As the demo does: apply as the operator (owner of the data, CREATEROLE, not a superuser). */
const applyAsOperator = () => runCli(['apply', DEMO_POLICIES, '--yes'], { env: demoEnv(db, db.operatorUrl) });
const sessions: postgres.Sql[] = [];
function as(user: string, password?: string, onnotice?: (n: postgres.Notice) => void): postgres.Sql {
  const s = login(db, user, password, onnotice);
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  db = await demoDatabase('demo_pol');
  const r = await applyAsOperator();
  // Another test file may create the same demo logins at the same moment: apply plans again then.
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Apply complete: \d+ added, \d+ changed, 0 removed\./);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end()));
  await db.drop();
});

describe('the seed Quick verification, as each user over a password login', () => {
  for (const { user, tenant, first } of USERS) {
    it(`${user} sees only ${tenant}, masked SSNs, and no credit_card column`, async () => {
      const s = as(user);
      expect(await s`SELECT current_user AS u`).toEqual([{ u: user }]);
      expect(await s`SELECT DISTINCT org FROM orders`).toEqual([{ org: tenant }]);
      const rows = await s`SELECT first_name, ssn FROM customers LIMIT 3`;
      expect(rows.map((r) => r['first_name'])).toEqual(first);
      for (const r of rows) expect(r['ssn']).toMatch(/^\*\*\*-\*\*-\d{4}$/);
      await expect(s`SELECT credit_card FROM customers`).rejects.toMatchObject({ code: '42703', message: 'column "credit_card" does not exist' });
      await expect(s`SELECT cost_price FROM products`).rejects.toMatchObject({ message: 'column "cost_price" does not exist' });
      await expect(s`SELECT margin FROM products`).rejects.toMatchObject({ message: 'column "margin" does not exist' });
      const star = await s`SELECT * FROM products LIMIT 1`;
      expect(Object.keys(star[0] ?? {})).toEqual(['id', 'org', 'name', 'description', 'price', 'created_at']);
      const cust = await s`SELECT * FROM customers LIMIT 1`;
      expect(Object.keys(cust[0] ?? {})).toEqual(['id', 'org', 'first_name', 'last_name', 'email', 'phone', 'ssn', 'created_at']);
    });

    it(`${user} sees exactly ${tenant}'s order_items and payments (filtered through their order)`, async () => {
      const s = as(user);
      for (const table of ['order_items', 'payments'] as const) {
        const seen = (await s.unsafe(`SELECT id FROM ${table} ORDER BY id`)).map((r) => r['id']);
        const truth = (await db.sql.unsafe(`SELECT t.id FROM public.${table} t JOIN public.orders o ON o.id = t.order_id WHERE o.org = $1 ORDER BY t.id`, [tenant])).map((r) => r['id']);
        expect(seen.length).toBeGreaterThan(0);
        expect(seen).toEqual(truth);
      }
      for (const table of TABLES) {
        const [own] = await s.unsafe(`SELECT count(*)::int AS n FROM ${table}`);
        expect(own?.['n'], table).toBeGreaterThan(0);
      }
    });
  }

  it('each SSN is the real one masked, not another row', async () => {
    const s = as('alice');
    const seen = await s`SELECT id, ssn FROM customers ORDER BY id`;
    const truth = await db.sql`SELECT id, '***-**-' || right(ssn, 4) AS ssn FROM public.customers WHERE org = 'acme' ORDER BY id`;
    expect(seen).toEqual(truth);
  });

  it('admin, the operator that owns the data and ran apply, logs in and reads no tenant data', async () => {
    const s = as('admin', ADMIN_PASSWORD);
    expect(await s`SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user`).toEqual([{ rolsuper: false, rolcreaterole: true }]);
    for (const table of TABLES) {
      const [row] = await s.unsafe(`SELECT count(*)::int AS n FROM public.${table}`);
      expect(row?.['n'], table).toBe(0);
    }
    // Even through a persona owner it is a member of (to hand over views), nothing: policies key on session_user.
    const [{ schema }] = (await as('alice')`SELECT current_schema() AS schema`) as unknown as [{ schema: string }];
    await s.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL ROLE "${schema}_owner"`);
      expect(await tx.unsafe(`SELECT count(*)::int AS n FROM public.customers`)).toEqual([{ n: 0 }]);
    });
  });

  it('a wrong password is rejected', async () => {
    const s = as('alice', 'Demo1234?');
    await expect(s`SELECT 1`).rejects.toMatchObject({ code: '28P01' });
  });
});

describe('alice tries to get out', () => {
  it('cannot read the base tables, the registry or the runtime bookkeeping', async () => {
    const s = as('alice');
    await expect(s`SELECT * FROM public.customers`).rejects.toMatchObject({ code: '42501', message: 'permission denied for table customers' });
    await expect(s`SELECT * FROM tenant_registry.tenants`).rejects.toMatchObject({ code: '42501' });
    await expect(s`SELECT * FROM tenantctl.applied`).rejects.toMatchObject({ code: '42501' });
    expect(await s`SELECT role, tenant FROM tenantctl.principals`).toEqual([{ role: 'alice', tenant: 'acme' }]);
  });

  it('search_path games and settings change nothing', async () => {
    const s = as('alice');
    await s`SET search_path = public`;
    await expect(s`SELECT count(*) FROM customers`).rejects.toMatchObject({ code: '42501', message: 'permission denied for table customers' });
    await s`RESET search_path`;
    await s.begin(async (tx) => {
      await tx`SET LOCAL app.current_tenant = 'globex'`;
      await tx`SET LOCAL app.current_tenant_id = '00000000-0000-0000-0000-000000000000'`;
      expect(await tx`SELECT DISTINCT org FROM customers`).toEqual([{ org: 'acme' }]);
    });
  });

  it('cannot become bob, a view owner or the table owner', async () => {
    const s = as('alice');
    await expect(s`SET ROLE bob`).rejects.toMatchObject({ code: '42501', message: 'permission denied to set role "bob"' });
    const [owner] = await db.sql`SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenantctl_%_owner' LIMIT 1`;
    await expect(s.unsafe(`SET ROLE "${owner?.['rolname']}"`)).rejects.toMatchObject({ code: '42501' });
    await expect(s`SET ROLE postgres`).rejects.toMatchObject({ code: '42501' });
    await expect(s`SET SESSION AUTHORIZATION bob`).rejects.toMatchObject({ code: '42501' });
  });

  it('setting role to her own reader role keeps her identity: still only acme', async () => {
    const s = as('alice');
    // Roles are cluster-wide: alice may be a member of other test databases' readers too. Hers here is
    // the reader of the persona schema on her search_path.
    const [{ schema }] = (await s`SELECT current_schema() AS schema`) as unknown as [{ schema: string }];
    await s.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL ROLE "${schema}_reader"`);
      expect(await tx`SELECT DISTINCT org FROM customers`).toEqual([{ org: 'acme' }]);
    });
  });

  it('writes, TRUNCATE and DDL are refused for a read-only user', async () => {
    const s = as('alice');
    await expect(s`DELETE FROM customers`).rejects.toMatchObject({ code: '42501' });
    await expect(s`UPDATE customers SET first_name = 'x'`).rejects.toMatchObject({ code: '42501' });
    await expect(s`TRUNCATE customers`).rejects.toMatchObject({ code: '42809', message: '"customers" is not a table' });
    await expect(s`TRUNCATE public.customers`).rejects.toMatchObject({ code: '42501' });
    const [schema] = await s`SELECT current_schema() AS s`;
    await expect(s.unsafe(`CREATE FUNCTION "${schema?.['s']}".f() RETURNS int AS 'SELECT 1' LANGUAGE sql`)).rejects.toMatchObject({ code: '42501' });
    await expect(s`CREATE TABLE public.mine (x int)`).rejects.toMatchObject({ code: '42501' });
    await expect(s`CREATE VIEW public.v AS SELECT 1`).rejects.toMatchObject({ code: '42501' });
  });

  it('a leaky function of her own sees only her rows (RLS runs first)', async () => {
    const leaked = new Set<string>();
    const s = as('alice', undefined, (n) => leaked.add(n.message ?? ''));
    await s.unsafe(`CREATE FUNCTION pg_temp.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$ BEGIN RAISE NOTICE 'leak:%', $1; RETURN true; END $$`);
    await s.unsafe(`SELECT count(*) FROM customers WHERE pg_temp.leak(org)`);
    await s.unsafe(`SELECT count(*) FROM customers WHERE pg_temp.leak(ssn)`);
    await s.unsafe(`SELECT count(*) FROM order_items WHERE pg_temp.leak(order_id::text)`);
    expect(leaked.size).toBeGreaterThan(0);
    const values = [...leaked].map((m) => m.replace(/^leak:/, ''));
    expect(values.filter((v) => /^(globex|stark)$/.test(v))).toEqual([]);
    expect(values.filter((v) => /^\d{3}-\d{2}-\d{4}$/.test(v))).toEqual([]);
    const foreignItems = await db.sql`SELECT t.order_id::text AS id FROM public.order_items t JOIN public.orders o ON o.id = t.order_id WHERE o.org <> 'acme'`;
    expect(values.filter((v) => foreignItems.some((f) => f['id'] === v))).toEqual([]);
  });

  it('CTEs, subqueries, joins, cursors, prepared statements and COPY see only her rows', async () => {
    const s = as('alice');
    expect(await s`WITH c AS (SELECT org FROM customers) SELECT DISTINCT org FROM c`).toEqual([{ org: 'acme' }]);
    expect(await s`SELECT DISTINCT c.org FROM orders o JOIN customers c ON c.id = o.customer_id`).toEqual([{ org: 'acme' }]);
    expect(await s`SELECT count(*)::int AS n FROM customers WHERE org IN ('globex', 'stark')`).toEqual([{ n: 0 }]);
    expect(await s`SELECT count(*)::int AS n FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)`).toEqual([{ n: 0 }]);
    await s.begin(async (tx) => {
      await tx`DECLARE cur CURSOR FOR SELECT DISTINCT org FROM support_tickets`;
      expect(await tx`FETCH ALL FROM cur`).toEqual([{ org: 'acme' }]);
    });
    expect(await s`SELECT DISTINCT org FROM customers WHERE org = ${'globex'}`).toEqual([]);
    const copied = await s.unsafe(`COPY (SELECT DISTINCT org FROM customers) TO STDOUT`).readable();
    let text = '';
    for await (const chunk of copied) text += chunk.toString();
    expect(text).toBe('acme\n');
    await expect(s.unsafe(`COPY public.customers TO STDOUT`).readable().then(async (r) => { for await (const _ of r) void _; })).rejects.toMatchObject({ code: '42501' });
  });

  it('EXPLAIN shows an index condition on the once-per-statement lookup, not other tenants data', async () => {
    const s = as('alice');
    const plan = (await s`EXPLAIN SELECT * FROM customers`).map((r) => r['QUERY PLAN']).join('\n');
    // PostgreSQL 17 renamed InitPlan outputs in EXPLAIN: `$1` became `(InitPlan 2).col1`.
    expect(plan).toMatch(/Index Cond: \(org = (\$\d|\(InitPlan \d\)\.col1)\)/);
    expect(plan).toMatch(/InitPlan \d( \(returns \$\d\))?/);
    expect(plan).not.toMatch(/globex|stark|acme/);
  });
});

describe('re-applying and planning the same file', () => {
  it('a second apply reports No changes. and writes no audit row; plan --detailed-exitcode exits 0', async () => {
    const before = await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'policy.apply'`;
    const again = await applyAsOperator();
    expect(again).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    const after = await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'policy.apply'`;
    expect(after).toEqual(before);
    const plan = await runCli(['plan', DEMO_POLICIES, '--detailed-exitcode'], { env: demoEnv(db, db.operatorUrl) });
    expect(plan).toMatchObject({ code: 0, stdout: 'No changes.\n' });
  });

  it('the first apply left one policy.apply audit row with the plan hash and counts, and no password anywhere', async () => {
    const rows = await db.sql`SELECT actor_id, target_type, target_name, metadata FROM tenant_registry.audit_log WHERE action = 'policy.apply'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_id: 'admin', target_type: 'policy_file', target_name: 'policies.yaml' });
    const meta = rows[0]?.['metadata'] as Record<string, unknown>;
    expect(meta['plan_hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(meta['remove']).toBe(0);
    expect(JSON.stringify(rows)).not.toContain('Demo1234');
    const applied = await db.sql`SELECT string_agg(rendered, ' ') AS all FROM tenantctl.applied`;
    expect(applied[0]?.['all']).not.toContain('Demo1234');
  });

  it('every governed table has ENABLE and FORCE row level security, and the policies use the InitPlan form', async () => {
    const catalog = await db.sql.begin(async (tx) => {
      await tx`SET LOCAL search_path = public`;
      return readCatalog(tx, { schemas: ['public'], registrySchema: 'tenant_registry' });
    });
    const governed = catalog.tables.filter((t) => t.schema === 'public');
    expect(governed.map((t) => [t.name, t.rlsEnabled, t.rlsForced])).toEqual(governed.map((t) => [t.name, true, true]));
    const customers = catalog.policies.filter((p) => p.table === 'customers');
    expect(customers).toHaveLength(1);
    expect(customers[0]?.using).toContain("(org = ( SELECT tenantctl.attr('tenant'::text) AS attr))");
    expect(customers[0]?.command).toBe('r');
  });
});
