// A plan against a database that has nothing of tenantctl's yet: every object created, in a valid order.
import { beforeAll, describe, expect, test } from 'vitest';
import type { DesiredState, Persona } from '../../../src/compile/types.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { catalog, desiredOf, FIXED_SCRAM, planOf, SHOP } from '../helpers/catalog.js';

const YAML = `version: 1
users:
  - name: alice
    tenant: acme
    password: { env: PW }
policies:
  - name: iso
    type: row_filter
    tables: [customers, orders, products]
    filter: "org = {user.tenant}"
  - name: mask-ssn
    type: column_mask
    table: customers
    column: ssn
    mask: "'***-**-' || right(ssn, 4)"
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]
  - name: no-products
    type: table_deny
    tables: [products]
assignments:
  - { policy: iso, to: all }
  - { policy: mask-ssn, to: all }
  - { policy: hide-cc, to: all }
  - { policy: no-products, to: all }
`;

/** What kind of object a step is about, from its `object`. */
function kind(s: Step): string {
  const prefixes = ['schema tenantctl (runtime)', 'role', 'membership', 'schema privileges', 'schema', 'row security', 'view', 'privileges on', 'sequence', 'policy', 'search_path', 'principal'];
  return prefixes.find((p) => s.object.startsWith(`${p} `) || s.object === p) ?? s.object;
}

let desired: DesiredState;
let persona: Persona;
let result: Plan;
const EMPTY = catalog({ registryTenants: ['acme'], tables: SHOP });

beforeAll(async () => {
  desired = await desiredOf(YAML, EMPTY);
  persona = desired.personas[0] as Persona;
  result = planOf(desired, EMPTY);
});

const find = (object: string): Step => {
  const s = result.steps.find((x) => x.object === object);
  if (!s) throw new Error(`no step ${object}; have ${result.steps.map((x) => x.object).join(' | ')}`);
  return s;
};

describe('plan on an empty catalog', () => {
  test('no errors, no notes', () => {
    expect(result.errors).toEqual([]);
    expect(result.notes).toEqual([]);
    expect(desired.personas).toHaveLength(1);
  });

  test('steps run in dependency order: runtime, roles, memberships, settings, principals, schemas, row security, grants, views, policies', () => {
    const phases = result.steps.map((s) => s.phase);
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    const kinds = result.steps.map(kind).filter((k, i, all) => all[i - 1] !== k);
    expect(kinds).toEqual([
      'schema tenantctl (runtime)',
      'role',
      'membership',
      'search_path',
      'principal',
      'schema',
      'row security',
      'schema privileges',
      'view',
      'privileges on',
      'policy',
    ]);
    expect(result.steps.every((s) => s.action === 'create' || s.object.startsWith('row security'))).toBe(true);
  });

  test('every object exactly once', () => {
    const p = persona.id;
    expect(result.steps.map((s) => s.object)).toEqual([
      'schema tenantctl (runtime)',
      'role alice',
      `role tenantctl_${p}_owner`,
      `role tenantctl_${p}_reader`,
      `membership alice in tenantctl_${p}_reader`,
      'search_path of alice',
      'principal alice',
      `schema tenantctl_${p}`,
      'row security on public.customers',
      'row security on public.orders',
      'row security on public.products',
      `schema privileges on tenantctl_${p} for tenantctl_${p}_reader`,
      `schema privileges on tenantctl_${p} for tenantctl_${p}_owner`,
      `schema privileges on public for tenantctl_${p}_owner`,
      `view tenantctl_${p}.customers`,
      `view tenantctl_${p}.orders`,
      `privileges on public.customers for tenantctl_${p}_owner`,
      `privileges on public.orders for tenantctl_${p}_owner`,
      `policy public.customers tenantctl_${p}`,
      `policy public.orders tenantctl_${p}`,
    ]);
  });

  test('the runtime step runs the runtime SQL', () => {
    expect(find('schema tenantctl (runtime)').sql).toEqual(['SELECT 1 -- "tenant_registry"']);
  });

  test('row security: ENABLE and FORCE on every governed table, denied ones included', () => {
    expect(find('row security on public.products').sql).toEqual([
      'ALTER TABLE "public"."products" ENABLE ROW LEVEL SECURITY',
      'ALTER TABLE "public"."products" FORCE ROW LEVEL SECURITY',
    ]);
  });

  test('the RLS policy is written TO the view owner with the compiled predicate', () => {
    const p = persona.id;
    expect(find(`policy public.customers tenantctl_${p}`).sql).toEqual([
      `CREATE POLICY "tenantctl_${p}" ON "public"."customers" AS PERMISSIVE FOR SELECT TO "tenantctl_${p}_owner" USING ((org = (SELECT tenantctl.attr('tenant'))))`,
    ]);
    expect(result.steps.filter((s) => s.object.startsWith('policy '))).toHaveLength(2);
  });

  test('column grants to the view owner: visible columns and what masks read, never denied ones', () => {
    const p = persona.id;
    expect(find(`privileges on public.customers for tenantctl_${p}_owner`).sql).toEqual([
      `GRANT SELECT ("id", "name", "org", "ssn") ON TABLE "public"."customers" TO "tenantctl_${p}_owner"`,
    ]);
    expect(find(`privileges on public.orders for tenantctl_${p}_owner`).sql).toEqual([
      `GRANT SELECT ("customer_id", "id", "org", "total") ON TABLE "public"."orders" TO "tenantctl_${p}_owner"`,
    ]);
    expect(find(`schema privileges on public for tenantctl_${p}_owner`).sql).toEqual([`GRANT USAGE ON SCHEMA "public" TO "tenantctl_${p}_owner"`]);
    expect(find(`schema privileges on tenantctl_${p} for tenantctl_${p}_reader`).sql).toEqual([`GRANT USAGE ON SCHEMA "tenantctl_${p}" TO "tenantctl_${p}_reader"`]);
    expect(result.steps.flatMap((s) => s.sql).filter((q) => q.includes('credit_card'))).toEqual([]);
  });

  test('the view lists visible columns in table order with the mask in place', () => {
    const p = persona.id;
    expect(find(`view tenantctl_${p}.customers`).sql).toEqual([
      `CREATE VIEW "tenantctl_${p}"."customers" AS SELECT "id", "org", "name", ('***-**-' || right(ssn, 4)) AS "ssn" FROM "public"."customers"`,
      `ALTER VIEW "tenantctl_${p}"."customers" OWNER TO "tenantctl_${p}_owner"`,
      `COMMENT ON VIEW "tenantctl_${p}"."customers" IS 'managed by tenantctl: "public"."customers" as persona ${p} sees it'`,
      `GRANT SELECT ON "tenantctl_${p}"."customers" TO "tenantctl_${p}_reader"`,
    ]);
  });

  test('schema, membership, search_path and principal row', () => {
    const p = persona.id;
    expect(find(`schema tenantctl_${p}`).sql).toEqual([
      `CREATE SCHEMA "tenantctl_${p}"`,
      `COMMENT ON SCHEMA "tenantctl_${p}" IS 'managed by tenantctl: views of persona ${p} (alice)'`,
    ]);
    expect(find(`membership alice in tenantctl_${p}_reader`).sql).toEqual([`GRANT "tenantctl_${p}_reader" TO "alice"`]);
    expect(find('search_path of alice').sql).toEqual([`ALTER ROLE "alice" IN DATABASE "appdb" SET search_path = "tenantctl_${p}"`]);
    expect(find('principal alice').sql).toEqual([
      `INSERT INTO tenantctl.principals (role, kind, tenant, attributes, context) VALUES ('alice', 'user', 'acme', '{}'::jsonb, '{}'::jsonb) ON CONFLICT (role) DO UPDATE SET kind = EXCLUDED.kind, tenant = EXCLUDED.tenant, attributes = EXCLUDED.attributes, context = EXCLUDED.context`,
    ]);
  });

  test('persona roles are NOLOGIN and unprivileged', () => {
    const p = persona.id;
    expect(find(`role tenantctl_${p}_owner`).sql[0]).toBe(
      `CREATE ROLE "tenantctl_${p}_owner" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT -1`,
    );
  });

  test('records: runtime hash, password, every view and policy', () => {
    const p = persona.id;
    const kinds = /^(runtime$|password |view |policy )/;
    expect(result.records.map((r) => r.object).filter((o) => kinds.test(o))).toEqual([
      'runtime',
      'password alice',
      `view tenantctl_${p}.customers`,
      `policy public.customers tenantctl_${p}`,
      `view tenantctl_${p}.orders`,
      `policy public.orders tenantctl_${p}`,
    ]);
    expect(result.records.find((r) => r.object === 'password alice')).toEqual({ object: 'password alice', desired: 'scram', render: { kind: 'value', value: FIXED_SCRAM } });
  });
});

describe('passwords in the plan', () => {
  test('sql carries the SCRAM verifier; display redacts it; the plaintext appears nowhere', () => {
    const step = find('role alice');
    expect(step.sql).toEqual([
      `CREATE ROLE "alice" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT -1 PASSWORD '${FIXED_SCRAM}'`,
      `COMMENT ON ROLE "alice" IS 'managed by tenantctl: user of tenant acme'`,
    ]);
    expect(step.display).toEqual([
      `CREATE ROLE "alice" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT -1 PASSWORD '<redacted>'`,
      `COMMENT ON ROLE "alice" IS 'managed by tenantctl: user of tenant acme'`,
    ]);
    expect(step.effect).toBe('widens');
    const everything = JSON.stringify(result);
    expect(everything).not.toContain('secret-pw');
    expect(JSON.stringify(result.steps.map((s) => s.display))).not.toContain('SCRAM-SHA-256');
  });

  test('the verifier is computed from the plaintext by the scram option', () => {
    const seen: string[] = [];
    const p = planOf(desired, EMPTY, { scram: (pw) => (seen.push(pw), FIXED_SCRAM) });
    expect(seen).toEqual(['secret-pw']);
    expect(p.steps.find((s) => s.object === 'role alice')?.sql[0]).toContain(`PASSWORD '${FIXED_SCRAM}'`);
  });
});

describe('readwrite personas', () => {
  test('four policies per readable table; the frozen check where a write is checked (INSERT and UPDATE WITH CHECK, DELETE USING), in the tenant lookup itself', async () => {
    const rw = await desiredOf(YAML.replace('    password: { env: PW }\n', '    password: { env: PW }\n    access: readwrite\n'), EMPTY);
    const p = (rw.personas[0] as Persona).id;
    const r = planOf(rw, EMPTY);
    const policies = r.steps.filter((s) => s.object.startsWith('policy public.orders '));
    const rows = "(org = (SELECT tenantctl.attr('tenant')))";
    // The top-level `org = {user.tenant}` is evaluated for every row a write touches: writable_attr() raises for
    // a frozen tenant, so no separate writable() lookup.
    const write = "(org = (SELECT tenantctl.writable_attr('tenant')))";
    expect(policies.map((s) => s.sql)).toEqual([
      [`CREATE POLICY "tenantctl_${p}" ON "public"."orders" AS PERMISSIVE FOR SELECT TO "tenantctl_${p}_owner" USING (${rows})`],
      [`CREATE POLICY "tenantctl_${p}_insert" ON "public"."orders" AS PERMISSIVE FOR INSERT TO "tenantctl_${p}_owner" WITH CHECK (${write})`],
      [`CREATE POLICY "tenantctl_${p}_update" ON "public"."orders" AS PERMISSIVE FOR UPDATE TO "tenantctl_${p}_owner" USING (${rows}) WITH CHECK (${write})`],
      [`CREATE POLICY "tenantctl_${p}_delete" ON "public"."orders" AS PERMISSIVE FOR DELETE TO "tenantctl_${p}_owner" USING (${write})`],
    ]);
    expect(r.steps.filter((s) => s.object.startsWith('policy '))).toHaveLength(8);
    expect(r.steps.find((s) => s.object === `privileges on public.customers for tenantctl_${p}_owner`)?.sql).toEqual([
      `GRANT SELECT ("id", "name", "org", "ssn") ON TABLE "public"."customers" TO "tenantctl_${p}_owner"`,
      `GRANT INSERT ("id", "name", "org") ON TABLE "public"."customers" TO "tenantctl_${p}_owner"`,
      `GRANT UPDATE ("id", "name", "org") ON TABLE "public"."customers" TO "tenantctl_${p}_owner"`,
      `GRANT DELETE ON TABLE "public"."customers" TO "tenantctl_${p}_owner"`,
    ]);
    expect(r.steps.find((s) => s.object === `sequence public.orders_id_seq for tenantctl_${p}_reader`)?.sql).toEqual([
      `GRANT USAGE ON SEQUENCE "public"."orders_id_seq" TO "tenantctl_${p}_reader"`,
    ]);
    expect(r.steps.find((s) => s.object === `view tenantctl_${p}.orders`)?.sql[3]).toBe(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "tenantctl_${p}"."orders" TO "tenantctl_${p}_reader"`,
    );
  });

  test('a filter without a top-level tenant equality keeps the guard and a separate writable() in its write checks', async () => {
    const text = YAML.replace('    password: { env: PW }\n', '    password: { env: PW }\n    access: readwrite\n').replace('filter: "org = {user.tenant}"', 'filter: "org = {user.tenant} OR org IS NULL"');
    const rw = await desiredOf(text, EMPTY);
    const p = (rw.personas[0] as Persona).id;
    const policies = planOf(rw, EMPTY).steps.filter((s) => s.object.startsWith('policy public.orders '));
    const rows = "(SELECT tenantctl.visible()) AND (org = (SELECT tenantctl.attr('tenant')) OR org IS NULL)";
    const write = `${rows} AND (SELECT tenantctl.writable())`;
    expect(policies.map((s) => s.sql)).toEqual([
      [`CREATE POLICY "tenantctl_${p}" ON "public"."orders" AS PERMISSIVE FOR SELECT TO "tenantctl_${p}_owner" USING (${rows})`],
      [`CREATE POLICY "tenantctl_${p}_insert" ON "public"."orders" AS PERMISSIVE FOR INSERT TO "tenantctl_${p}_owner" WITH CHECK (${write})`],
      [`CREATE POLICY "tenantctl_${p}_update" ON "public"."orders" AS PERMISSIVE FOR UPDATE TO "tenantctl_${p}_owner" USING (${rows}) WITH CHECK (${write})`],
      [`CREATE POLICY "tenantctl_${p}_delete" ON "public"."orders" AS PERMISSIVE FOR DELETE TO "tenantctl_${p}_owner" USING (${write})`],
    ]);
  });

  test('a quoted or unqualified default sequence becomes a grant on the right schema and name', async () => {
    const cat = catalog({
      registryTenants: ['acme'],
      tables: { orders: { columns: ['id', 'org'], defaultSequences: ['"Sales"."Order ""Seq"""', 'orders_id_seq'] } },
    });
    const rw = await desiredOf(
      `version: 1
users:
  - name: alice
    tenant: acme
    access: readwrite
policies:
  - name: iso
    type: row_filter
    tables: [orders]
    filter: "org = {user.tenant}"
assignments:
  - { policy: iso, to: all }
`,
      cat,
    );
    const p = (rw.personas[0] as Persona).id;
    const grants = planOf(rw, cat).steps.filter((s) => s.object.startsWith('sequence '));
    expect(grants.map((s) => [s.object, s.sql])).toEqual([
      [`sequence Sales.Order "Seq" for tenantctl_${p}_reader`, [`GRANT USAGE ON SEQUENCE "Sales"."Order ""Seq""" TO "tenantctl_${p}_reader"`]],
      [`sequence public.orders_id_seq for tenantctl_${p}_reader`, [`GRANT USAGE ON SEQUENCE "public"."orders_id_seq" TO "tenantctl_${p}_reader"`]],
    ]);
  });
});
