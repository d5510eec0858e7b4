// The adversarial suite's database: demo_ecommerce (demoDatabase), plus a partitioned table with a sequence, a
// readwrite user per tenant and a readwrite app whose names are unique to this database (roles are
// cluster-wide), applied by the operator (admin: owner of the data, CREATEROLE, not a superuser).
//
// Every probe is a fresh password login over TCP (probe()), runs in a transaction that is always rolled back, and
// compares what it got with an exact error or with ground truth read by the superuser.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { adminUrl } from '../helpers/db.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { DEMO_PASSWORD, DEMO_POLICIES, demoDatabase, login, policyFile, type DemoDatabase } from '../helpers/demo.js';
import { ident } from '../../src/pg/quote.js';

/** Created by the operator before apply: a partitioned, governed table whose key comes from a sequence. */
export const EXTRA_SCHEMA = `
CREATE TABLE public.events (
  id   bigserial NOT NULL,
  org  text NOT NULL REFERENCES public.organizations (name),
  note text NOT NULL,
  PRIMARY KEY (org, id)
) PARTITION BY LIST (org);
CREATE TABLE public.events_acme PARTITION OF public.events FOR VALUES IN ('acme');
CREATE TABLE public.events_globex PARTITION OF public.events FOR VALUES IN ('globex');
CREATE TABLE public.events_rest PARTITION OF public.events DEFAULT;
INSERT INTO public.events (org, note) VALUES ('acme', 'acme-1'), ('acme', 'acme-2'), ('globex', 'globex-1'), ('stark', 'stark-1');
`;

/** An attribute value full of SQL: it must reach queries as data. */
export const SQL_NOTE = `x' OR '1'='1'); DROP TABLE customers; --`;

export interface SecurityDb {
  db: DemoDatabase;
  /** Unique names for this database's own logins. */
  rw: string; // readwrite user of acme
  rwGlobex: string; // readwrite user of globex
  app: string; // readwrite app (tenant from app.current_tenant / app.current_tenant_id)
  policiesText: string;
  /** Server major version (messages of refusals changed in PostgreSQL 16). */
  major: number;
  apply(text?: string, ...flags: string[]): Promise<CliResult>;
  /** Persona schema of a login (from its role setting in this database). */
  schemaOf(role: string): Promise<string>;
  tenantId(slug: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** The demo policy file plus this database's readwrite users, app, events table and an SQL-laden attribute. */
export function securityPolicies(rw: string, rwGlobex: string, app: string, extraUsers: Record<string, unknown>[] = []): string {
  const doc = parse(readFileSync(DEMO_POLICIES, 'utf8')) as Record<string, unknown[]>;
  doc['users']!.push(
    { name: rw, password: { env: 'DEMO_PASSWORD' }, tenant: 'acme', access: 'readwrite', attributes: { note: SQL_NOTE } },
    { name: rwGlobex, password: { env: 'DEMO_PASSWORD' }, tenant: 'globex', access: 'readwrite' },
    ...extraUsers,
  );
  doc['apps'] = [
    {
      name: app,
      password: { env: 'DEMO_PASSWORD' },
      context: { tenant: 'app.current_tenant', tenant_id: { setting: 'app.current_tenant_id', type: 'uuid' } },
      access: 'readwrite',
    },
  ];
  doc['policies']!.push(
    { name: 'events-isolation', type: 'row_filter', tables: ['events'], filter: 'org = {user.tenant}' },
    { name: 'note-guard', type: 'row_filter', tables: ['support_tickets'], filter: 'subject <> {user.note}' },
  );
  doc['assignments']!.push({ policy: 'events-isolation', to: 'all' }, { policy: 'note-guard', to: { user: rw } });
  return stringify(doc);
}

/** The major version of the run's server (for probes whose refusal changed wording or behaviour). */
export async function serverMajor(): Promise<number> {
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    const [{ v }] = (await admin`SELECT current_setting('server_version_num')::int / 10000 AS v`) as unknown as [{ v: number }];
    return v;
  } finally {
    await admin.end();
  }
}

export async function securityDatabase(prefix: string): Promise<SecurityDb> {
  const db = await demoDatabase(prefix);
  const sx = db.name.slice(-6);
  const rw = `sec_rw_${sx}`;
  const rwGlobex = `sec_rwg_${sx}`;
  const app = `sec_app_${sx}`;
  const operator = postgres(db.operatorUrl, { max: 1, onnotice: () => {} });
  try {
    await operator.unsafe(EXTRA_SCHEMA);
  } finally {
    await operator.end();
  }
  const policiesText = securityPolicies(rw, rwGlobex, app);
  const apply = async (text = policiesText, ...flags: string[]): Promise<CliResult> => {
    const file = policyFile(text);
    for (let attempt = 1; ; attempt++) {
      const r = await runCli(['apply', file, '--yes', ...flags], { env: { DATABASE_URL: db.operatorUrl, DEMO_PASSWORD } });
      // Bug outside this suite (src/apply): applies on two databases of one cluster that alter the same shared
      // login (alice, bob, charlie) at the same moment can fail with XX000 "tuple concurrently updated", which
      // apply does not retry. Nothing was applied then; try again.
      if (r.code !== 0 && r.stderr.includes('tuple concurrently updated') && attempt < 4) continue;
      return r;
    }
  };
  const r = await apply();
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  // Statistics for the pg_stats / pg_stats_ext probes: gathered by the superuser, as autovacuum would.
  await db.sql.unsafe(`CREATE STATISTICS public.customers_org_ssn (mcv, ndistinct) ON org, ssn FROM public.customers; ANALYZE`);
  const [{ v }] = (await db.sql`SELECT current_setting('server_version_num')::int / 10000 AS v`) as unknown as [{ v: number }];
  return {
    db,
    major: v,
    rw,
    rwGlobex,
    app,
    policiesText,
    apply,
    schemaOf: async (role) => {
      const [row] = await db.sql`
        SELECT split_part(s, '=', 2) AS schema
          FROM pg_db_role_setting d, unnest(d.setconfig) s
         WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND d.setrole = (SELECT oid FROM pg_roles WHERE rolname = ${role}) AND s LIKE 'search_path=%'`;
      return String(row?.['schema']).replace(/^"|"$/g, '');
    },
    tenantId: async (slug) => String((await db.sql`SELECT id::text FROM tenant_registry.tenants WHERE slug = ${slug}`)[0]?.['id']),
    cleanup: async () => {
      const personaRoles = (await db.sql`SELECT nspname::text AS s FROM pg_namespace WHERE nspname LIKE 'tenantctl\\_%'`).map((r) => String(r['s']));
      await db.drop();
      const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      try {
        for (const role of [rw, rwGlobex, app]) await admin.unsafe(`DROP ROLE IF EXISTS ${ident(role)}`);
        for (const s of personaRoles) for (const suffix of ['_reader', '_owner']) await admin.unsafe(`DROP ROLE IF EXISTS ${ident(s + suffix)}`).catch(() => undefined);
      } finally {
        await admin.end();
      }
    },
  };
}

/** What a probe produced: rows, or the server's error (code, message, detail). */
export type Outcome = { rows: Record<string, unknown>[] } | { error: { code: string; message: string; detail?: string } };

class Rollback extends Error {
  constructor(readonly rows: Record<string, unknown>[]) {
    super('rollback');
  }
}

export interface ProbeOptions {
  password?: string;
  /** Statements run first in the same transaction (e.g. set_config of an app's tenant). */
  setup?: string[];
  /** Collect NOTICE messages here. */
  notices?: string[];
  database?: string;
  /** Keep the error's DETAIL in the outcome (left out by default: it is wording, not data). */
  detail?: boolean;
  /** Run the statements outside a transaction (for commands that refuse to run in one). */
  noTransaction?: boolean;
}

/**
 * One fresh password login over TCP as `user`, the statements in one transaction that is always rolled back;
 * the last statement's rows or the first error.
 */
export async function probe(db: DemoDatabase, user: string, statements: string | string[], options: ProbeOptions = {}): Promise<Outcome> {
  const url = options.database ? db.urlFor(user, options.password ?? DEMO_PASSWORD).replace(/\/[^/?]+(\?|$)/, `/${options.database}$1`) : undefined;
  const s = url
    ? postgres(url, { max: 1, onnotice: (n) => options.notices?.push(String(n.message)), connect_timeout: 10 })
    : login(db, user, options.password, (n) => options.notices?.push(String(n.message)));
  const list = [...(options.setup ?? []), ...(Array.isArray(statements) ? statements : [statements])];
  try {
    if (options.noTransaction) {
      let rows: Record<string, unknown>[] = [];
      for (const st of list) rows = [...(await s.unsafe(st))] as Record<string, unknown>[];
      throw new Rollback(rows);
    }
    await s.begin(async (tx) => {
      let rows: Record<string, unknown>[] = [];
      for (const st of list) rows = [...(await tx.unsafe(st))] as Record<string, unknown>[];
      throw new Rollback(rows);
    });
    throw new Error('unreachable');
  } catch (e) {
    if (e instanceof Rollback) return { rows: e.rows };
    const pg = e as { code?: string; message?: string; detail?: string };
    if (typeof pg.code !== 'string' || !/^[0-9A-Z]{5}$/.test(pg.code)) throw e;
    return { error: { code: pg.code, message: String(pg.message), ...(pg.detail && options.detail ? { detail: pg.detail } : {}) } };
  } finally {
    await s.end();
  }
}

/** Ground truth: the superuser's rows. */
export async function truth(db: DemoDatabase, query: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return [...(await db.sql.unsafe(query, params as never[]))] as Record<string, unknown>[];
}

export const denied = (message: string, code = '42501'): Outcome => ({ error: { code, message } });

/** The refusal's message on this server: PostgreSQL 16 reworded many of them. */
export const byMajor = (major: number, upTo15: string, from16: string): string => (major >= 16 ? from16 : upTo15);
