// tenantctl lint: a freshly applied demo database has no error-level finding (exit 0); then each check's problem is
// made by hand, and `lint --format json` reports exactly that finding (and nothing else new), with exit 2 for an
// error-level one. Every change is undone after its test. The roles this file creates end in this database's
// suffix (roles are cluster-wide); the demo users alice/bob/charlie are never altered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEMO_POLICIES, demoDatabase, demoEnv, policyFile, type DemoDatabase } from '../helpers/demo.js';

interface Json {
  format_version: number;
  database: string;
  governed_schemas: string[];
  governed_from: string;
  data_plane_roles: string[];
  summary: { error: number; warning: number; info: number };
  findings: { level: string; check: string; object: string; why: string; fix: string }[];
}

let db: DemoDatabase;
let sfx: string;
let persona: string;
let owner: string;
let reader: string;
let dp: string;
let baseline: string[];

const key = (f: { level: string; check: string; object: string }): string => `${f.level} ${f.check} ${f.object}`;

async function lint(...args: string[]): Promise<{ code: number; json: Json; stderr: string }> {
  const r = await runCli(['lint', '--format', 'json', ...args], { env: { DATABASE_URL: db.operatorUrl } });
  return { code: r.code, json: JSON.parse(r.stdout) as Json, stderr: r.stderr };
}

/** The findings that are not in the clean baseline, as `level check object`. */
async function added(...args: string[]): Promise<{ code: number; keys: string[]; json: Json }> {
  const r = await lint(...args);
  expect(r.stderr).toBe('');
  return { code: r.code, keys: r.json.findings.map(key).filter((k) => !baseline.includes(k)), json: r.json };
}

/** Run `make`, lint, then `undo` whatever happened. */
async function withChange(make: string, undo: string, check: (r: Awaited<ReturnType<typeof added>>) => void | Promise<void>): Promise<void> {
  await db.sql.unsafe(make);
  try {
    await check(await added());
  } finally {
    await db.sql.unsafe(undo);
  }
  expect((await added()).keys).toEqual([]);
}

beforeAll(async () => {
  db = await demoDatabase('lint');
  sfx = db.name.slice(-10);
  const applied = await runCli(['apply', DEMO_POLICIES, '--yes'], { env: demoEnv(db, db.operatorUrl) });
  expect(applied.code).toBe(0);
  const [s] = await db.sql<{ name: string }[]>`SELECT nspname::text AS name FROM pg_namespace WHERE nspname LIKE 'tenantctl\\_%'`;
  persona = s?.name ?? '';
  owner = `${persona}_owner`;
  reader = `${persona}_reader`;
  // This file's own data-plane login: a member of the demo persona's reader role.
  dp = `lint_dp_${sfx}`;
  await db.sql.unsafe(`CREATE ROLE ${dp} LOGIN PASSWORD 'x-${sfx}'; GRANT ${reader} TO ${dp}`);
  baseline = (await lint()).json.findings.map(key);
});

afterAll(async () => {
  await db?.drop();
  const { default: postgres } = await import('postgres');
  const { adminUrl } = await import('../helpers/db.js');
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    for (const r of [dp, `lint_sugrp_${sfx}`, `lint_etl_${sfx}`]) await admin.unsafe(`DROP ROLE IF EXISTS ${r}`);
  } finally {
    await admin.end();
  }
});

describe('tenantctl lint on a freshly applied demo database', () => {
  it('has no error-level finding and exits 0; what remains is PostgreSQL\'s default PUBLIC CONNECT and TEMP on the database', async () => {
    const r = await lint();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json.format_version).toBe(1);
    expect(r.json.governed_schemas).toEqual(['public']);
    expect(r.json.governed_from).toBe('catalog');
    expect(r.json.data_plane_roles).toEqual(['alice', 'bob', 'charlie', dp]);
    expect(r.json.findings.map(key)).toEqual([`info public-connect database ${db.name}`, `info public-temp database ${db.name}`]);
    expect(r.json.summary).toEqual({ error: 0, warning: 0, info: 2 });
  });

  it('with --policies the file says who the data plane is: PUBLIC CONNECT and TEMP become warnings (every demo user is read-only); still exit 0', async () => {
    const r = await lint('--policies', DEMO_POLICIES);
    expect(r.code).toBe(0);
    expect(r.json.governed_from).toBe('policies');
    expect(r.json.governed_schemas).toEqual(['public']);
    expect(r.json.findings.map(key)).toEqual([`warning public-connect database ${db.name}`, `warning public-temp database ${db.name}`]);
    expect(r.json.findings[0]?.why).toContain('lists 3 data-plane logins');
  });

  it('text output: the header, each finding with why and fix, and the summary line', async () => {
    const r = await runCli(['lint'], { env: { DATABASE_URL: db.operatorUrl } });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Database ${db.name} \\(PostgreSQL 1[58]\\.\\d+.*\\); governed schemas: public \\(schemas with a row-security table, plus public\\)\\.$`));
    expect(lines[1]).toBe(`Data-plane roles: alice, bob, charlie, ${dp}.`);
    expect(lines[3]).toBe(`info    public-connect  database ${db.name}`);
    expect(lines[5]).toBe(`        fix: REVOKE CONNECT ON DATABASE ${db.name} FROM PUBLIC; GRANT CONNECT ON DATABASE ${db.name} TO <the operator and each persona reader role>;`);
    expect(lines.at(-2)).toBe('2 findings: 0 errors, 0 warnings, 2 info.');
  });
});

describe('each check reports the problem made by hand', () => {
  it('rls-not-forced: the owner bypasses the policies (exit 2)', async () => {
    await withChange('ALTER TABLE public.orders NO FORCE ROW LEVEL SECURITY', 'ALTER TABLE public.orders FORCE ROW LEVEL SECURITY', (r) => {
      expect(r.keys).toEqual(['error rls-not-forced public.orders']);
      expect(r.code).toBe(2);
      expect(r.json.findings.find((f) => f.check === 'rls-not-forced')?.fix).toBe('ALTER TABLE public.orders FORCE ROW LEVEL SECURITY;');
    });
  });

  it('rls-disabled: a new table in a governed schema without row security', async () => {
    await withChange('CREATE TABLE public.lint_notes (id int, org text)', 'DROP TABLE public.lint_notes', (r) => {
      expect(r.keys).toEqual(['error rls-disabled public.lint_notes']);
      expect(r.code).toBe(2);
    });
  });

  it('policy-rls-off: policies exist on a table whose row security is off', async () => {
    await withChange('ALTER TABLE public.products DISABLE ROW LEVEL SECURITY', 'ALTER TABLE public.products ENABLE ROW LEVEL SECURITY', (r) => {
      expect(r.keys).toEqual(['error policy-rls-off public.products']);
      expect(r.code).toBe(2);
    });
  });

  it('rls-no-policy: row security on, no policy (info; exit 0)', async () => {
    await withChange(
      'CREATE TABLE public.lint_empty (id int); ALTER TABLE public.lint_empty ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY',
      'DROP TABLE public.lint_empty',
      (r) => {
        expect(r.keys).toEqual(['info rls-no-policy public.lint_empty']);
        expect(r.code).toBe(0);
      },
    );
  });

  it('policy-always-true: (1 = 1) to the persona owner is an error (and overlaps the tenant policy); true to another role a warning', async () => {
    await withChange(
      `CREATE POLICY lint_open ON public.customers FOR SELECT TO ${owner} USING (1 = 1)`,
      'DROP POLICY lint_open ON public.customers',
      (r) => {
        expect(r.keys.sort()).toEqual(['error policy-always-true public.customers policy lint_open', `warning permissive-overlap public.customers SELECT to ${owner}`]);
        expect(r.code).toBe(2);
      },
    );
    const etl = `lint_etl_${sfx}`;
    await withChange(
      `CREATE ROLE ${etl} NOLOGIN; CREATE POLICY lint_etl ON public.orders FOR SELECT TO ${etl} USING (true)`,
      `DROP POLICY lint_etl ON public.orders; DROP ROLE ${etl}`,
      (r) => {
        expect(r.keys).toEqual(['warning policy-always-true public.orders policy lint_etl']);
        expect(r.code).toBe(0);
      },
    );
  });

  it('lookup-not-wrapped: current_setting() called per row', async () => {
    await withChange(
      `CREATE POLICY lint_slow ON public.support_tickets AS RESTRICTIVE FOR SELECT TO ${owner} USING (org = current_setting('app.tenant', true))`,
      'DROP POLICY lint_slow ON public.support_tickets',
      (r) => {
        expect(r.keys).toEqual(['warning lookup-not-wrapped public.support_tickets policy lint_slow']);
        expect(r.code).toBe(0);
      },
    );
  });

  it('filter-column-unindexed: payments filters through order_id; without payments_order_id_idx it is reported', async () => {
    await withChange('DROP INDEX public.payments_order_id_idx', 'CREATE INDEX payments_order_id_idx ON public.payments (order_id)', (r) => {
      expect(r.keys).toEqual(['warning filter-column-unindexed public.payments.order_id']);
      expect(r.json.findings.find((f) => f.check === 'filter-column-unindexed')?.why).toContain(`public.payments policy ${persona}`);
    });
  });

  it('permissive-overlap: a second permissive SELECT policy for the persona owner', async () => {
    await withChange(
      `CREATE POLICY lint_extra ON public.products FOR SELECT TO ${owner} USING (org = (SELECT tenantctl.attr('tenant')))`,
      'DROP POLICY lint_extra ON public.products',
      (r) => {
        expect(r.keys).toEqual([`warning permissive-overlap public.products SELECT to ${owner}`]);
        expect(r.code).toBe(0);
      },
    );
  });

  it('partition-unprotected: a partition without row security under a protected parent', async () => {
    await withChange(
      `CREATE TABLE public.lint_events (org text NOT NULL, id int) PARTITION BY LIST (org);
       CREATE INDEX ON public.lint_events (org);
       ALTER TABLE public.lint_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
       CREATE POLICY lint_tenant ON public.lint_events TO ${owner} USING (org = (SELECT tenantctl.attr('tenant')));
       CREATE TABLE public.lint_events_acme PARTITION OF public.lint_events FOR VALUES IN ('acme')`,
      'DROP TABLE public.lint_events',
      (r) => {
        expect(r.keys).toEqual(['error partition-unprotected public.lint_events_acme']);
        expect(r.code).toBe(2);
      },
    );
  });

  it('materialized-view and foreign-table in a governed schema', async () => {
    await withChange(
      `CREATE MATERIALIZED VIEW public.lint_mv AS SELECT org, count(*) AS n FROM public.orders GROUP BY org;
       CREATE FOREIGN DATA WRAPPER lint_fdw; CREATE SERVER lint_srv FOREIGN DATA WRAPPER lint_fdw;
       CREATE FOREIGN TABLE public.lint_ft (id int) SERVER lint_srv`,
      'DROP MATERIALIZED VIEW public.lint_mv; DROP FOREIGN DATA WRAPPER lint_fdw CASCADE',
      (r) => {
        expect(r.keys.sort()).toEqual(['warning foreign-table public.lint_ft', 'warning materialized-view public.lint_mv']);
        expect(r.code).toBe(0);
      },
    );
  });

  it('view-owner-bypasses-rls: a view owned by a superuser, readable by a persona reader', async () => {
    await withChange(
      `CREATE VIEW public.lint_all_orders AS SELECT id, org FROM public.orders; GRANT SELECT ON public.lint_all_orders TO ${reader}`,
      'DROP VIEW public.lint_all_orders',
      (r) => {
        expect(r.keys).toEqual(['error view-owner-bypasses-rls public.lint_all_orders']);
        expect(r.json.findings.find((f) => f.check === 'view-owner-bypasses-rls')?.why).toContain(`readable by ${reader} and owned by `);
        expect(r.code).toBe(2);
      },
    );
  });

  it('dataplane-superuser (through a membership), dataplane-bypassrls, dataplane-table-owner, dataplane-view-owner', async () => {
    const grp = `lint_sugrp_${sfx}`;
    await withChange(`CREATE ROLE ${grp} NOLOGIN SUPERUSER; GRANT ${grp} TO ${dp}`, `DROP ROLE ${grp}`, (r) => {
      expect(r.keys).toEqual([`error dataplane-superuser ${dp}`]);
      expect(r.json.findings.find((f) => f.check === 'dataplane-superuser')?.fix).toBe(`REVOKE ${grp} FROM ${dp};`);
      expect(r.code).toBe(2);
    });
    await withChange(`ALTER ROLE ${dp} BYPASSRLS`, `ALTER ROLE ${dp} NOBYPASSRLS`, (r) => {
      expect(r.keys).toEqual([`error dataplane-bypassrls ${dp}`]);
    });
    await withChange(
      `CREATE TABLE public.lint_owned (id int); ALTER TABLE public.lint_owned ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY; ALTER TABLE public.lint_owned OWNER TO ${dp}`,
      'DROP TABLE public.lint_owned',
      (r) => {
        expect(r.keys.sort()).toEqual([`error dataplane-table-owner ${dp}`, 'info rls-no-policy public.lint_owned']);
      },
    );
    await withChange(`GRANT ${owner} TO ${dp}`, `REVOKE ${owner} FROM ${dp}`, (r) => {
      expect(r.keys).toEqual([`error dataplane-view-owner ${dp}`]);
      expect(r.json.findings.find((f) => f.check === 'dataplane-view-owner')?.fix).toBe(`REVOKE ${owner} FROM ${dp};`);
    });
  });

  it('public-create: PUBLIC may create in a schema', async () => {
    await withChange('GRANT CREATE ON SCHEMA public TO PUBLIC', 'REVOKE CREATE ON SCHEMA public FROM PUBLIC', (r) => {
      expect(r.keys).toEqual(['error public-create schema public']);
      expect(r.code).toBe(2);
    });
  });

  it('public-connect and public-temp disappear once revoked from PUBLIC', async () => {
    await db.sql.unsafe(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db.name} FROM PUBLIC; GRANT CONNECT ON DATABASE ${db.name} TO admin`);
    try {
      const r = await lint();
      expect(r.json.findings.map(key)).toEqual([]);
      expect(r.code).toBe(0);
    } finally {
      await db.sql.unsafe(`GRANT CONNECT, TEMPORARY ON DATABASE ${db.name} TO PUBLIC; REVOKE CONNECT ON DATABASE ${db.name} FROM admin`);
    }
  });

  it('security-definer-search-path (error) and security-definer-pg-temp (warning); pinned with pg_temp last is clean', async () => {
    const fn = 'public.lint_peek()';
    await db.sql.unsafe(`CREATE FUNCTION ${fn} RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM public.customers'`);
    try {
      let r = await added();
      expect(r.keys).toEqual([`error security-definer-search-path ${fn}`]);
      expect(r.json.findings.find((f) => f.check === 'security-definer-search-path')?.why).toContain('executable by public');
      expect(r.code).toBe(2);
      await db.sql.unsafe(`ALTER FUNCTION ${fn} SET search_path = public`);
      r = await added();
      expect(r.keys).toEqual([`warning security-definer-pg-temp ${fn}`]);
      expect(r.code).toBe(0);
      await db.sql.unsafe(`ALTER FUNCTION ${fn} SET search_path = public, pg_temp`);
      expect((await added()).keys).toEqual([]);
      await db.sql.unsafe(`ALTER FUNCTION ${fn} RESET search_path; REVOKE EXECUTE ON FUNCTION ${fn} FROM PUBLIC`);
      expect((await added()).keys).toEqual([]);
    } finally {
      await db.sql.unsafe(`DROP FUNCTION ${fn}`);
    }
  });
});

describe('errors', () => {
  const audit = async (): Promise<number> => Number((await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log`)[0]?.['n']);

  it('an invalid --policies file: its errors, exit 1, nothing checked or changed', async () => {
    const before = await audit();
    const bad = policyFile('version: 1\nschemas: [public]\npolicies:\n  - { name: x, type: row_filter, tables: [customers], filter: "org = {user.nope}" }\n');
    const r = await runCli(['lint', '--policies', bad], { env: { DATABASE_URL: db.operatorUrl } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: ${bad} is not valid: 1 error; nothing was checked`);
    expect(await audit()).toBe(before);
  });

  it('a missing --policies file: exit 1', async () => {
    const r = await runCli(['lint', '--policies', '/nonexistent/policies.yaml'], { env: { DATABASE_URL: db.operatorUrl } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('/nonexistent/policies.yaml:1:1: error: cannot read the policy file: no such file\nerror: /nonexistent/policies.yaml is not valid: 1 error; nothing was checked\n');
  });

  it('an unknown --format: exit 1 naming the choices', async () => {
    const r = await runCli(['lint', '--format', 'xml'], { env: { DATABASE_URL: db.operatorUrl } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json.");
  });

  it('a failed login: the server message, exit 1, no stack trace', async () => {
    const r = await runCli(['lint'], { env: { DATABASE_URL: db.urlFor('admin', 'wrong-password') } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*password authentication failed for user "admin"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
