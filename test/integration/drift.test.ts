// Drift: every kind of hand change the issue lists is made in a real database, `plan --detailed-exitcode`
// exits 2 naming the object, why, and the statement that fixes it; `apply` then converges (the next plan is
// empty). The users are this file's own (roles are cluster-wide): SUPERUSER and BYPASSRLS are given to them only.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { applyFile, DEMO_POLICIES, demoDatabase, demoEnv, login, policyFile, type DemoDatabase } from '../helpers/demo.js';

interface PlanChange {
  object: string;
  action: string;
  effect: string;
  drift: boolean;
  reason?: string;
  sql: string[];
}

let db: DemoDatabase;
let file: string;
let reader: string;
let readerB: string;
let A: string;
let B: string;

/** What `plan` prints on stderr when it answers from the converged record (src/apply/converged.ts). */
const CONVERGED_NOTE = /^note: the catalog is as the apply of .* left it/m;

/**
 * Every plan here follows an apply of the same file that converged, so it first checks the converged record: that
 * record must be there, and every hand change below must make the check miss (no note) and the full comparison
 * run. (test/integration/converged.test.ts compares the two answers directly.)
 */
async function plan(...flags: string[]): Promise<{ code: number; changes: PlanChange[]; summary: Record<string, number>; stderr: string }> {
  const [record] = await db.sql`SELECT count(*)::int AS n FROM tenantctl.converged`;
  expect(record?.['n']).toBe(1);
  const r = await runCli(['plan', file, '--format', 'json', '--detailed-exitcode', ...flags], { env: demoEnv(db) });
  expect(r.stderr).not.toMatch(CONVERGED_NOTE);
  const json = JSON.parse(r.stdout || '{"changes":[],"summary":{}}') as { changes: PlanChange[]; summary: Record<string, number> };
  return { code: r.code, changes: json.changes, summary: json.summary, stderr: r.stderr };
}

const brief = (c: PlanChange): [string, string, string, string | undefined, string[]] => [c.object, c.action, c.effect, c.reason, c.sql];

/** apply fixes it: afterwards the plan is empty (exit 0). */
async function expectConverges(): Promise<void> {
  const applied = await applyFile(db, file);
  expect(applied.stderr).not.toMatch(/error/);
  expect(applied.code).toBe(0);
  // The apply recorded the catalog as converged (whether the next plan answers from that record depends on
  // roles that other test files create meanwhile: roles are cluster-wide; converged.test.ts has its own server).
  const [record] = await db.sql`SELECT count(*)::int AS n FROM tenantctl.converged`;
  expect(record?.['n']).toBe(1);
  const after = await runCli(['plan', file, '--detailed-exitcode'], { env: demoEnv(db) });
  expect(after).toMatchObject({ code: 0, stdout: 'No changes.\n' });
}

async function personaReader(user: string): Promise<string> {
  const rows = await db.sql`
    SELECT g.rolname::text AS name FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
     WHERE u.rolname = ${user} AND g.rolname LIKE 'tenantctl\\_%\\_reader' AND pg_catalog.to_regnamespace(left(g.rolname, -7)) IS NOT NULL`;
  expect(rows).toHaveLength(1);
  return rows[0]?.['name'] as string;
}

beforeAll(async () => {
  db = await demoDatabase('drift');
  const suffix = db.name.slice(-10);
  A = `drift_a_${suffix}`;
  B = `drift_b_${suffix}`;
  const text = readFileSync(DEMO_POLICIES, 'utf8')
    .replace('  - name: alice\n', `  - name: ${A}\n`)
    .replace('  - name: bob\n    password: { env: DEMO_PASSWORD }\n    tenant: globex\n    access: read\n', `  - name: ${B}\n    password: { env: DEMO_PASSWORD }\n    tenant: globex\n    access: readwrite\n`)
    .replace(/  - name: charlie\n(    .*\n)+?(?=\n)/, '');
  expect(text).not.toMatch(/alice|bob|charlie/);
  file = policyFile(text);
  const r = await applyFile(db, file);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  reader = await personaReader(A);
  readerB = await personaReader(B);
  expect(reader).not.toBe(readerB);
});

afterAll(async () => {
  await db.drop();
  const { adminUrl } = await import('../helpers/db.js');
  const postgres = (await import('postgres')).default;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    for (const role of [A, B]) await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`);
  } finally {
    await admin.end();
  }
});

describe('a freshly applied database', () => {
  it('plans empty: exit 0 with --detailed-exitcode and --fail-on widening', async () => {
    const r = await runCli(['plan', file, '--detailed-exitcode', '--fail-on', 'widening'], { env: demoEnv(db) });
    expect(r).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    const full = await runCli(['plan', file, '--detailed-exitcode', '--fail-on', 'widening', '--full'], { env: demoEnv(db) });
    expect(full).toEqual({ code: 0, stdout: 'No changes.\n', stderr: '' });
  });
});

describe('drift made by hand is detected with its fix, and apply converges', () => {
  it('a managed policy altered', async () => {
    const [p] = await db.sql`SELECT polname::text AS name FROM pg_policy WHERE polrelid = 'public.orders'::regclass AND polname LIKE 'tenantctl\\_%' AND polcmd = 'r' LIMIT 1`;
    const name = p?.['name'] as string;
    await db.sql.unsafe(`ALTER POLICY "${name}" ON public.orders USING (true)`);
    const r = await plan();
    expect(r.code).toBe(2);
    const step = r.changes.find((c) => c.object === `policy public.orders ${name}`);
    expect(step && brief(step).slice(0, 4)).toEqual([`policy public.orders ${name}`, 'replace', 'review', 'drift: the policy was changed outside tenantctl']);
    expect(step?.sql[0]).toBe(`DROP POLICY "${name}" ON "public"."orders"`);
    expect(step?.sql[1]).toMatch(new RegExp(`^CREATE POLICY "${name}" ON "public"."orders" AS PERMISSIVE FOR SELECT TO "tenantctl_\\w+_owner" USING \\(`));
    expect(r.changes).toHaveLength(1);
    expect(r.summary['drift']).toBe(1);
    await expectConverges();
  });

  it('a managed policy dropped', async () => {
    const [p] = await db.sql`SELECT polname::text AS name FROM pg_policy WHERE polrelid = 'public.customers'::regclass AND polname LIKE 'tenantctl\\_%' LIMIT 1`;
    const name = p?.['name'] as string;
    await db.sql.unsafe(`DROP POLICY "${name}" ON public.customers`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map((c) => [c.object, c.action, c.effect])).toEqual([[`policy public.customers ${name}`, 'create', 'widens']]);
    expect(r.changes[0]?.sql[0]).toMatch(new RegExp(`^CREATE POLICY "${name}" ON "public"."customers"`));
    await expectConverges();
  });

  it('an extra policy on a governed table', async () => {
    await db.sql.unsafe(`CREATE POLICY backdoor ON public.payments FOR SELECT TO PUBLIC USING (true)`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      ['policy public.payments backdoor', 'drop', 'narrows', 'drift: policy not managed by tenantctl (permissive, for public)', ['DROP POLICY "backdoor" ON "public"."payments"']],
    ]);
    await expectConverges();
    expect(await db.sql`SELECT count(*)::int AS n FROM pg_policy WHERE polname = 'backdoor'`).toEqual([{ n: 0 }]);
  });

  it('row security disabled on one table and not forced on another', async () => {
    await db.sql.unsafe(`ALTER TABLE public.orders DISABLE ROW LEVEL SECURITY; ALTER TABLE public.products NO FORCE ROW LEVEL SECURITY`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      ['row security on public.orders', 'update', 'narrows', undefined, ['ALTER TABLE "public"."orders" ENABLE ROW LEVEL SECURITY']],
      ['row security on public.products', 'update', 'narrows', undefined, ['ALTER TABLE "public"."products" FORCE ROW LEVEL SECURITY']],
    ]);
    await expectConverges();
  });

  it('grants by hand: to PUBLIC on a governed table, to a managed login on a column and on a persona view', async () => {
    const schema = reader.replace(/_reader$/, '');
    await db.sql.unsafe(`GRANT SELECT ON public.orders TO PUBLIC; GRANT SELECT (credit_card) ON public.customers TO "${A}"; GRANT SELECT ON "${schema}".customers TO "${B}"`);
    const r = await plan();
    expect(r.code).toBe(2);
    const why = (who: string): string => `drift: granted outside tenantctl to ${who}, who may read only through a persona`;
    expect(r.changes.map(brief)).toEqual([
      ['privileges on public.customers for ' + A, 'drop', 'narrows', why(A), [`REVOKE SELECT ("credit_card") ON TABLE "public"."customers" FROM "${A}"`]],
      ['privileges on public.orders for public', 'drop', 'narrows', why('PUBLIC'), ['REVOKE SELECT ON TABLE "public"."orders" FROM PUBLIC']],
      [`privileges on ${schema}.customers for ${B}`, 'drop', 'narrows', why(B), [`REVOKE SELECT ON TABLE "${schema}"."customers" FROM "${B}"`]],
    ]);
    // Narrowing only: --fail-on widening passes.
    expect((await plan('--fail-on', 'widening')).code).toBe(2); // --detailed-exitcode still says "changes"
    const failOnly = await runCli(['plan', file, '--fail-on', 'widening'], { env: demoEnv(db) });
    expect(failOnly.code).toBe(0);
    await expectConverges();
  });

  it("a persona's grant revoked by hand", async () => {
    const schema = reader.replace(/_reader$/, '');
    await db.sql.unsafe(`REVOKE SELECT ON "${schema}".orders FROM "${reader}"`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([[`privileges on ${schema}.orders for ${reader}`, 'create', 'widens', undefined, [`GRANT SELECT ON TABLE "${schema}"."orders" TO "${reader}"`]]]);
    // The fix widens: --fail-on widening exits 2, and apply --fail-on widening refuses and changes nothing.
    expect((await runCli(['plan', file, '--fail-on', 'widening'], { env: demoEnv(db) })).code).toBe(2);
    const refused = await runCli(['apply', file, '--yes', '--fail-on', 'widening'], { env: demoEnv(db) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: refusing to apply with --fail-on widening: 1 step would widen access or need review; nothing was applied\n');
    expect(await db.sql`SELECT has_table_privilege(${reader}, ${`"${schema}".orders`}, 'SELECT') AS ok`).toEqual([{ ok: false }]);
    await expectConverges();
  });

  it('a persona view replaced', async () => {
    const schema = reader.replace(/_reader$/, '');
    // Same columns and types, but the name column now shows the hidden cost price.
    const cols = (await db.sql`SELECT attname::text AS c FROM pg_attribute WHERE attrelid = ${`"${schema}".products`}::regclass AND attnum > 0 ORDER BY attnum`).map((r) => r['c'] as string);
    expect(cols).toEqual(['id', 'org', 'name', 'description', 'price', 'created_at']);
    await db.sql.unsafe(`CREATE OR REPLACE VIEW "${schema}".products AS SELECT ${cols.map((c) => (c === 'name' ? 'cost_price::text AS name' : c)).join(', ')} FROM public.products`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map((c) => [c.object, c.action, c.effect, c.reason])).toEqual([[`view ${schema}.products`, 'replace', 'review', 'drift: the view was changed outside tenantctl']]);
    expect(r.changes[0]?.sql[0]).toBe(`DROP VIEW "${schema}"."products"`);
    expect(r.changes[0]?.sql[1]).toMatch(/^CREATE VIEW .* FROM "public"."products"$/);
    expect(r.changes[0]?.sql[1]).not.toContain('cost_price');
    await expectConverges();
  });

  it('a managed login made SUPERUSER and BYPASSRLS', async () => {
    await db.sql.unsafe(`ALTER ROLE "${A}" SUPERUSER BYPASSRLS`);
    try {
      const r = await plan();
      expect(r.code).toBe(2);
      expect(r.changes.map(brief)).toEqual([[`role ${A}`, 'update', 'narrows', 'drift: the role gained privileges outside tenantctl', [`ALTER ROLE "${A}" NOSUPERUSER NOBYPASSRLS`]]]);
      await expectConverges();
    } finally {
      await db.sql.unsafe(`ALTER ROLE "${A}" NOSUPERUSER NOBYPASSRLS`);
    }
  });

  it("memberships: a login given another persona's reader, and a login taken out of its own", async () => {
    await db.sql.unsafe(`GRANT "${readerB}" TO "${A}"; REVOKE "${readerB}" FROM "${B}"`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      [`membership ${B} in ${readerB}`, 'create', 'widens', undefined, [`GRANT "${readerB}" TO "${B}"`]],
      [`membership ${A} in ${readerB}`, 'drop', 'narrows', undefined, [`REVOKE "${readerB}" FROM "${A}"`]],
    ]);
    await expectConverges();
  });

  it('a search_path changed', async () => {
    await db.sql.unsafe(`ALTER ROLE "${A}" IN DATABASE "${db.name}" SET search_path = public`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      [`search_path of ${A}`, 'update', 'neutral', undefined, [`ALTER ROLE "${A}" IN DATABASE "${db.name}" SET search_path = "${reader.replace(/_reader$/, '')}"`]],
    ]);
    await expectConverges();
  });

  it('the principals table edited: a tenant changed, a row deleted', async () => {
    await db.sql`UPDATE tenantctl.principals SET tenant = 'stark' WHERE role = ${A}`;
    await db.sql`DELETE FROM tenantctl.principals WHERE role = ${B}`;
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map((c) => [c.object, c.action, c.effect])).toEqual([
      [`principal ${A}`, 'update', 'review'],
      [`principal ${B}`, 'create', 'widens'],
    ]);
    expect(r.changes[0]?.sql[0]).toContain(`VALUES ('${A}', 'user', 'acme',`);
    await expectConverges();
    expect(await db.sql`SELECT role::text, tenant FROM tenantctl.principals ORDER BY role`).toEqual([
      { role: A, tenant: 'acme' },
      { role: B, tenant: 'globex' },
    ]);
  });

  it('markdown for a pull-request comment names the drift', async () => {
    await db.sql.unsafe(`ALTER TABLE public.orders NO FORCE ROW LEVEL SECURITY`);
    const r = await runCli(['plan', file, '--format', 'markdown', '--detailed-exitcode'], { env: demoEnv(db) });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('| update | `row security on public.orders` | narrows |  |\n');
    expect(r.stdout).toContain('ALTER TABLE "public"."orders" FORCE ROW LEVEL SECURITY;');
    await expectConverges();
  });
});

// tenantctl's runtime schema: every row policy calls its lookups, and they read its principals table. A hand
// change there changes what every login sees without touching a governed table; plan must name it (it used to
// say "No changes."), and apply must put back exactly what the last apply recorded.
describe("drift in tenantctl's runtime schema is detected and put back", () => {
  const functionDef = async (name: string): Promise<string> =>
    ((await db.sql.unsafe(`SELECT pg_get_functiondef('tenantctl.${name}'::regprocedure) AS d`))[0]?.['d'] as string);
  const ordersOf = async (user: string): Promise<string[]> => {
    const sql = login(db, user);
    try {
      return (await sql.unsafe('SELECT DISTINCT org FROM orders ORDER BY org')).map((r) => r['org'] as string);
    } finally {
      await sql.end();
    }
  };

  it('a lookup function replaced (attr returns another tenant): the login read it; plan names it; apply restores the definition', async () => {
    const original = await functionDef('attr(text)');
    expect(await ordersOf(A)).toEqual(['acme']);
    await db.sql.unsafe(`CREATE OR REPLACE FUNCTION tenantctl.attr(attribute text) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
                         SET search_path = pg_catalog, pg_temp AS $$ SELECT 'globex'::text $$`);
    expect(await ordersOf(A)).toEqual(['globex']);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      ['schema tenantctl (runtime)', 'update', 'review', 'drift: changed outside tenantctl: function tenantctl.attr(attribute text)', [original]],
    ]);
    expect(r.summary['drift']).toBe(1);
    await expectConverges();
    expect(await functionDef('attr(text)')).toBe(original);
    expect(await ordersOf(A)).toEqual(['acme']);
  });

  it('principals opened: a policy that shows and writes every row, UPDATE granted, row security not forced', async () => {
    await db.sql.unsafe(`CREATE POLICY backdoor ON tenantctl.principals FOR ALL TO PUBLIC USING (true) WITH CHECK (true)`);
    await db.sql.unsafe(`GRANT UPDATE (tenant) ON tenantctl.principals TO "${A}"`);
    await db.sql.unsafe(`GRANT INSERT ON tenantctl.principals TO PUBLIC`);
    await db.sql.unsafe(`ALTER TABLE tenantctl.principals NO FORCE ROW LEVEL SECURITY`);
    // What it allowed: the login moves itself to another tenant.
    const sql = login(db, A);
    try {
      await sql.unsafe(`UPDATE tenantctl.principals SET tenant = 'globex' WHERE role = session_user`);
    } finally {
      await sql.end();
    }
    expect(await ordersOf(A)).toEqual(['globex']);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map((c) => [c.object, c.action, c.effect, c.reason])).toEqual([
      [
        'schema tenantctl (runtime)',
        'update',
        'review',
        'drift: changed outside tenantctl: row security on table tenantctl.principals, privileges on table tenantctl.principals, policy backdoor on tenantctl.principals',
      ],
      [`principal ${A}`, 'update', 'review', undefined],
    ]);
    expect(r.changes[0]?.sql).toEqual([
      'ALTER TABLE "tenantctl"."principals" FORCE ROW LEVEL SECURITY',
      'REVOKE INSERT ON TABLE "tenantctl"."principals" FROM PUBLIC CASCADE',
      `REVOKE UPDATE ("tenant") ON TABLE "tenantctl"."principals" FROM "${A}" CASCADE`,
      'DROP POLICY "backdoor" ON "tenantctl"."principals"',
    ]);
    await expectConverges();
    expect(await ordersOf(A)).toEqual(['acme']);
    const again = login(db, A);
    try {
      await expect(again.unsafe(`UPDATE tenantctl.principals SET tenant = 'globex' WHERE role = session_user`)).rejects.toMatchObject({
        code: '42501',
        message: 'permission denied for table principals',
      });
    } finally {
      await again.end();
    }
    expect(await db.sql`SELECT polname::text AS name FROM pg_policy WHERE polrelid = 'tenantctl.principals'::regclass ORDER BY 1`).toEqual([
      { name: 'manage' },
      { name: 'own_row' },
    ]);
  });

  it('objects added to the schema (a view of every principal, a trigger and its function): dropped', async () => {
    await db.sql.unsafe(`CREATE VIEW tenantctl.everyone AS SELECT role, tenant FROM tenantctl.principals`);
    await db.sql.unsafe(`GRANT SELECT ON tenantctl.everyone TO PUBLIC`);
    await db.sql.unsafe(`CREATE FUNCTION tenantctl.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    await db.sql.unsafe(`CREATE TRIGGER touch BEFORE UPDATE ON tenantctl.principals FOR EACH ROW EXECUTE FUNCTION tenantctl.touch()`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      ['schema tenantctl (runtime)', 'update', 'review', 'drift: changed outside tenantctl: trigger touch on tenantctl.principals', ['DROP TRIGGER "touch" ON "tenantctl"."principals"']],
      ['function tenantctl.touch()', 'drop', 'narrows', 'drift: not created by tenantctl (schema tenantctl holds its runtime only)', ['DROP FUNCTION "tenantctl"."touch"()']],
      ['view tenantctl.everyone', 'drop', 'narrows', 'drift: not created by tenantctl (schema tenantctl holds its runtime only)', ['DROP VIEW "tenantctl"."everyone"']],
    ]);
    await expectConverges();
    expect(await db.sql`SELECT to_regclass('tenantctl.everyone') IS NULL AS gone, to_regprocedure('tenantctl.touch()') IS NULL AS fn_gone`).toEqual([{ gone: true, fn_gone: true }]);
  });

  it("EXECUTE on a lookup revoked from PUBLIC and another lookup's owner changed: granted and owned again", async () => {
    const [{ owner } = { owner: '' }] = await db.sql<{ owner: string }[]>`SELECT pg_get_userbyid(proowner)::text AS owner FROM pg_proc WHERE oid = 'tenantctl.visible()'::regprocedure`;
    await db.sql.unsafe(`REVOKE EXECUTE ON FUNCTION tenantctl.attr(text) FROM PUBLIC`);
    await db.sql.unsafe(`ALTER FUNCTION tenantctl.visible() OWNER TO "${B}"`);
    await expect(ordersOf(A)).rejects.toMatchObject({ code: '42501', message: 'permission denied for function attr' });
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.changes.map(brief)).toEqual([
      [
        'schema tenantctl (runtime)',
        'update',
        'review',
        'drift: changed outside tenantctl: privileges on function tenantctl.attr(attribute text), function tenantctl.visible()',
        [`ALTER FUNCTION "tenantctl"."visible"() OWNER TO "${owner}"`, 'GRANT EXECUTE ON FUNCTION "tenantctl"."attr"(attribute text) TO PUBLIC'],
      ],
    ]);
    await expectConverges();
    expect(await ordersOf(A)).toEqual(['acme']);
  });
});

describe('the tenant registry', () => {
  it('grants on its tables to PUBLIC or a managed login: revoked (a login listed every tenant and could unfreeze its own)', async () => {
    await db.sql.unsafe(`GRANT USAGE ON SCHEMA tenant_registry TO PUBLIC`);
    await db.sql.unsafe(`GRANT SELECT ON tenant_registry.tenants TO PUBLIC`);
    await db.sql.unsafe(`GRANT UPDATE (status) ON tenant_registry.tenants TO "${A}"`);
    const sql = login(db, A);
    try {
      expect((await sql.unsafe('SELECT count(*)::int AS n FROM tenant_registry.tenants'))[0]?.['n']).toBeGreaterThan(1);
      const r = await plan();
      expect(r.code).toBe(2);
      const why = 'who may not read or write the tenant registry (the lookups read it for them)';
      // In the catalog's grant order: column, schema, table.
      expect(r.changes.map(brief)).toEqual([
        [`privileges on tenant_registry.tenants for ${A}`, 'drop', 'narrows', `drift: granted outside tenantctl to ${A}, ${why}`, [`REVOKE UPDATE ("status") ON TABLE "tenant_registry"."tenants" FROM "${A}"`]],
        ['schema privileges on tenant_registry for public', 'drop', 'narrows', `drift: granted outside tenantctl to PUBLIC, ${why}`, ['REVOKE USAGE ON SCHEMA "tenant_registry" FROM PUBLIC']],
        ['privileges on tenant_registry.tenants for public', 'drop', 'narrows', `drift: granted outside tenantctl to PUBLIC, ${why}`, ['REVOKE SELECT ON TABLE "tenant_registry"."tenants" FROM PUBLIC']],
      ]);
      await expectConverges();
      await expect(sql.unsafe('SELECT count(*) FROM tenant_registry.tenants')).rejects.toMatchObject({ code: '42501', message: 'permission denied for schema tenant_registry' });
    } finally {
      await sql.end();
    }
  });
});

describe('flag errors', () => {
  it('--allow-review without --fail-on: exit 1 before connecting, nothing changed', async () => {
    const r = await runCli(['plan', file, '--allow-review'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: --allow-review only makes sense with --fail-on widening\n' });
    const a = await runCli(['apply', file, '--yes', '--allow-review'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(a).toEqual({ code: 1, stdout: '', stderr: 'error: --allow-review only makes sense with --fail-on widening\n' });
    expect((await runCli(['plan', file, '--detailed-exitcode'], { env: demoEnv(db) })).code).toBe(0);
  });
});
