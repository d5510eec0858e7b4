// Pure mapping from the raw rows that src/catalog/read.ts selects to the CatalogState types, and the sort orders
// that make two reads of an unchanged database deep-equal. No I/O here: unit-testable with hand-made rows.
//
// List-valued columns arrive as JSON (json_agg / to_json(ARRAY(...))), which postgres.js always parses, so the
// mapping does not depend on the connection's array type parsers (fetch_types).

import type {
  CatalogColumn,
  CatalogGrantSet,
  CatalogPolicy,
  CatalogPrivilege,
  CatalogPrincipal,
  CatalogRole,
  CatalogSchema,
  CatalogState,
  CatalogTable,
  CatalogTenant,
  CatalogView,
} from './types.js';

/** Code-unit order, independent of the database's collation and of the process locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A sorted copy. The comparators compare fields directly: decorating every item with an array of its keys (the
 * earlier form) allocated two objects per item and compared arrays, for 5,000 policies and 9,000 applied records.
 */
function sortedBy<T>(items: readonly T[], compare: (a: T, b: T) => number): T[] {
  return [...items].sort(compare);
}

function sortedStrings(items: readonly string[]): string[] {
  return [...items].sort(compareText);
}

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`unexpected ${what} in the catalog: ${JSON.stringify(value)}`);
}

function optional<K extends string>(key: K, value: string | null | undefined): { [P in K]?: string } {
  return value === null || value === undefined ? {} : ({ [key]: value } as { [P in K]: string });
}

/**
 * `object` with `key` set when `value` is present, added last as `...optional(key, value)` would: without the
 * spread of a fresh object per row (5,000 policies with two, 2,500 tables and views with one, at 500 tables).
 */
function withOptional<T extends object, K extends string>(object: T, key: K, value: string | null | undefined): T & { [P in K]?: string } {
  if (value !== null && value !== undefined) (object as Record<string, unknown>)[key] = value;
  return object;
}

/** Sorted, each once; [] for an empty list without the copies. */
function uniqueSorted(items: readonly string[]): string[] {
  return items.length === 0 ? [] : [...new Set(sortedStrings(items))];
}

function stringList(what: string, value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new Error(`unexpected ${what} in the catalog: ${JSON.stringify(value)}`);
  }
  return value as string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Raw rows (what the queries in read.ts select; snake_case as the SQL names them)

export interface MetaRow {
  server_version_num: number;
  database: string;
  current_user_name: string;
  can_read_authid: boolean;
  has_principals: boolean;
  has_applied: boolean;
  /** tenantctl.applied has its fingerprint column (runtime of this version). */
  has_fingerprint: boolean;
  has_registry_tenants: boolean;
  has_registry_versions: boolean;
}

/** A column as the tables query returns it (json_build_array: positional, cheaper for the server to build). */
export type RawColumn = [name: string, type: string, notNull: boolean, hasDefault: boolean, identity: boolean, generated: boolean, attnum: number];

export interface TableRow {
  schema: string;
  name: string;
  kind: string;
  owner: string;
  rls_enabled: boolean;
  rls_forced: boolean;
  parent_schema: string | null;
  parent_name: string | null;
  columns: RawColumn[] | null;
  default_sequences: string[] | null;
  comment: string | null;
}

export interface RoleRow {
  name: string;
  login: boolean;
  superuser: boolean;
  bypass_rls: boolean;
  create_role: boolean;
  inherit: boolean;
  connection_limit: number;
  member_of: string[] | null;
  settings: string[] | null;
  comment: string | null;
  password_verifier: string | null;
}

export interface PolicyRow {
  schema: string;
  table: string;
  name: string;
  command: string;
  permissive: boolean;
  roles: string[] | null;
  using: string | null;
  with_check: string | null;
  /** Of the stored node trees (read.ts): recorded by apply, not part of CatalogPolicy. */
  fingerprint: string;
}

export interface ViewRow {
  schema: string;
  name: string;
  owner: string;
  definition: string;
  options: string[] | null;
  columns: string[] | null;
  comment: string | null;
  /** Of the stored node tree (read.ts): recorded by apply, not part of CatalogView. */
  fingerprint: string;
}

export interface SchemaRow {
  name: string;
  owner: string;
  comment: string | null;
}

/** The privileges of one grantee from one grantor on one object; for column grants, each with its columns. */
export interface GrantRow {
  object_kind: string;
  schema: string;
  name: string;
  grantee: string;
  grantor: string;
  privileges: [privilege: string, grantable: boolean, columns?: string[] | null][];
}

/** A row of tenantctl.applied. */
export interface AppliedRow {
  object: string;
  desired: string;
  rendered: string;
  fingerprint?: string | null;
}

export interface RuntimeRow {
  principals: { role: string; kind: string; tenant: string | null; attributes: unknown; context: unknown }[] | null;
  applied: readonly AppliedRow[] | null;
  /** RUNTIME_STATE_SQL: tenantctl's runtime schema as one JSON text. */
  runtime_state?: string | null;
}

export interface RegistryRow {
  /** bigint as text; null when schema_migrations has no row. */
  version: string | null;
  tenants: { id: string; slug: string; status: string }[] | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Mappers

const TABLE_KINDS = ['r', 'p', 'v', 'm', 'f'] as const;
const POLICY_COMMANDS = ['r', 'a', 'w', 'd', '*'] as const;
const GRANT_KINDS = ['table', 'column', 'schema', 'sequence'] as const;
const PRINCIPAL_KINDS = ['user', 'app'] as const;
const TENANT_STATUSES = ['demo', 'trial', 'active', 'frozen', 'archived'] as const;

export function mapColumns(raw: readonly RawColumn[] | null): CatalogColumn[] {
  const list = raw ?? [];
  // The query lists them in attnum order, as a rule: a sorted copy only when it did not (17,500 columns).
  const ordered = list.every((c, i) => i === 0 || list[i - 1]![6] < c[6]) ? list : [...list].sort((a, b) => a[6] - b[6]);
  return ordered.map(([name, type, notNull, hasDefault, identity, generated, attnum]) => ({ name, type, notNull, hasDefault, identity, generated, attnum }));
}

export function mapTables(rows: readonly TableRow[]): CatalogTable[] {
  const tables = rows.map(
    (r): CatalogTable =>
      withOptional(
        {
          schema: r.schema,
          name: r.name,
          kind: oneOf('relation kind', r.kind, TABLE_KINDS),
          owner: r.owner,
          rlsEnabled: r.rls_enabled,
          rlsForced: r.rls_forced,
          ...(r.parent_schema !== null && r.parent_name !== null ? { partitionOf: { schema: r.parent_schema, name: r.parent_name } } : {}),
          columns: mapColumns(r.columns),
          defaultSequences: uniqueSorted(stringList('default sequences', r.default_sequences)),
        },
        'comment',
        r.comment,
      ),
  );
  return sortedBy(tables, (a, b) => compareText(a.schema, b.schema) || compareText(a.name, b.name));
}

export function mapRoles(rows: readonly RoleRow[]): CatalogRole[] {
  const roles = rows.map(
    (r): CatalogRole =>
      withOptional(
        withOptional(
          {
            name: r.name,
            login: r.login,
            superuser: r.superuser,
            bypassRls: r.bypass_rls,
            createRole: r.create_role,
            inherit: r.inherit,
            connectionLimit: r.connection_limit,
            memberOf: uniqueSorted(stringList('memberships', r.member_of)),
            settings: sortedStrings(stringList('role settings', r.settings)),
          },
          'passwordVerifier',
          r.password_verifier,
        ),
        'comment',
        r.comment,
      ),
  );
  return sortedBy(roles, (a, b) => compareText(a.name, b.name));
}

export function mapPolicies(rows: readonly PolicyRow[]): CatalogPolicy[] {
  const policies = rows.map(
    (r): CatalogPolicy =>
      withOptional(
        withOptional(
          {
            schema: r.schema,
            table: r.table,
            name: r.name,
            command: oneOf('policy command', r.command, POLICY_COMMANDS),
            permissive: r.permissive,
            roles: sortedStrings(stringList('policy roles', r.roles)),
          },
          'using',
          r.using,
        ),
        'withCheck',
        r.with_check,
      ),
  );
  return sortedBy(policies, (a, b) => compareText(a.schema, b.schema) || compareText(a.table, b.table) || compareText(a.name, b.name));
}

export function mapViews(rows: readonly ViewRow[]): CatalogView[] {
  const views = rows.map(
    (r): CatalogView =>
      withOptional(
        {
          schema: r.schema,
          name: r.name,
          owner: r.owner,
          definition: r.definition,
          options: sortedStrings(stringList('view options', r.options)),
          // attnum order, as the query returns them: a view's column order is part of its definition.
          columns: stringList('view columns', r.columns),
        },
        'comment',
        r.comment,
      ),
  );
  return sortedBy(views, (a, b) => compareText(a.schema, b.schema) || compareText(a.name, b.name));
}

export function mapSchemas(rows: readonly SchemaRow[]): CatalogSchema[] {
  const schemas = rows.map((r): CatalogSchema => withOptional({ name: r.name, owner: r.owner }, 'comment', r.comment));
  return sortedBy(schemas, (a, b) => compareText(a.name, b.name));
}

const comparePrivileges = (a: CatalogPrivilege, b: CatalogPrivilege): number =>
  compareText(a.privilege, b.privilege) || compareText(String(a.grantable), String(b.grantable));

/** (privilege, grantable) order, as a CatalogGrantSet lists its privileges. In place; returns the array. */
export function sortPrivileges<T extends CatalogPrivilege>(privileges: T[]): T[] {
  for (let i = 1; i < privileges.length; i++) {
    // The query lists them in this order already, as a rule (it orders them in the database's collation): sort
    // only when it did not.
    if (comparePrivileges(privileges[i - 1]!, privileges[i]!) > 0) return privileges.sort(comparePrivileges);
  }
  return privileges;
}

const compareGrantSets = (a: CatalogGrantSet, b: CatalogGrantSet): number =>
  compareText(a.objectKind, b.objectKind) ||
  compareText(a.schema, b.schema) ||
  compareText(a.name, b.name) ||
  compareText(a.grantee, b.grantee) ||
  compareText(a.grantor, b.grantor);

/**
 * One set per row, as the query groups them (one grantee and grantor on one object), sorted by (object kind,
 * schema, name, grantee, grantor). Not expanded to one grant per privilege and column: see CatalogGrantSet.
 */
export function mapGrants(rows: readonly GrantRow[]): CatalogGrantSet[] {
  const sets = rows.map((r): CatalogGrantSet => {
    const objectKind = oneOf('grant object kind', r.object_kind, GRANT_KINDS);
    const privileges = r.privileges.map(([privilege, grantable, columns]): CatalogPrivilege =>
      objectKind === 'column' ? { privilege, grantable, columns: stringList('grant columns', columns) } : { privilege, grantable },
    );
    return { objectKind, schema: r.schema, name: r.name, grantee: r.grantee, grantor: r.grantor, privileges: sortPrivileges(privileges) };
  });
  return sets.sort(compareGrantSets);
}

function jsonObject(what: string, value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`unexpected ${what} in tenantctl.principals: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function mapRuntime(row: RuntimeRow): NonNullable<CatalogState['runtime']> {
  const principals = (row.principals ?? []).map((p): CatalogPrincipal => ({
    role: p.role,
    kind: oneOf('principal kind', p.kind, PRINCIPAL_KINDS),
    ...optional('tenant', p.tenant),
    attributes: jsonObject('attributes', p.attributes),
    context: jsonObject('context', p.context) as CatalogPrincipal['context'],
  }));
  const applied: Record<string, { desired: string; rendered: string; fingerprint?: string }> = {};
  for (const a of sortedBy(row.applied ?? [], (x, y) => compareText(x.object, y.object))) {
    // Not `...optional()`: a spread of a fresh object per record, 9,000 of them at 500 tables.
    applied[a.object] =
      a.fingerprint === null || a.fingerprint === undefined ? { desired: a.desired, rendered: a.rendered } : { desired: a.desired, rendered: a.rendered, fingerprint: a.fingerprint };
  }
  const sorted = sortedBy(principals, (a, b) => compareText(a.role, b.role));
  return row.runtime_state === null || row.runtime_state === undefined ? { principals: sorted, applied } : { principals: sorted, applied, state: row.runtime_state };
}

/** Undefined when schema_migrations holds no version (no migration has run). */
export function mapRegistry(schema: string, row: RegistryRow): CatalogState['registry'] {
  if (row.version === null) return undefined;
  const version = Number(row.version);
  if (!Number.isSafeInteger(version)) throw new Error(`unexpected registry version: ${row.version}`);
  const tenants = (row.tenants ?? []).map((t): CatalogTenant => ({
    id: t.id,
    slug: t.slug,
    status: oneOf('tenant status', t.status, TENANT_STATUSES),
  }));
  return { schema, version, tenants: sortedBy(tenants, (a, b) => compareText(a.slug, b.slug) || compareText(a.id, b.id)) };
}
