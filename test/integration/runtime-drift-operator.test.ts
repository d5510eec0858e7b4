// Runtime drift put back by the operator of `tenantctl demo` (owner of the data with CREATEROLE, not a
// superuser), after a superuser changed schema tenantctl: the lookup replaced, a policy and a privilege added to
// the principals table, a function added. drift.test.ts covers each kind of change as a superuser applier.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEMO_POLICIES, demoDatabase, demoEnv, type DemoDatabase } from '../helpers/demo.js';

let db: DemoDatabase;
const env = (): NodeJS.ProcessEnv => demoEnv(db, db.operatorUrl);

beforeAll(async () => {
  db = await demoDatabase('rtdrift');
  const r = await runCli(['apply', DEMO_POLICIES, '--yes'], { env: env() });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await db.drop();
});

it("the operator's apply puts back a runtime a superuser changed, and drops the superuser's function", async () => {
  const definition = async (): Promise<string> => (await db.sql`SELECT pg_get_functiondef('tenantctl.visible()'::regprocedure) AS d`)[0]?.['d'] as string;
  const original = await definition();
  await db.sql.unsafe(`CREATE OR REPLACE FUNCTION tenantctl.visible() RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
                       SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN true; END $$`);
  await db.sql.unsafe(`CREATE POLICY backdoor ON tenantctl.principals FOR SELECT TO PUBLIC USING (true)`);
  await db.sql.unsafe(`GRANT UPDATE ON tenantctl.principals TO PUBLIC`);
  await db.sql.unsafe(`CREATE FUNCTION tenantctl.peek() RETURNS int LANGUAGE sql AS 'SELECT 1'`);

  const plan = await runCli(['plan', DEMO_POLICIES, '--detailed-exitcode'], { env: env() });
  expect(plan.code).toBe(2);
  expect(plan.stdout).toContain(
    '~ update schema tenantctl (runtime)  (review: effect depends on the data; drift: changed outside tenantctl: function tenantctl.visible(), privileges on table tenantctl.principals, policy backdoor on tenantctl.principals)\n',
  );
  expect(plan.stdout).toContain('- drop function tenantctl.peek()  (narrows access; drift: not created by tenantctl (schema tenantctl holds its runtime only))\n    DROP FUNCTION "tenantctl"."peek"()\n');
  expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 1 to remove.\n');

  const apply = await runCli(['apply', DEMO_POLICIES, '--yes'], { env: env() });
  expect(apply.stderr).toBe('');
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 0 added, 1 changed, 1 removed.\n');
  expect(await runCli(['plan', DEMO_POLICIES, '--detailed-exitcode'], { env: env() })).toMatchObject({ code: 0, stdout: 'No changes.\n' });
  expect(await definition()).toBe(original);
  expect(
    await db.sql`SELECT (SELECT count(*)::int FROM pg_policy WHERE polrelid = 'tenantctl.principals'::regclass) AS policies,
                        has_table_privilege('public', 'tenantctl.principals', 'UPDATE') AS public_update,
                        to_regprocedure('tenantctl.peek()') IS NULL AS peek_gone`,
  ).toEqual([{ policies: 2, public_update: false, peek_gone: true }]);
});
