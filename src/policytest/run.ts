// `tenantctl test`: load test files, run each assertion as its user or app in a transaction that is rolled back,
// and compare. Two ways to become the principal (docs/testing.md):
//   fast (default)  one superuser connection; per assertion SET LOCAL SESSION AUTHORIZATION <principal> (so
//                   session_user, which the runtime keys on, is the principal) plus its role settings for this
//                   database (search_path to its persona) applied with set_config(..., true)
//   login           a real password login per principal
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { CORE_SCHEMA, load } from 'js-yaml';
import { ident } from '../pg/quote.js';
import { TestFileSchema, type Assertion, type PrincipalRef } from './schema.js';

export interface LoadedAssertion extends Assertion {
  readonly file: string;
  readonly index: number;
  readonly label: string;
  readonly principal: { kind: 'user' | 'app'; name: string };
}

export class TestFileError extends Error {}

export function loadTestFile(file: string): LoadedAssertion[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TestFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (e) {
    throw new TestFileError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = TestFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${file}: ${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`);
    throw new TestFileError(issues.join('\n'));
  }
  return parsed.data.tests.map((t, index) => {
    const principal = principalOf(t.as);
    return { ...t, file, index, principal, label: t.name ?? `${principal.name}: ${t.sql.replace(/\s+/g, ' ').trim()}` };
  });
}

export function principalOf(ref: PrincipalRef): { kind: 'user' | 'app'; name: string } {
  if (typeof ref === 'string') return { kind: 'user', name: ref };
  return 'user' in ref ? { kind: 'user', name: ref.user } : { kind: 'app', name: ref.app };
}

/** What a statement produced. */
export type Outcome =
  | { kind: 'rows'; columns: string[]; rows: Record<string, unknown>[] }
  | { kind: 'error'; sqlstate: string; message: string };

export interface AssertionResult {
  readonly assertion: LoadedAssertion;
  readonly ok: boolean;
  /** Why it failed, one line per difference. */
  readonly failures: string[];
  readonly outcome: Outcome;
}

export interface RunOptions {
  mode: 'fast' | 'login';
  /** The connection URL (--database-url / DATABASE_URL); undefined: libpq variables. */
  url: string | undefined;
  /** The password of a principal, for --login. */
  passwordFor(name: string): string | undefined;
}

class Rollback extends Error {
  constructor(readonly outcome: Outcome) {
    super('rollback');
  }
}

const baseOptions = { max: 1, connect_timeout: 10, idle_timeout: 0, onnotice: () => {}, connection: { application_name: 'tenantctl test' } } as const;

function open(url: string | undefined, extra: postgres.Options<{}> = {}): postgres.Sql {
  return (url === undefined ? postgres({ ...baseOptions, ...extra }) : postgres(url, { ...baseOptions, ...extra })) as postgres.Sql;
}

export async function runAssertions(assertions: readonly LoadedAssertion[], options: RunOptions): Promise<AssertionResult[]> {
  const results: AssertionResult[] = [];
  if (options.mode === 'fast') {
    const admin = open(options.url);
    try {
      const [me] = await admin`SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user`;
      if (!me?.['rolsuper']) {
        throw new TestFileError(
          'the fast mode becomes each user with SET SESSION AUTHORIZATION, which needs a superuser connection; connect as a superuser or use --login',
        );
      }
      for (const a of assertions) results.push(judge(a, await runFast(admin, a)));
    } finally {
      await admin.end();
    }
    return results;
  }
  const sessions = new Map<string, postgres.Sql>();
  try {
    for (const a of assertions) {
      let s = sessions.get(a.principal.name);
      if (!s) {
        const password = options.passwordFor(a.principal.name);
        if (password === undefined) {
          throw new TestFileError(`no password for ${a.principal.name}: pass --policies FILE (its password env variables) or --password-env VAR`);
        }
        s = open(options.url, { username: a.principal.name, password });
        sessions.set(a.principal.name, s);
        try {
          await s`SELECT 1`;
        } catch (e) {
          throw new TestFileError(`cannot log in as ${a.principal.name}: ${(e as Error).message}`);
        }
      }
      results.push(judge(a, await runLogin(s, a)));
    }
  } finally {
    await Promise.all([...sessions.values()].map((s) => s.end()));
  }
  return results;
}

/** The app's context as settings: attribute keys mapped through its principals row, dotted keys as given. */
function contextSettings(a: LoadedAssertion, mapping: Record<string, { setting?: string }>): [string, string][] {
  return Object.entries(a.context ?? {}).map(([key, value]) => {
    if (key.includes('.')) return [key, String(value)];
    const setting = mapping[key]?.setting;
    if (!setting) throw new TestFileError(`${a.file}: tests.${a.index}.context: ${a.principal.name} has no context attribute \`${key}\` (give a setting name such as app.current_tenant)`);
    return [setting, String(value)];
  });
}

async function execute(tx: postgres.TransactionSql, sql: string): Promise<never> {
  try {
    const result = await tx.unsafe(sql);
    const columns = (result.columns ?? []).map((c) => c.name);
    throw new Rollback({ kind: 'rows', columns, rows: [...result] as Record<string, unknown>[] });
  } catch (e) {
    if (e instanceof Rollback) throw e;
    const pg = e as { code?: string; message?: string };
    if (typeof pg.code === 'string' && /^[0-9A-Z]{5}$/.test(pg.code)) throw new Rollback({ kind: 'error', sqlstate: pg.code, message: String(pg.message) });
    throw e;
  }
}

async function inRollback(sql: postgres.Sql, body: (tx: postgres.TransactionSql) => Promise<never>): Promise<Outcome> {
  try {
    await sql.begin(body);
  } catch (e) {
    if (e instanceof Rollback) return e.outcome;
    throw e;
  }
  throw new Error('unreachable');
}

async function runFast(admin: postgres.Sql, a: LoadedAssertion): Promise<Outcome> {
  const name = a.principal.name;
  const [role] = await admin`
    SELECT r.rolname,
           coalesce((SELECT setconfig FROM pg_catalog.pg_db_role_setting WHERE setrole = r.oid AND setdatabase = 0), '{}') AS all_dbs,
           coalesce((SELECT setconfig FROM pg_catalog.pg_db_role_setting WHERE setrole = r.oid
                      AND setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())), '{}') AS this_db,
           (SELECT p.context FROM tenantctl.principals p WHERE p.role = r.rolname) AS context
      FROM pg_catalog.pg_roles r WHERE r.rolname = ${name}`.catch(async (e: { code?: string }) => {
    // No runtime schema: read the role without its principals row.
    if (e.code !== '42P01' && e.code !== '3F000') throw e;
    return admin`SELECT r.rolname, '{}'::text[] AS all_dbs, '{}'::text[] AS this_db, NULL::jsonb AS context FROM pg_catalog.pg_roles r WHERE r.rolname = ${name}`;
  });
  if (!role) throw new TestFileError(`${a.file}: tests.${a.index}.as: role ${name} does not exist in this cluster`);
  // As a login would: settings for all databases, then those for this database, which win.
  const settings = new Map<string, string>();
  for (const entry of [...(role['all_dbs'] as string[]), ...(role['this_db'] as string[])]) {
    const at = entry.indexOf('=');
    settings.set(entry.slice(0, at), entry.slice(at + 1));
  }
  const context = contextSettings(a, (role['context'] ?? {}) as Record<string, { setting?: string }>);
  return inRollback(admin, async (tx) => {
    await tx.unsafe(`SET LOCAL SESSION AUTHORIZATION ${ident(name)}`);
    for (const [k, v] of settings) await tx`SELECT pg_catalog.set_config(${k}, ${v}, true)`;
    for (const [k, v] of context) await tx`SELECT pg_catalog.set_config(${k}, ${v}, true)`;
    return execute(tx, a.sql);
  });
}

async function runLogin(s: postgres.Sql, a: LoadedAssertion): Promise<Outcome> {
  let mapping: Record<string, { setting?: string }> = {};
  if (a.context && Object.keys(a.context).some((k) => !k.includes('.'))) {
    const [row] = await s`SELECT context FROM tenantctl.principals WHERE role = session_user`.catch(() => []);
    mapping = (row?.['context'] ?? {}) as Record<string, { setting?: string }>;
  }
  const context = contextSettings(a, mapping);
  return inRollback(s, async (tx) => {
    for (const [k, v] of context) await tx`SELECT pg_catalog.set_config(${k}, ${v}, true)`;
    return execute(tx, a.sql);
  });
}

/** Values compared as text: numbers, numerics and booleans as PostgreSQL prints them, dates as ISO 8601. */
export function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const textRow = (r: Record<string, unknown>): Record<string, string | null> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, asText(v)]));

export function judge(a: LoadedAssertion, outcome: Outcome): AssertionResult {
  const failures: string[] = [];
  if (a.error !== undefined) {
    const want = typeof a.error === 'string' ? { message: a.error } : a.error;
    if (outcome.kind === 'rows') failures.push(`expected an error${describeError(want)}, but the statement returned ${outcome.rows.length} row(s)`);
    else {
      if (want.sqlstate !== undefined && want.sqlstate !== outcome.sqlstate) failures.push(`expected SQLSTATE ${want.sqlstate}, got ${outcome.sqlstate} (${outcome.message})`);
      if (want.message !== undefined && !outcome.message.includes(want.message)) failures.push(`expected an error message containing "${want.message}", got "${outcome.message}"`);
    }
    return { assertion: a, ok: failures.length === 0, failures, outcome };
  }
  if (outcome.kind === 'error') {
    return { assertion: a, ok: false, failures: [`unexpected error ${outcome.sqlstate}: ${outcome.message}`], outcome };
  }
  if (a.no_rows && outcome.rows.length > 0) failures.push(`expected no rows, got ${outcome.rows.length}`);
  if (a.row_count !== undefined && outcome.rows.length !== a.row_count) failures.push(`expected ${a.row_count} row(s), got ${outcome.rows.length}`);
  if (a.rows !== undefined) {
    const want = a.rows.map(textRow);
    const got = outcome.rows.map(textRow);
    if (JSON.stringify(want) !== JSON.stringify(got)) failures.push(`expected rows ${JSON.stringify(want)}\n     got rows ${JSON.stringify(got)}`);
  }
  for (const c of a.columns?.present ?? []) if (!outcome.columns.includes(c)) failures.push(`expected column "${c}", result has ${outcome.columns.join(', ') || 'no columns'}`);
  for (const c of a.columns?.absent ?? []) if (outcome.columns.includes(c)) failures.push(`expected no column "${c}", but the result has it`);
  return { assertion: a, ok: failures.length === 0, failures, outcome };
}

function describeError(e: { sqlstate?: string | undefined; message?: string | undefined }): string {
  return [e.sqlstate && ` ${e.sqlstate}`, e.message && ` containing "${e.message}"`].filter(Boolean).join('');
}

/** The password of each principal from a policy file's `password: { env }` / `{ value }`. */
export function passwordsFromPolicyFile(file: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const doc = load(readFileSync(file, 'utf8'), { schema: CORE_SCHEMA }) as { users?: unknown[]; apps?: unknown[] } | null;
  const out = new Map<string, string>();
  for (const p of [...(doc?.users ?? []), ...(doc?.apps ?? [])] as { name?: string; password?: { env?: string; value?: string } }[]) {
    if (!p?.name || !p.password) continue;
    const value = p.password.env !== undefined ? env[p.password.env] : p.password.value;
    if (value !== undefined && value !== '') out.set(p.name, value);
  }
  return out;
}
