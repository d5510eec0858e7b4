// Which rows of which governed tables belong to a tenant, discovered from the live catalog (no policy file).
//
// Governed tables: ordinary and partitioned tables (not partitions) with row security enabled AND forced, outside
// the runtime schema (tenantctl), the persona schemas (tenantctl_*), the registry schema and the system schemas:
// `apply` forces row security on exactly the tables it governs.
//
// A table's tenant column ("direct" tables):
//   - with --tenant-column C: every governed table that has a column C (compared with the tenant slug, or with
//     the tenant id when C is of type uuid);
//   - otherwise, from the row-security policies in force: a top-level `col = {user.tenant}` (compiled to
//     `col = (SELECT tenantctl.attr('tenant'))`) or `col = {user.tenant_id}` in any policy on the table.
// Tables without one ("child" tables, e.g. order_items, payments) belong to the tenant through a foreign key to
// a table that does (followed transitively): a row is the tenant's when any of its foreign keys to such a table
// points to one of the tenant's rows.
import { ident, literal, qualified } from '../pg/quote.js';
import { andConjuncts, loadSqlParser, parseSql } from '../policy/pg-parser.js';
import type { Executor } from '../registry/db.js';
import { TenantError, type TenantRow } from './common.js';

export interface ForeignKey {
  name: string;
  /** Referencing columns of this table. */
  columns: string[];
  /** Referenced table (schema.name) and columns. */
  references: string;
  referencedColumns: string[];
}

export interface GovernedTable {
  schema: string;
  name: string;
  /** schema.name, unquoted: the key used everywhere. */
  key: string;
  columns: { name: string; type: string; generated: boolean }[];
  foreignKeys: ForeignKey[];
  /** Policy expressions in force on the table (pg_get_expr). */
  policies: string[];
}

export type Scope =
  | { kind: 'direct'; column: string; by: 'slug' | 'id' }
  | { kind: 'child'; via: ForeignKey[] };

export interface ScopedTable extends GovernedTable {
  scope: Scope;
}

export interface TenantScope {
  /** Scoped tables, parents before children (insert order); delete in reverse. */
  tables: ScopedTable[];
  /** Governed tables with no way to the tenant: never touched, reported. */
  unscoped: string[];
}

/** True when the current role bypasses row security (superuser or BYPASSRLS). */
export async function requireBypass(db: Executor, what: string): Promise<void> {
  const rows = (await db.unsafe(
    `SELECT current_user::text AS me, (rolsuper OR rolbypassrls) AS bypass FROM pg_catalog.pg_roles WHERE rolname = current_user`,
  )) as unknown as { me: string; bypass: boolean }[];
  const r = rows[0];
  if (!r?.bypass) {
    throw new TenantError(
      `${what} needs a role that bypasses row security (a superuser or a BYPASSRLS role): ${r?.me ?? 'this role'} is subject to the row-security policies forced on every governed table and would see none of the tenant's rows`,
    );
  }
  // A safety net: should row security apply after all, statements fail instead of silently seeing fewer rows.
  await db.unsafe(`SET LOCAL row_security = off`);
}

export async function readGovernedTables(db: Executor, registrySchema: string): Promise<GovernedTable[]> {
  const rows = (await db.unsafe(
    `SELECT n.nspname::text AS schema, c.relname::text AS name,
            pg_catalog.to_json(ARRAY(
              SELECT pg_catalog.json_build_object('name', a.attname::text, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'generated', a.attgenerated <> '')
                FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)) AS columns,
            pg_catalog.to_json(ARRAY(
              SELECT pg_catalog.json_build_object(
                       'name', k.conname::text,
                       'columns', (SELECT pg_catalog.array_agg(a.attname::text ORDER BY x.n) FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY x(att, n) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.att),
                       'references', rn.nspname || '.' || rc.relname,
                       'referencedColumns', (SELECT pg_catalog.array_agg(a.attname::text ORDER BY x.n) FROM pg_catalog.unnest(k.confkey) WITH ORDINALITY x(att, n) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.att))
                FROM pg_catalog.pg_constraint k
                JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
                JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
               WHERE k.conrelid = c.oid AND k.contype = 'f' ORDER BY k.conname)) AS foreign_keys,
            pg_catalog.to_json(ARRAY(
              SELECT pg_catalog.pg_get_expr(p.polqual, p.polrelid) FROM pg_catalog.pg_policy p
               WHERE p.polrelid = c.oid AND p.polqual IS NOT NULL ORDER BY p.polname)) AS policies
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relrowsecurity AND c.relforcerowsecurity
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenantctl', $1)
        AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'tenantctl\\_%'
      ORDER BY 1, 2`,
    [registrySchema],
  )) as unknown as { schema: string; name: string; columns: GovernedTable['columns']; foreign_keys: ForeignKey[]; policies: string[] }[];
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    key: `${r.schema}.${r.name}`,
    columns: r.columns,
    foreignKeys: r.foreign_keys,
    policies: r.policies,
  }));
}

type Node = Record<string, unknown>;
const child = (n: unknown, k: string): Node | undefined => (n && typeof n === 'object' ? ((n as Node)[k] as Node | undefined) : undefined);

function stripCasts(n: unknown): unknown {
  let x = n;
  while (child(x, 'TypeCast')) x = child(child(x, 'TypeCast'), 'arg');
  return x;
}

/** 'tenant' or 'tenant_id' when `n` is `(SELECT tenantctl.attr('tenant'[::text])[::cast])`. */
function attrTemplate(n: unknown): 'tenant' | 'tenant_id' | undefined {
  const sub = child(stripCasts(n), 'SubLink');
  if (!sub || sub['subLinkType'] !== 'EXPR_SUBLINK') return undefined;
  const targets = child(child(sub, 'subselect'), 'SelectStmt')?.['targetList'] as unknown[] | undefined;
  if (!targets || targets.length !== 1) return undefined;
  const call = child(stripCasts(child(child(targets[0], 'ResTarget'), 'val')), 'FuncCall');
  const fname = (call?.['funcname'] as unknown[] | undefined)?.map((f) => child(f, 'String')?.['sval']);
  if (!fname || fname.join('.') !== 'tenantctl.attr') return undefined;
  const arg = child(stripCasts((call?.['args'] as unknown[] | undefined)?.[0]), 'A_Const');
  const value = child(arg, 'sval')?.['sval'];
  return value === 'tenant' || value === 'tenant_id' ? value : undefined;
}

function columnOf(n: unknown): string | undefined {
  const fields = child(stripCasts(n), 'ColumnRef')?.['fields'] as unknown[] | undefined;
  const last = fields?.[fields.length - 1];
  const name = child(last, 'String')?.['sval'];
  return typeof name === 'string' ? name : undefined;
}

/** Top-level `col = {user.tenant}` / `col = {user.tenant_id}` conjuncts of a policy expression. */
export function tenantComparisons(expression: string): { column: string; by: 'slug' | 'id' }[] {
  const parsed = parseSql(`SELECT ${expression}`);
  if (!parsed.ok) return [];
  const select = child(parsed.stmts[0]?.stmt, 'SelectStmt');
  const root = child(child((select?.['targetList'] as unknown[] | undefined)?.[0], 'ResTarget'), 'val');
  const found: { column: string; by: 'slug' | 'id' }[] = [];
  for (const c of andConjuncts(root)) {
    const e = child(c, 'A_Expr');
    if (!e || e['kind'] !== 'AEXPR_OP' || (e['name'] as unknown[]).map((x) => child(x, 'String')?.['sval']).join('') !== '=') continue;
    for (const [l, r] of [
      [e['lexpr'], e['rexpr']],
      [e['rexpr'], e['lexpr']],
    ]) {
      const column = columnOf(l);
      const t = attrTemplate(r);
      if (column !== undefined && t !== undefined) found.push({ column, by: t === 'tenant' ? 'slug' : 'id' });
    }
  }
  return found;
}

export interface ScopeOptions {
  registrySchema: string;
  /** --tenant-column: overrides what the policies say. */
  tenantColumn?: string;
}

export async function tenantScope(db: Executor, options: ScopeOptions): Promise<TenantScope> {
  await loadSqlParser();
  const tables = await readGovernedTables(db, options.registrySchema);
  if (tables.length === 0) throw new TenantError('no governed tables in this database (no table has row security enabled and forced): apply a policy file first');
  const scopes = new Map<string, Scope>();
  for (const t of tables) {
    if (options.tenantColumn !== undefined) {
      const col = t.columns.find((c) => c.name === options.tenantColumn);
      if (col) scopes.set(t.key, { kind: 'direct', column: col.name, by: col.type === 'uuid' ? 'id' : 'slug' });
      continue;
    }
    const found = t.policies.flatMap(tenantComparisons).filter((f) => t.columns.some((c) => c.name === f.column));
    const first = found[0];
    if (first) scopes.set(t.key, { kind: 'direct', column: first.column, by: first.by });
  }
  if (scopes.size === 0) {
    throw new TenantError(
      options.tenantColumn !== undefined
        ? `no governed table has a column named "${options.tenantColumn}"`
        : 'no row-security policy in force compares a column with {user.tenant} or {user.tenant_id}: pass --tenant-column COLUMN',
    );
  }
  // Children: reach a scoped table through a foreign key, to a fixpoint.
  let grew = true;
  while (grew) {
    grew = false;
    for (const t of tables) {
      if (scopes.has(t.key)) continue;
      const via = t.foreignKeys.filter((fk) => scopes.has(fk.references) && fk.references !== t.key);
      if (via.length > 0) {
        scopes.set(t.key, { kind: 'child', via });
        grew = true;
      }
    }
  }
  const scoped = tables.filter((t) => scopes.has(t.key)).map((t) => ({ ...t, scope: scopes.get(t.key) as Scope }));
  return { tables: orderParentsFirst(scoped), unscoped: tables.filter((t) => !scopes.has(t.key)).map((t) => t.key) };
}

/** Topological order over the foreign keys among scoped tables (self-references ignored); a cycle is an error. */
function orderParentsFirst(tables: ScopedTable[]): ScopedTable[] {
  const byKey = new Map(tables.map((t) => [t.key, t] as const));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: ScopedTable[] = [];
  const visit = (t: ScopedTable, path: string[]): void => {
    if (done.has(t.key)) return;
    if (visiting.has(t.key)) throw new TenantError(`foreign keys form a cycle (${[...path, t.key].join(' -> ')}): cannot order the tenant's rows`);
    visiting.add(t.key);
    for (const fk of t.foreignKeys) {
      const parent = byKey.get(fk.references);
      if (parent && parent.key !== t.key) visit(parent, [...path, t.key]);
    }
    visiting.delete(t.key);
    done.add(t.key);
    out.push(t);
  };
  for (const t of [...tables].sort((a, b) => a.key.localeCompare(b.key))) visit(t, []);
  return out;
}

/** The SQL condition selecting the tenant's rows of `table`, aliased `alias`. Values are literal-quoted. */
export function tenantPredicate(scope: TenantScope, table: ScopedTable, alias: string, tenant: TenantRow, depth = 0): string {
  const s = table.scope;
  if (s.kind === 'direct') return `${ident(alias)}.${ident(s.column)} = ${s.by === 'slug' ? literal(tenant.slug) : `${literal(tenant.id)}::uuid`}`;
  const parts = s.via.map((fk) => {
    const parent = scope.tables.find((t) => t.key === fk.references) as ScopedTable;
    const p = `p${depth + 1}`;
    const join = fk.columns.map((c, i) => `${ident(p)}.${ident(fk.referencedColumns[i] as string)} = ${ident(alias)}.${ident(c)}`).join(' AND ');
    return `EXISTS (SELECT 1 FROM ${qualified(parent.schema, parent.name)} ${ident(p)} WHERE ${join} AND ${tenantPredicate(scope, parent, p, tenant, depth + 1)})`;
  });
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

export function describeScope(t: ScopedTable): string {
  return t.scope.kind === 'direct'
    ? `${t.scope.column} = tenant ${t.scope.by === 'slug' ? 'slug' : 'id'}`
    : `through ${t.scope.via.map((fk) => `${fk.columns.join(', ')} -> ${fk.references}`).join(' or ')}`;
}
