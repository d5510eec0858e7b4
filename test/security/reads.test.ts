// Adversarial reads: every query shape a tenant user might use to see another tenant's rows, a masked value
// or a denied column. Each probe is a fresh password login over TCP (see fixture.ts) and compares with
// ground truth read by the superuser. Complements test/integration/demo-policies.test.ts (not repeated here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denied, probe, truth, type Outcome, type SecurityDb, securityDatabase } from './fixture.js';

let sec: SecurityDb;
beforeAll(async () => {
  sec = await securityDatabase('sec_reads');
});
afterAll(async () => {
  await sec?.cleanup();
});

const MASK = `'***-**-' || right(ssn, 4)`;

interface ReadProbe {
  name: string;
  as?: 'alice' | 'bob' | 'charlie';
  sql: string;
  /** Superuser SQL giving the rows the user must see; $1 is the user's tenant. */
  truth?: string;
  expect?: Outcome;
}

const TENANT = { alice: 'acme', bob: 'globex', charlie: 'stark' } as const;

const PROBES: ReadProbe[] = [
  { name: 'table alias and GROUP BY', sql: `SELECT c.org AS o, count(*)::int AS n FROM customers c GROUP BY 1`, truth: `SELECT org AS o, count(*)::int AS n FROM public.customers WHERE org = $1 GROUP BY 1` },
  { name: 'TABLE syntax', as: 'bob', sql: `SELECT id FROM (TABLE orders) t ORDER BY id`, truth: `SELECT id FROM public.orders WHERE org = $1 ORDER BY id` },
  { name: 'recursive CTE over orders', sql: `WITH RECURSIVE r(id, n) AS (SELECT id, 1 FROM orders UNION ALL SELECT id, n + 1 FROM r WHERE n < 2) SELECT count(*)::int AS n FROM r`, truth: `SELECT (2 * count(*))::int AS n FROM public.orders WHERE org = $1` },
  { name: 'data-modifying-free CTE referenced twice', sql: `WITH c AS MATERIALIZED (SELECT org FROM customers) SELECT (SELECT count(*) FROM c)::int AS a, (SELECT count(DISTINCT org) FROM c)::int AS b`, truth: `SELECT count(*)::int AS a, 1 AS b FROM public.customers WHERE org = $1` },
  { name: 'scalar subquery in the select list', as: 'charlie', sql: `SELECT (SELECT count(*) FROM orders)::int AS n`, truth: `SELECT count(*)::int AS n FROM public.orders WHERE org = $1` },
  { name: 'correlated EXISTS', sql: `SELECT count(*)::int AS n FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)`, truth: `SELECT count(*)::int AS n FROM public.customers c WHERE org = $1 AND EXISTS (SELECT 1 FROM public.orders o WHERE o.customer_id = c.id)` },
  { name: 'NOT EXISTS cannot reveal foreign order_items', sql: `SELECT count(*)::int AS n FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = i.order_id)`, expect: { rows: [{ n: 0 }] } },
  { name: 'LEFT JOIN payments to orders', sql: `SELECT o.id, p.amount FROM orders o LEFT JOIN payments p ON p.order_id = o.id ORDER BY o.id, p.amount`, truth: `SELECT o.id, p.amount FROM public.orders o LEFT JOIN public.payments p ON p.order_id = o.id WHERE o.org = $1 ORDER BY o.id, p.amount` },
  { name: 'FULL JOIN of items and products', as: 'bob', sql: `SELECT count(*)::int AS n FROM order_items i FULL JOIN products p ON p.id = i.product_id`, truth: `SELECT count(*)::int AS n FROM (SELECT i.* FROM public.order_items i JOIN public.orders o ON o.id = i.order_id WHERE o.org = $1) i FULL JOIN (SELECT * FROM public.products WHERE org = $1) p ON p.id = i.product_id` },
  { name: 'LATERAL join', sql: `SELECT c.id, x.n FROM customers c, LATERAL (SELECT count(*)::int AS n FROM orders o WHERE o.customer_id = c.id) x ORDER BY c.id`, truth: `SELECT c.id, (SELECT count(*)::int FROM public.orders o WHERE o.customer_id = c.id) AS n FROM public.customers c WHERE c.org = $1 ORDER BY c.id` },
  { name: 'self join on the view', sql: `SELECT count(*)::int AS n FROM customers a JOIN customers b ON a.org <> b.org`, expect: { rows: [{ n: 0 }] } },
  { name: 'UNION of every org column', sql: `SELECT org FROM customers UNION SELECT org FROM orders UNION SELECT org FROM products UNION SELECT org FROM support_tickets UNION SELECT name FROM organizations UNION SELECT org FROM events`, truth: `SELECT $1::text AS org` },
  { name: 'aggregate sum(amount) over payments', sql: `SELECT sum(amount)::text AS s FROM payments`, truth: `SELECT sum(p.amount)::text AS s FROM public.payments p JOIN public.orders o ON o.id = p.order_id WHERE o.org = $1` },
  { name: 'aggregate with FILTER on another tenant', sql: `SELECT count(*) FILTER (WHERE org = 'globex')::int AS n FROM orders`, expect: { rows: [{ n: 0 }] } },
  { name: 'HAVING', sql: `SELECT org, count(*)::int AS n FROM support_tickets GROUP BY org HAVING count(*) > 0`, truth: `SELECT org, count(*)::int AS n FROM public.support_tickets WHERE org = $1 GROUP BY org` },
  { name: 'GROUPING SETS and ROLLUP', sql: `SELECT org, status, count(*)::int AS n FROM orders GROUP BY ROLLUP (org, status) ORDER BY GROUPING(org, status), status`, truth: `SELECT org, status, count(*)::int AS n FROM public.orders WHERE org = $1 GROUP BY ROLLUP (org, status) ORDER BY GROUPING(org, status), status` },
  { name: 'window function over the whole table', sql: `SELECT DISTINCT org, count(*) OVER ()::int AS n FROM customers`, truth: `SELECT org, count(*)::int AS n FROM public.customers WHERE org = $1 GROUP BY org` },
  { name: 'window lag/lead of masked ssn', sql: `SELECT id, lag(ssn) OVER (ORDER BY id) AS prev FROM customers ORDER BY id`, truth: `SELECT id, lag(${MASK}) OVER (ORDER BY id) AS prev FROM public.customers WHERE org = $1 ORDER BY id` },
  { name: 'DISTINCT ON', sql: `SELECT DISTINCT ON (status) status, id FROM orders ORDER BY status, id`, truth: `SELECT DISTINCT ON (status) status, id FROM public.orders WHERE org = $1 ORDER BY status, id` },
  { name: 'predicate on the real value of a masked column matches nothing', sql: `SELECT count(*)::int AS n FROM customers WHERE ssn ~ '^[0-9]{3}-'`, expect: { rows: [{ n: 0 }] } },
  { name: 'equality with a real SSN of her own tenant matches nothing', sql: `SELECT id FROM customers WHERE ssn = (SELECT '123-45-1234')`, expect: { rows: [] } },
  { name: 'ORDER BY a masked column orders masked values', sql: `SELECT ssn FROM customers ORDER BY ssn, id`, truth: `SELECT ${MASK} AS ssn FROM public.customers WHERE org = $1 ORDER BY 1, id` },
  { name: 'min/max/string_agg of masked ssn', sql: `SELECT min(ssn) AS a, max(ssn) AS b, string_agg(ssn, ',' ORDER BY id) AS c FROM customers`, truth: `SELECT min(${MASK}) AS a, max(${MASK}) AS b, string_agg(${MASK}, ',' ORDER BY id) AS c FROM public.customers WHERE org = $1` },
  { name: 'to_jsonb of a whole row: no credit_card, ssn masked', sql: `SELECT to_jsonb(c) AS j FROM customers c ORDER BY id LIMIT 1`, truth: `SELECT to_jsonb(x) AS j FROM (SELECT id, org, first_name, last_name, email, phone, ${MASK} AS ssn, created_at FROM public.customers WHERE org = $1 ORDER BY id LIMIT 1) x` },
  { name: 'whole-row reference as text', sql: `SELECT c::text AS t FROM products c ORDER BY id LIMIT 1`, truth: `SELECT x::text AS t FROM (SELECT id, org, name, description, price, created_at FROM public.products WHERE org = $1 ORDER BY id LIMIT 1) x` },
  { name: 'denied column in WHERE', sql: `SELECT count(*) FROM customers WHERE credit_card IS NOT NULL`, expect: denied('column "credit_card" does not exist', '42703') },
  { name: 'denied column in ORDER BY', sql: `SELECT id FROM products ORDER BY cost_price`, expect: denied('column "cost_price" does not exist', '42703') },
  { name: 'denied column in an aggregate', sql: `SELECT max(margin) FROM products`, expect: denied('column "margin" does not exist', '42703') },
  { name: 'denied column through a qualified alias', sql: `SELECT c.credit_card FROM customers c`, expect: denied('column c.credit_card does not exist', '42703') },
  { name: 'denied column in a window PARTITION BY', sql: `SELECT count(*) OVER (PARTITION BY credit_card) FROM customers`, expect: denied('column "credit_card" does not exist', '42703') },
  { name: 'denied column in HAVING', sql: `SELECT org FROM products GROUP BY org HAVING sum(cost_price) > 0`, expect: denied('column "cost_price" does not exist', '42703') },
  { name: 'denied column in a CTE', sql: `WITH x AS (SELECT credit_card FROM customers) SELECT * FROM x`, expect: denied('column "credit_card" does not exist', '42703') },
  { name: 'SELECT * of every readable table has exactly the visible columns', sql: `SELECT table_name::text AS t, string_agg(column_name::text, ',' ORDER BY ordinal_position) AS c FROM information_schema.columns WHERE table_schema = current_schema() GROUP BY 1 ORDER BY 1`, expect: { rows: [
    { t: 'customers', c: 'id,org,first_name,last_name,email,phone,ssn,created_at' },
    { t: 'events', c: 'id,org,note' },
    { t: 'order_items', c: 'id,order_id,product_id,quantity,unit_price,created_at' },
    { t: 'orders', c: 'id,org,customer_id,status,total_amount,created_at,updated_at' },
    { t: 'organizations', c: 'name,created_at' },
    { t: 'payments', c: 'id,order_id,amount,payment_method,status,processed_at,created_at' },
    { t: 'products', c: 'id,org,name,description,price,created_at' },
    { t: 'support_tickets', c: 'id,org,customer_id,subject,status,created_at' },
  ] } },
  { name: 'schema-qualified base table public.products', sql: `SELECT * FROM public.products`, expect: denied('permission denied for table products') },
  { name: 'schema-qualified base table through a join', sql: `SELECT count(*) FROM orders o JOIN public.customers c ON c.id = o.customer_id`, expect: denied('permission denied for table customers') },
  { name: 'base partition public.events_globex', sql: `SELECT * FROM public.events_globex`, expect: denied('permission denied for table events_globex') },
  { name: 'events through the view: own partition rows only', sql: `SELECT org, note FROM events ORDER BY note`, truth: `SELECT org, note FROM public.events WHERE org = $1 ORDER BY note` },
  { name: 'ONLY on the events view', sql: `SELECT count(*)::int AS n FROM ONLY events`, truth: `SELECT count(*)::int AS n FROM public.events WHERE org = $1` },
  { name: 'division-by-zero oracle on another tenant finds nothing', sql: `SELECT count(*)::int AS n FROM customers WHERE 1 / (CASE WHEN org = 'globex' THEN 0 ELSE 1 END) = 1`, truth: `SELECT count(*)::int AS n FROM public.customers WHERE org = $1` },
  { name: 'error message of a failing cast carries her own value only', sql: `SELECT org::int FROM customers`, expect: { error: { code: '22P02', message: 'invalid input syntax for type integer: "acme"' } } },
  { name: 'error message of a failing cast over a masked column carries the mask', sql: `SELECT ssn::int FROM customers ORDER BY id`, expect: { error: { code: '22P02', message: 'invalid input syntax for type integer: "***-**-' } } },
  { name: 'rows returned by a set-returning function over the view', sql: `SELECT count(*)::int AS n FROM customers, generate_series(1, 2)`, truth: `SELECT (2 * count(*))::int AS n FROM public.customers WHERE org = $1` },
  { name: 'TABLESAMPLE on the view is refused', sql: `SELECT * FROM customers TABLESAMPLE SYSTEM (100)`, expect: { error: { code: '0A000', message: 'TABLESAMPLE clause can only be applied to tables and materialized views' } } },
];

describe('reads: each probe a fresh password login compared with the superuser ground truth', () => {
  for (const p of PROBES) {
    const user = p.as ?? 'alice';
    it(`${user}: ${p.name}`, async () => {
      const got = await probe(sec.db, user, p.sql);
      if (p.truth) {
        const want = await truth(sec.db, p.truth, [TENANT[user]]);
        expect(got).toEqual({ rows: want });
        expect(want.length).toBeGreaterThan(0);
      } else if (p.expect && 'error' in p.expect && p.name.includes('carries the mask')) {
        expect(got).toMatchObject({ error: { code: p.expect.error.code } });
        const message = (got as { error: { message: string } }).error.message;
        expect(message).toMatch(/^invalid input syntax for type integer: "\*\*\*-\*\*-\d{4}"$/);
      } else {
        expect(got).toEqual(p.expect);
      }
    });
  }
});

describe("another persona's objects", () => {
  it("alice cannot read the readwrite user's persona schema", async () => {
    const schema = await sec.schemaOf(sec.rw);
    expect(schema).not.toBe(await sec.schemaOf('alice'));
    expect(await probe(sec.db, 'alice', `SELECT * FROM "${schema}".customers`)).toEqual(denied(`permission denied for schema ${schema}`));
  });

  it("alice cannot read the app's persona schema, even with search_path set to it", async () => {
    const schema = await sec.schemaOf(sec.app);
    expect(await probe(sec.db, 'alice', [`SET LOCAL search_path = "${schema}"`, `SELECT * FROM orders`])).toEqual(denied('relation "orders" does not exist', '42P01'));
  });

  it("the readwrite user's persona cannot be reached by setting role to its reader", async () => {
    const schema = await sec.schemaOf(sec.rw);
    expect(await probe(sec.db, 'alice', `SET ROLE "${schema}_reader"`)).toEqual(denied(`permission denied to set role "${schema}_reader"`));
  });
});

describe('leaky functions (RAISE NOTICE) see only her own rows, wherever they appear', () => {
  const LEAK = `CREATE FUNCTION pg_temp.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$ BEGIN RAISE NOTICE 'leak:%', $1; RETURN true; END $$`;
  const cases: [string, string][] = [
    ['in a JOIN condition', `SELECT count(*) FROM orders o JOIN customers c ON pg_temp.leak(c.org || '/' || o.org)`],
    ['in ORDER BY', `SELECT id FROM support_tickets ORDER BY pg_temp.leak(org || '/' || subject)`],
    ['in a window', `SELECT count(*) OVER (PARTITION BY pg_temp.leak(org)) FROM products`],
    ['in HAVING over an aggregate', `SELECT org FROM orders GROUP BY org HAVING pg_temp.leak(string_agg(id::text, ','))`],
    ['in an aggregate FILTER', `SELECT count(*) FILTER (WHERE pg_temp.leak(p.order_id::text)) FROM payments p`],
    ['in a subquery of a filter on a child table', `SELECT count(*) FROM order_items WHERE product_id IN (SELECT id FROM products WHERE pg_temp.leak(org))`],
    ['on the partitioned events table', `SELECT count(*) FROM events WHERE pg_temp.leak(org || ':' || note)`],
  ];
  for (const [where, sql] of cases) {
    it(where, async () => {
      const notices: string[] = [];
      const got = await probe(sec.db, 'alice', [LEAK, sql], { notices });
      expect(got).toHaveProperty('rows');
      expect(notices.length).toBeGreaterThan(0);
      const leaked = notices.map((n) => n.replace(/^leak:/, '')).join('\n');
      expect(leaked).not.toMatch(/globex|stark/);
      const foreignIds = await truth(sec.db, `SELECT id::text AS id FROM public.orders WHERE org <> 'acme'`);
      for (const { id } of foreignIds) expect(leaked).not.toContain(String(id));
    });
  }
});

describe('EXPLAIN', () => {
  it('EXPLAIN VERBOSE shows the mask and the filter expressions, never another tenant value (documented limit)', async () => {
    const got = await probe(sec.db, 'alice', `EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM customers WHERE org = 'acme'`);
    const plan = (got as { rows: Record<string, unknown>[] }).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain(`('***-**-'::text || "right"(customers.ssn, 4))`);
    expect(plan).toContain(`tenantctl.attr('tenant'::text)`);
    expect(plan).not.toMatch(/globex|stark|\d{3}-\d{2}-\d{4}/);
  });

  it('EXPLAIN ANALYZE returns only her row counts, and at most a count of filtered-out rows (documented limit)', async () => {
    const got = await probe(sec.db, 'alice', [`SET LOCAL enable_indexscan = off`, `SET LOCAL enable_bitmapscan = off`, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM customers`]);
    const plan = (got as { rows: Record<string, unknown>[] }).rows.map((r) => r['QUERY PLAN']).join('\n');
    const [{ own, other }] = (await truth(sec.db, `SELECT count(*) FILTER (WHERE org = 'acme')::int AS own, count(*) FILTER (WHERE org <> 'acme')::int AS other FROM public.customers`)) as [{ own: number; other: number }];
    expect(plan).toMatch(new RegExp(`Seq Scan on customers \\(actual rows=${own}(\\.00)? loops=1\\)`));
    // The one thing it tells: how many rows the row filter removed (see SECURITY.md, "Row counts").
    expect(plan).toContain(`Rows Removed by Filter: ${other}`);
    expect(plan).not.toMatch(/globex|stark/);
  });
});
