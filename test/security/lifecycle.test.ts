// Fail-closed probes that change state (each on this file's own database): a login with no principals row, a
// tenant archived or frozen under an open session, a principals row deleted under an open session, and a user
// revoked (apply --prune) while its session stays open.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEMO_PASSWORD, login } from '../helpers/demo.js';
import { denied, probe, type SecurityDb, securityDatabase } from './fixture.js';


let sec: SecurityDb;
let ghost = '';
const opened: postgres.Sql[] = [];
const open = (user: string): postgres.Sql => {
  const s = login(sec.db, user);
  opened.push(s);
  return s;
};
const COUNTS = `SELECT (SELECT count(*) FROM customers)::int AS c, (SELECT count(*) FROM orders)::int AS o, (SELECT count(*) FROM order_items)::int AS i, (SELECT count(*) FROM events)::int AS e, (SELECT count(*) FROM organizations)::int AS g`;

beforeAll(async () => {
  sec = await securityDatabase('sec_life');
  ghost = `sec_ghost_${sec.db.name.slice(-6)}`;
  const schema = await sec.schemaOf('alice');
  await sec.db.sql.unsafe(`CREATE ROLE "${ghost}" LOGIN PASSWORD '${DEMO_PASSWORD}'`);
  await sec.db.sql.unsafe(`GRANT "${schema}_reader" TO "${ghost}"`);
  await sec.db.sql.unsafe(`ALTER ROLE "${ghost}" IN DATABASE "${sec.db.name}" SET search_path = "${schema}"`);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.end()));
  await sec?.cleanup();
  const { adminUrl } = await import('../helpers/db.js');
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  if (ghost) await admin.unsafe(`DROP ROLE IF EXISTS "${ghost}"`);
  await admin.end();
});

describe('fail closed', () => {
  it('a login in a persona reader role but with no principals row sees zero rows everywhere', async () => {
    expect(await probe(sec.db, ghost, COUNTS)).toEqual({ rows: [{ c: 0, o: 0, i: 0, e: 0, g: 0 }] });
    expect(await probe(sec.db, ghost, `SELECT tenantctl.attr('tenant') AS t, tenantctl.visible() AS v, tenantctl.writable_attr('tenant') AS w`)).toEqual({ rows: [{ t: null, v: false, w: null }] });
  });

  it('a tenant archived under an open session: the next statement of that session sees nothing', async () => {
    const s = open('charlie');
    expect((await s.unsafe(COUNTS))[0]).toEqual({ c: 10, o: 34, i: 68, e: 1, g: 1 });
    await sec.db.sql`UPDATE tenant_registry.tenants SET status = 'archived' WHERE slug = 'stark'`;
    try {
      expect((await s.unsafe(COUNTS))[0]).toEqual({ c: 0, o: 0, i: 0, e: 0, g: 0 });
    } finally {
      await sec.db.sql`UPDATE tenant_registry.tenants SET status = 'active' WHERE slug = 'stark'`;
    }
    expect((await s.unsafe(COUNTS))[0]).toEqual({ c: 10, o: 34, i: 68, e: 1, g: 1 });
  });

  it('a tenant frozen under an open session: reads go on, every write fails', async () => {
    const s = open(sec.rw);
    await sec.db.sql`UPDATE tenant_registry.tenants SET status = 'frozen' WHERE slug = 'acme'`;
    try {
      expect((await s`SELECT count(*)::int AS n FROM customers`)[0]).toEqual({ n: 10 });
      const frozen = { code: '42501', message: 'tenant "acme" is frozen: writes are not allowed' };
      await expect(s`UPDATE customers SET first_name = first_name`).rejects.toMatchObject(frozen);
      await expect(s`DELETE FROM support_tickets`).rejects.toMatchObject(frozen);
      // order_items' filter has no top-level tenant equality: its write checks keep writable().
      await expect(s`DELETE FROM order_items`).rejects.toMatchObject(frozen);
      await expect(s`SELECT tenantctl.writable_attr('tenant')`).rejects.toMatchObject(frozen);
      await expect(s`INSERT INTO events (org, note) VALUES ('acme', 'x')`).rejects.toMatchObject(frozen);
    } finally {
      await sec.db.sql`UPDATE tenant_registry.tenants SET status = 'active' WHERE slug = 'acme'`;
    }
    expect((await sec.db.sql`SELECT count(*)::int AS n FROM public.support_tickets WHERE org = 'acme'`)[0]).toEqual({ n: 50 });
  });

  it('a principals row deleted under an open session: nothing from the next statement on', async () => {
    const s = open('bob');
    expect((await s.unsafe(COUNTS))[0]).toEqual({ c: 10, o: 34, i: 68, e: 1, g: 1 });
    const [row] = await sec.db.sql`DELETE FROM tenantctl.principals WHERE role = 'bob' RETURNING *`;
    try {
      expect((await s.unsafe(COUNTS))[0]).toEqual({ c: 0, o: 0, i: 0, e: 0, g: 0 });
    } finally {
      await sec.db.sql`INSERT INTO tenantctl.principals ${sec.db.sql(row as Record<string, unknown>)}`;
    }
  });

  // Found by this suite: apply --prune run by the operator (owner of the data with CREATEROLE, not a superuser)
  // failed on `DROP OWNED BY "<login>"` with 42501. The plan now revokes explicitly and drops the role.
  it('the operator can revoke a user with apply --prune', async () => {
    const r = await revoke(sec.rwGlobex, sec.db.operatorUrl);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a user revoked by apply --prune while its session is open reads nothing more, and cannot log in again', async () => {
    const s = open(sec.app);
    await s`SELECT set_config('app.current_tenant', 'globex', false)`;
    expect((await s`SELECT count(*)::int AS n FROM customers`)[0]).toEqual({ n: 10 });
    const r = await revoke(sec.app, sec.db.url);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await sec.db.sql`SELECT rolname FROM pg_roles WHERE rolname = ${sec.app}`).toEqual([]);
    const after = await s`SELECT count(*)::int AS n FROM customers`.then(
      (rows) => ({ rows: [...rows] }),
      (e: { code: string; message: string }) => ({ error: { code: e.code, message: e.message } }),
    );
    // Its membership and its search_path schema are gone, so the view no longer resolves.
    expect(after).toEqual(denied('relation "customers" does not exist', '42P01'));
    expect(await probe(sec.db, sec.app, 'SELECT 1')).toMatchObject({ error: { code: '28P01' } });
  });
});

/** Apply the suite's file without `name` (a user or the app), with --prune, as the login of `url`. */
async function revoke(name: string, url: string) {
  const doc = parse(sec.policiesText) as { users: { name: string }[]; apps?: { name: string }[]; assignments: unknown[] };
  const current = await sec.db.sql`SELECT role::text FROM tenantctl.principals`;
  doc.users = doc.users.filter((u) => u.name !== name && current.some((c) => c['role'] === u.name));
  doc.apps = (doc.apps ?? []).filter((a) => a.name !== name && current.some((c) => c['role'] === a.name));
  if (doc.apps.length === 0) delete doc.apps;
  const { runCli } = await import('../helpers/cli.js');
  const { policyFile } = await import('../helpers/demo.js');
  return runCli(['apply', policyFile(stringify(doc)), '--yes', '--prune'], { env: { DATABASE_URL: url, DEMO_PASSWORD } });
}
