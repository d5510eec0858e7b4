// Drift: every kind of hand change the issue lists is made in a real database, `plan --detailed-exitcode`
// exits 2 naming the object, why, and the statement that fixes it; `apply` then converges (the next plan is
// empty). The users are this file's own (roles are cluster-wide): SUPERUSER and BYPASSRLS are given to them only.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { applyFile, DEMO_POLICIES, demoDatabase, demoEnv, policyFile, type DemoDatabase } from '../helpers/demo.js';

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

async function plan(...flags: string[]): Promise<{ code: number; changes: PlanChange[]; summary: Record<string, number>; stderr: string }> {
  const r = await runCli(['plan', file, '--format', 'json', '--detailed-exitcode', ...flags], { env: demoEnv(db) });
  const json = JSON.parse(r.stdout || '{"changes":[],"summary":{}}') as { changes: PlanChange[]; summary: Record<string, number> };
  return { code: r.code, changes: json.changes, summary: json.summary, stderr: r.stderr };
}

const brief = (c: PlanChange): [string, string, string, string | undefined, string[]] => [c.object, c.action, c.effect, c.reason, c.sql];

/** apply fixes it: afterwards the plan is empty (exit 0). */
async function expectConverges(): Promise<void> {
  const applied = await applyFile(db, file);
  expect(applied.stderr).not.toMatch(/error/);
  expect(applied.code).toBe(0);
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

describe('flag errors', () => {
  it('--allow-review without --fail-on: exit 1 before connecting, nothing changed', async () => {
    const r = await runCli(['plan', file, '--allow-review'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: --allow-review only makes sense with --fail-on widening\n' });
    const a = await runCli(['apply', file, '--yes', '--allow-review'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(a).toEqual({ code: 1, stdout: '', stderr: 'error: --allow-review only makes sense with --fail-on widening\n' });
    expect((await runCli(['plan', file, '--detailed-exitcode'], { env: demoEnv(db) })).code).toBe(0);
  });
});
