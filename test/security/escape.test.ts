// Adversarial attempts to get out: roles, settings, ALTER ROLE on oneself, search_path and pg_temp shadowing,
// creating objects, server-side files and programs, catalogs and statistics, other backends, other databases,
// the principals table, prepared statements and cursors across a role change. Each probe is a fresh password
// login over TCP (fixture.ts). Complements test/integration/demo-policies.test.ts (not repeated here).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../helpers/demo.js';
import { byMajor, denied, probe, truth, type SecurityDb, securityDatabase } from './fixture.js';

let sec: SecurityDb;
const opened: postgres.Sql[] = [];
beforeAll(async () => {
  sec = await securityDatabase('sec_escape');
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.end()));
  await sec?.cleanup();
});

const ACME = { rows: [{ org: 'acme' }] };
const ORGS = `SELECT DISTINCT org FROM customers UNION SELECT DISTINCT org FROM orders UNION SELECT DISTINCT org FROM events`;

describe('roles and identity', () => {
  it('SET ROLE to the readwrite user of her own tenant is refused', async () => {
    expect(await probe(sec.db, 'alice', `SET ROLE ${sec.rw}`)).toEqual(denied(`permission denied to set role "${sec.rw}"`));
  });
  it('SET ROLE to the app is refused', async () => {
    expect(await probe(sec.db, 'alice', `SET ROLE ${sec.app}`)).toEqual(denied(`permission denied to set role "${sec.app}"`));
  });
  it('SET ROLE to the operator (table owner) is refused', async () => {
    expect(await probe(sec.db, 'alice', `SET ROLE admin`)).toEqual(denied('permission denied to set role "admin"'));
  });
  for (const builtin of ['pg_read_all_data', 'pg_write_server_files', 'pg_signal_backend', 'pg_database_owner']) {
    it(`SET ROLE ${builtin} is refused`, async () => {
      expect(await probe(sec.db, 'alice', `SET ROLE ${builtin}`)).toEqual(denied(`permission denied to set role "${builtin}"`));
    });
  }
  it('SET ROLE to her reader then RESET ROLE: still only acme, current_user back to alice', async () => {
    const schema = await sec.schemaOf('alice');
    expect(await probe(sec.db, 'alice', [`SET ROLE "${schema}_reader"`, `RESET ROLE`, `SELECT current_user::text AS u, (${ORGS} LIMIT 1) AS org`])).toEqual({ rows: [{ u: 'alice', org: 'acme' }] });
  });
  it('SET SESSION AUTHORIZATION to herself is allowed and changes nothing', async () => {
    expect(await probe(sec.db, 'alice', [`SET SESSION AUTHORIZATION alice`, ORGS])).toEqual(ACME);
  });
  it('SET SESSION AUTHORIZATION to the readwrite user is refused', async () => {
    expect(await probe(sec.db, 'alice', `SET SESSION AUTHORIZATION ${sec.rw}`)).toEqual(denied(`permission denied to set session authorization "${sec.rw}"`));
  });
  it('the readwrite user cannot SET ROLE to its own persona owner (the role RLS is written for)', async () => {
    const schema = await sec.schemaOf(sec.rw);
    expect(await probe(sec.db, sec.rw, `SET ROLE "${schema}_owner"`)).toEqual(denied(`permission denied to set role "${schema}_owner"`));
  });
  it('CREATE ROLE and GRANT of her reader role are refused', async () => {
    expect(await probe(sec.db, 'alice', `CREATE ROLE sneaky`)).toEqual(denied('permission denied to create role'));
    const schema = await sec.schemaOf('alice');
    expect(await probe(sec.db, 'alice', `GRANT "${schema}_reader" TO bob`)).toEqual(denied(byMajor(sec.major, `must have admin option on role "${schema}_reader"`, `permission denied to grant role "${schema}_reader"`)));
  });
});

describe('settings', () => {
  const cases: [string, string[]][] = [
    ['SET app.current_tenant (the app setting) at session level', [`SET app.current_tenant = 'globex'`]],
    ['set_config of app.current_tenant, transaction-local', [`SELECT set_config('app.current_tenant', 'globex', true)`]],
    ['set_config of app.current_tenant_id to globex id', []],
    ['set_config of invented tenantctl.* settings', [`SELECT set_config('tenantctl.tenant', 'globex', false)`, `SELECT set_config('tenantctl.role', 'bob', false)`]],
    ['SET search_path to pg_temp first, then the persona', [`SET search_path = pg_temp, tenantctl`]],
  ];
  for (const [name, setup] of cases) {
    it(`${name}: still only acme`, async () => {
      const extra = name.includes('tenant_id') ? [`SELECT set_config('app.current_tenant_id', '${await sec.tenantId('globex')}', true)`] : [];
      const reset = name.includes('search_path') ? [`SET LOCAL search_path = "${await sec.schemaOf('alice')}"`] : [];
      expect(await probe(sec.db, 'alice', [...setup, ...extra, ...reset, ORGS])).toEqual(ACME);
    });
  }
  it('SET row_security = off makes the query fail instead of bypassing row security', async () => {
    expect(await probe(sec.db, 'alice', [`SET row_security = off`, `SELECT count(*) FROM customers`])).toEqual(
      denied('query would be affected by row-level security policy for table "customers"'),
    );
  });
  it('SET session_replication_role is refused', async () => {
    expect(await probe(sec.db, 'alice', `SET session_replication_role = replica`)).toEqual(denied('permission denied to set parameter "session_replication_role"'));
  });
  it('ALTER SYSTEM is refused', async () => {
    expect(await probe(sec.db, 'alice', `ALTER SYSTEM SET row_security = off`, { noTransaction: true })).toEqual(
      denied('permission denied to set parameter "row_security"'),
    );
  });
});

describe('ALTER ROLE on oneself, then reconnect (as the readwrite user, whose settings are this database only)', () => {
  const self = async (statement: string): Promise<void> => {
    const s = login(sec.db, sec.rw);
    try {
      await s.unsafe(statement.replaceAll('$DB', `"${sec.db.name}"`));
    } finally {
      await s.end();
    }
  };
  const restore = async (): Promise<void> => {
    await sec.db.sql.unsafe(`ALTER ROLE "${sec.rw}" IN DATABASE "${sec.db.name}" RESET ALL`);
    await sec.db.sql.unsafe(`ALTER ROLE "${sec.rw}" IN DATABASE "${sec.db.name}" SET search_path = "${await sec.schemaOf(sec.app).then(() => persona)}"`);
  };
  let persona = '';
  beforeAll(async () => {
    persona = await sec.schemaOf(sec.rw);
  });

  it('search_path = public: the next login reads nothing from the base tables', async () => {
    await self(`ALTER ROLE CURRENT_USER IN DATABASE $DB SET search_path = public`);
    try {
      expect(await probe(sec.db, sec.rw, `SELECT count(*) FROM customers`)).toEqual(denied('permission denied for table customers'));
    } finally {
      await restore();
    }
  });
  it('role = her persona reader: the next login keeps her identity and rows', async () => {
    await self(`ALTER ROLE CURRENT_USER IN DATABASE $DB SET role = '${persona}_reader'`);
    try {
      expect(await probe(sec.db, sec.rw, [`SELECT session_user::text AS s, current_user::text AS c, (${ORGS} LIMIT 1) AS org`])).toEqual({
        rows: [{ s: sec.rw, c: `${persona}_reader`, org: 'acme' }],
      });
    } finally {
      await restore();
    }
  });
  it('role = bob: the next login warns and stays herself', async () => {
    await self(`ALTER ROLE CURRENT_USER IN DATABASE $DB SET role = 'bob'`);
    try {
      expect(await probe(sec.db, sec.rw, [`SELECT current_user::text AS c, (${ORGS} LIMIT 1) AS org`])).toEqual({ rows: [{ c: sec.rw, org: 'acme' }] });
    } finally {
      await restore();
    }
  });
  it('row_security = off: the next login fails its queries instead of bypassing', async () => {
    await self(`ALTER ROLE CURRENT_USER IN DATABASE $DB SET row_security = off`);
    try {
      expect(await probe(sec.db, sec.rw, `SELECT count(*) FROM orders`)).toEqual(denied('query would be affected by row-level security policy for table "orders"'));
    } finally {
      await restore();
    }
  });
  it('app.current_tenant as a role default is refused', async () => {
    expect(await probe(sec.db, sec.rw, `ALTER ROLE CURRENT_USER IN DATABASE "${sec.db.name}" SET app.current_tenant = 'globex'`)).toEqual(denied('permission denied to set parameter "app.current_tenant"'));
  });
  it('BYPASSRLS, SUPERUSER, CREATEROLE on herself are refused', async () => {
    expect(await probe(sec.db, sec.rw, `ALTER ROLE CURRENT_USER BYPASSRLS`)).toEqual(denied(byMajor(sec.major, 'must be superuser to change bypassrls attribute', 'permission denied to alter role')));
    expect(await probe(sec.db, sec.rw, `ALTER ROLE CURRENT_USER SUPERUSER`)).toEqual(denied(byMajor(sec.major, 'must be superuser to alter superuser roles or change superuser attribute', 'permission denied to alter role')));
    expect(await probe(sec.db, sec.rw, `ALTER ROLE CURRENT_USER CREATEROLE`)).toEqual(denied(byMajor(sec.major, 'permission denied', 'permission denied to alter role')));
  });
  it("ALTER ROLE on another user's settings is refused", async () => {
    expect(await probe(sec.db, 'alice', `ALTER ROLE bob IN DATABASE "${sec.db.name}" SET search_path = public`)).toEqual(denied(byMajor(sec.major, 'permission denied', 'permission denied to alter role')));
  });
});

describe('pg_temp shadowing', () => {
  it('a temp function named like the runtime lookup does not change the filter', async () => {
    expect(
      await probe(sec.db, 'alice', [
        `CREATE FUNCTION pg_temp.attr(text) RETURNS text LANGUAGE sql AS $$ SELECT 'globex' $$`,
        `CREATE FUNCTION pg_temp.visible() RETURNS boolean LANGUAGE sql AS $$ SELECT true $$`,
        `SET LOCAL search_path = pg_temp, tenantctl, "${await sec.schemaOf('alice')}"`,
        ORGS,
      ]),
    ).toEqual(ACME);
  });
  it('a temp table shadowing customers holds only what she put in it; the persona view still shows acme', async () => {
    const schema = await sec.schemaOf('alice');
    expect(
      await probe(sec.db, 'alice', [`CREATE TEMP TABLE customers (org text)`, `INSERT INTO customers VALUES ('mine')`, `SELECT (SELECT string_agg(org, ',') FROM customers) AS t, (SELECT string_agg(DISTINCT org, ',') FROM "${schema}".customers) AS v`]),
    ).toEqual({ rows: [{ t: 'mine', v: 'acme' }] });
  });
  it('a temp operator = does not replace the one in the policies', async () => {
    expect(
      await probe(sec.db, 'alice', [
        `CREATE FUNCTION pg_temp.yes(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$`,
        `CREATE OPERATOR pg_temp.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.yes)`,
        `SET LOCAL search_path = pg_temp, "${await sec.schemaOf('alice')}"`,
        ORGS,
      ]),
    ).toEqual(ACME);
  });
});

describe('creating objects anywhere', () => {
  it('CREATE FUNCTION in public is refused', async () => {
    expect(await probe(sec.db, 'alice', `CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'`)).toEqual(denied('permission denied for schema public'));
  });
  it('CREATE FUNCTION in the runtime schema is refused', async () => {
    expect(await probe(sec.db, 'alice', `CREATE FUNCTION tenantctl.attr(int) RETURNS text LANGUAGE sql AS 'SELECT 1'`)).toEqual(denied('permission denied for schema tenantctl'));
  });
  it('CREATE TABLE in her own persona schema is refused (readwrite user)', async () => {
    const schema = await sec.schemaOf(sec.rw);
    expect(await probe(sec.db, sec.rw, `CREATE TABLE "${schema}".t (x int)`)).toEqual(denied(`permission denied for schema ${schema}`));
  });
  it('CREATE SCHEMA is refused', async () => {
    expect(await probe(sec.db, 'alice', `CREATE SCHEMA mine`)).toEqual(denied(`permission denied for database ${sec.db.name}`));
  });
  it('CREATE EXTENSION of a trusted extension (pgcrypto) is refused', async () => {
    expect(await probe(sec.db, 'alice', `CREATE EXTENSION pgcrypto`)).toEqual(denied('permission denied to create extension "pgcrypto"'));
  });
  it('CREATE EXTENSION dblink is refused, and dblink does not exist', async () => {
    expect(await probe(sec.db, 'alice', `CREATE EXTENSION dblink`)).toEqual(denied('permission denied to create extension "dblink"'));
    expect(await probe(sec.db, 'alice', `SELECT dblink('dbname=postgres', 'SELECT 1')`)).toMatchObject({ error: { code: '42883' } });
  });
  it('ALTER, DROP and CREATE OR REPLACE of her view are refused', async () => {
    expect(await probe(sec.db, 'alice', `ALTER VIEW customers SET (security_barrier = false)`)).toEqual(denied('must be owner of view customers'));
    expect(await probe(sec.db, 'alice', `DROP VIEW customers`)).toEqual(denied('must be owner of view customers'));
    expect(await probe(sec.db, 'alice', `CREATE OR REPLACE VIEW customers AS SELECT * FROM public.customers`)).toEqual(denied(`permission denied for schema ${await sec.schemaOf('alice')}`));
  });
  it('turning off row security or adding a policy on a base table is refused', async () => {
    expect(await probe(sec.db, 'alice', `ALTER TABLE public.customers NO FORCE ROW LEVEL SECURITY`)).toEqual(denied('must be owner of table customers'));
    expect(await probe(sec.db, 'alice', `CREATE POLICY mine ON public.customers USING (true)`)).toEqual(denied('must be owner of table customers'));
  });
  it('a DO block runs as herself: the base table stays closed', async () => {
    expect(await probe(sec.db, 'alice', `DO $$ BEGIN PERFORM count(*) FROM public.customers; END $$`)).toEqual(denied('permission denied for table customers'));
  });
});

describe('server files, programs, large objects, other databases', () => {
  it('COPY TO PROGRAM is refused', async () => {
    expect(await probe(sec.db, 'alice', `COPY (SELECT 1) TO PROGRAM 'id'`)).toEqual(denied(byMajor(sec.major, 'must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program', 'permission denied to COPY to or from an external program')));
  });
  it('COPY TO a server file is refused', async () => {
    expect(await probe(sec.db, 'alice', `COPY (SELECT * FROM customers) TO '/tmp/customers.csv'`)).toEqual(denied(byMajor(sec.major, 'must be superuser or have privileges of the pg_write_server_files role to COPY to a file', 'permission denied to COPY to a file')));
  });
  it('COPY FROM a server file is refused', async () => {
    expect(await probe(sec.db, sec.rw, `COPY events (org, note) FROM '/etc/hostname'`)).toEqual(denied(byMajor(sec.major, 'must be superuser or have privileges of the pg_read_server_files role to COPY from a file', 'permission denied to COPY from a file')));
  });
  it('pg_read_file, pg_ls_dir and pg_read_binary_file are refused', async () => {
    expect(await probe(sec.db, 'alice', `SELECT pg_read_file('postgresql.conf')`)).toEqual(denied('permission denied for function pg_read_file'));
    expect(await probe(sec.db, 'alice', `SELECT pg_ls_dir('.')`)).toEqual(denied('permission denied for function pg_ls_dir'));
    expect(await probe(sec.db, 'alice', `SELECT pg_read_binary_file('global/pg_control')`)).toEqual(denied('permission denied for function pg_read_binary_file'));
  });
  it('lo_import and lo_export of server files are refused', async () => {
    expect(await probe(sec.db, 'alice', `SELECT lo_import('/etc/passwd')`)).toEqual(denied('permission denied for function lo_import'));
    expect(await probe(sec.db, 'alice', `SELECT lo_export(1, '/tmp/x')`)).toEqual(denied('permission denied for function lo_export'));
  });
  it("a large object the superuser wrote cannot be read", async () => {
    const [{ oid }] = (await sec.db.sql`SELECT lo_from_bytea(0, 'globex secret'::bytea)::int AS oid`) as unknown as [{ oid: number }];
    expect(await probe(sec.db, 'alice', `SELECT lo_get(${oid})`)).toEqual(denied(`permission denied for large object ${oid}`));
  });
  it('a cross-database reference is refused', async () => {
    expect(await probe(sec.db, 'alice', `SELECT * FROM postgres.public.customers`)).toMatchObject({ error: { code: '0A000', message: 'cross-database references are not implemented: "postgres.public.customers"' } });
  });
  it('in another database of the server she has no persona and no tenant', async () => {
    expect(await probe(sec.db, 'alice', `SELECT current_setting('search_path') AS p, to_regclass('tenantctl.principals') IS NULL AS none`, { database: 'postgres' })).toEqual({
      rows: [{ p: '"$user", public', none: true }],
    });
  });
  it('pg_reload_conf and pg_rotate_logfile are refused', async () => {
    expect(await probe(sec.db, 'alice', `SELECT pg_reload_conf()`)).toEqual(denied('permission denied for function pg_reload_conf'));
    expect(await probe(sec.db, 'alice', `SELECT pg_rotate_logfile()`)).toEqual(denied('permission denied for function pg_rotate_logfile'));
  });
});

describe('other backends', () => {
  let bob: postgres.Sql;
  let bobPid = 0;
  beforeAll(async () => {
    bob = login(sec.db, 'bob');
    opened.push(bob);
    const [row] = await bob`SELECT pg_backend_pid() AS pid, 'globex-secret-7731' AS marker`;
    bobPid = Number(row?.['pid']);
  });
  it("cancelling bob's query is refused", async () => {
    expect(await probe(sec.db, 'alice', `SELECT pg_cancel_backend(${bobPid})`)).toEqual(denied(byMajor(sec.major, 'must be a member of the role whose query is being canceled or member of pg_signal_backend', 'permission denied to cancel query')));
  });
  it("terminating bob's backend is refused", async () => {
    expect(await probe(sec.db, 'alice', `SELECT pg_terminate_backend(${bobPid})`)).toEqual(denied(byMajor(sec.major, 'must be a member of the role whose process is being terminated or member of pg_signal_backend', 'permission denied to terminate process')));
  });
  it("cancelling the superuser's query is refused", async () => {
    const [{ pid }] = (await sec.db.sql`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
    expect(await probe(sec.db, 'alice', `SELECT pg_cancel_backend(${pid})`)).toEqual(denied(byMajor(sec.major, 'must be a superuser to cancel superuser query', 'permission denied to cancel query')));
  });
  it("bob's query text in pg_stat_activity is hidden from alice", async () => {
    expect(await probe(sec.db, 'alice', `SELECT query FROM pg_stat_activity WHERE pid = ${bobPid}`)).toEqual({ rows: [{ query: '<insufficient privilege>' }] });
  });
});

describe('catalogs and statistics', () => {
  it('pg_stats shows nothing of the governed tables (statistics were gathered)', async () => {
    expect(await truth(sec.db, `SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'public' AND tablename = 'customers'`)).not.toEqual([{ n: 0 }]);
    expect(await probe(sec.db, 'alice', `SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'public' OR tablename IN ('customers', 'orders')`)).toEqual({ rows: [{ n: 0 }] });
  });
  it('pg_stats_ext and pg_stats_ext_exprs show nothing of the extended statistics on customers (org, ssn)', async () => {
    expect(await truth(sec.db, `SELECT count(*)::int AS n FROM pg_stats_ext WHERE tablename = 'customers'`)).toEqual([{ n: 1 }]);
    expect(await probe(sec.db, 'alice', `SELECT (SELECT count(*) FROM pg_stats_ext)::int AS a, (SELECT count(*) FROM pg_stats_ext_exprs)::int AS b`)).toEqual({ rows: [{ a: 0, b: 0 }] });
  });
  it('pg_statistic and pg_statistic_ext_data are closed', async () => {
    expect(await probe(sec.db, 'alice', `SELECT * FROM pg_statistic`)).toEqual(denied('permission denied for table pg_statistic'));
    expect(await probe(sec.db, 'alice', `SELECT * FROM pg_statistic_ext_data`)).toEqual(denied('permission denied for table pg_statistic_ext_data'));
  });
  it('catalog row counts of the base tables are visible (documented limit: counts, never values)', async () => {
    const [{ n }] = (await truth(sec.db, `SELECT count(*)::int AS n FROM public.customers`)) as [{ n: number }];
    expect(await probe(sec.db, 'alice', `SELECT reltuples::int AS estimate, (SELECT n_live_tup::int FROM pg_stat_user_tables WHERE relid = 'public.customers'::regclass) AS live FROM pg_class WHERE oid = 'public.customers'::regclass`)).toEqual({
      rows: [{ estimate: n, live: n }],
    });
  });
  it('the principals table shows her own row only, and cannot be written', async () => {
    expect(await probe(sec.db, 'alice', `SELECT role::text, kind, tenant FROM tenantctl.principals`)).toEqual({ rows: [{ role: 'alice', kind: 'user', tenant: 'acme' }] });
    expect(await probe(sec.db, 'alice', `SELECT count(*)::int AS n FROM tenantctl.principals WHERE role = 'bob'`)).toEqual({ rows: [{ n: 0 }] });
    expect(await probe(sec.db, 'alice', `UPDATE tenantctl.principals SET tenant = 'globex'`)).toEqual(denied('permission denied for table principals'));
    expect(await probe(sec.db, 'alice', `INSERT INTO tenantctl.principals (role, kind, tenant) VALUES ('x', 'user', 'globex')`)).toEqual(denied('permission denied for table principals'));
    expect(await probe(sec.db, sec.rw, `DELETE FROM tenantctl.principals`)).toEqual(denied('permission denied for table principals'));
  });
  it('the runtime functions answer only for herself', async () => {
    expect(await probe(sec.db, 'alice', `SELECT tenantctl.attr('tenant') AS t, tenantctl.attr('name') AS n, tenantctl.visible() AS v, (SELECT slug FROM tenantctl.current_tenant()) AS s`)).toEqual({
      rows: [{ t: 'acme', n: 'alice', v: true, s: 'acme' }],
    });
    // The write checks' lookup: the same answer (it raises only for a frozen tenant), and only for the tenant.
    expect(await probe(sec.db, 'alice', `SELECT tenantctl.writable_attr('tenant') AS t, tenantctl.writable_attr('tenant_id') = tenantctl.attr('tenant_id') AS same_id`)).toEqual({
      rows: [{ t: 'acme', same_id: true }],
    });
    expect(await probe(sec.db, 'alice', `SELECT tenantctl.writable_attr('name')`)).toMatchObject({
      error: { message: 'tenantctl.writable_attr: attribute must be tenant or tenant_id, got name' },
    });
  });
  it('the app tenant resolver, which reads the registry as its caller, is not hers to call', async () => {
    // It is not SECURITY DEFINER: only the lookups call it, as their definer. Called directly with a context
    // naming a setting she controls, it must be refused, not answer with another tenant.
    const context = `'{"tenant": {"setting": "app.current_tenant"}}'::jsonb`;
    expect(await probe(sec.db, 'alice', `SELECT * FROM tenantctl.app_tenant(${context})`)).toEqual(denied('permission denied for function app_tenant'));
    expect(await probe(sec.db, sec.app, `SELECT * FROM tenantctl.app_tenant(${context})`)).toEqual(denied('permission denied for function app_tenant'));
  });
  it('the registry tables and their ids are closed', async () => {
    expect(await probe(sec.db, 'alice', `SELECT id FROM tenant_registry.tenants`)).toEqual(denied('permission denied for schema tenant_registry'));
  });
});

describe('prepared statements and cursors across a role change', () => {
  it('a statement prepared before SET ROLE returns only acme after it and after RESET ROLE', async () => {
    const schema = await sec.schemaOf('alice');
    const s = login(sec.db, 'alice');
    opened.push(s);
    await s.unsafe(`PREPARE orgs AS ${ORGS}`);
    expect(await s.unsafe(`EXECUTE orgs`)).toEqual([{ org: 'acme' }]);
    await s.unsafe(`SET ROLE "${schema}_reader"`);
    expect(await s.unsafe(`EXECUTE orgs`)).toEqual([{ org: 'acme' }]);
    await s.unsafe(`RESET ROLE`);
    expect(await s.unsafe(`EXECUTE orgs`)).toEqual([{ org: 'acme' }]);
  });
  it('a WITH HOLD cursor opened before SET ROLE returns only acme', async () => {
    const schema = await sec.schemaOf('alice');
    const s = login(sec.db, 'alice');
    opened.push(s);
    await s.unsafe(`DECLARE c CURSOR WITH HOLD FOR SELECT org FROM orders`);
    await s.unsafe(`SET ROLE "${schema}_reader"`);
    const rows = await s.unsafe(`FETCH ALL FROM c`);
    expect(rows.length).toBe(34);
    expect(new Set(rows.map((r) => r['org']))).toEqual(new Set(['acme']));
  });
});
