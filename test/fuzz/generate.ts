// Random cases for the differential fuzzer: a schema with its data, tenants, users, group roles and a policy
// file, all from one structure. The arbitraries make schema-free "raw" values (indices, slots, cells) that
// `materialise` resolves against the generated schema, so fast-check shrinks every part independently.
// `Case` is what the reference evaluator (reference.ts) and the harness (harness.ts) read; `policyYaml`,
// `schemaSql` and `dataSql` render it for tenantctl and PostgreSQL.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ident, literal } from '../../src/pg/quote.js';

// ---------------------------------------------------------------------------------------------------------
// The materialised case

export type ColumnType = 'text' | 'int' | 'bool' | 'uuid';
export type Value = string | number | boolean | null;
export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}
export interface TableDef {
  readonly name: string;
  /** `id` (int primary key) first, then `org` and `org_id` (uuid) when present, `parent_id` on the child, then the others. */
  readonly columns: readonly ColumnDef[];
  /** The parent table's name, for the child of a parent/child pair (column `parent_id`). */
  readonly parent?: string;
}
export type Row = Readonly<Record<string, Value>>;
export type TenantStatus = 'active' | 'frozen' | 'archived';
export interface TenantDef {
  readonly slug: string;
  /** Its registry id, what `{user.tenant_id}` reads. */
  readonly id: string;
  readonly status: TenantStatus;
}
export interface Attributes {
  readonly region?: string;
  readonly level?: number;
  readonly senior?: boolean;
  readonly teams?: readonly string[];
}
export const ATTRIBUTE_NAMES = ['region', 'level', 'senior', 'teams'] as const;
export type AttributeName = (typeof ATTRIBUTE_NAMES)[number];
/**
 * A user, or an app (a pooled login whose `{user.X}` are the transaction-local settings its `context` maps
 * them to). For an app, `tenant`, `tenantId` and `attributes` are what it sets with set_config(..., true) in
 * each transaction before it reads or writes (`tenantId` only for apps: possibly an id that disagrees with
 * `tenant`, or one of no tenant); `roles` is empty (apps are not members of group roles).
 */
export interface UserDef {
  readonly kind: 'user' | 'app';
  readonly name: string;
  readonly tenant?: string;
  readonly tenantId?: string;
  readonly attributes: Attributes;
  readonly roles: readonly string[];
  readonly access: 'read' | 'readwrite';
}

/** The settings an app's `context` maps each attribute to, with the type it is read as. */
export const APP_CONTEXT = {
  tenant: 'fz.tenant',
  tenant_id: { setting: 'fz.tenant_id', type: 'uuid' },
  region: 'fz.region',
  level: { setting: 'fz.level', type: 'bigint' },
  senior: { setting: 'fz.senior', type: 'boolean' },
  teams: { setting: 'fz.teams', type: 'text[]' },
} as const;

/** What an app sets in each transaction: `set_config(setting, value, true)` per mapped attribute it has. */
export function appSettings(u: UserDef): [setting: string, value: string][] {
  const out: [string, string][] = [];
  if (u.tenant !== undefined) out.push([APP_CONTEXT.tenant, u.tenant]);
  if (u.tenantId !== undefined) out.push([APP_CONTEXT.tenant_id.setting, u.tenantId]);
  const a = u.attributes;
  if (a.region !== undefined) out.push([APP_CONTEXT.region, a.region]);
  if (a.level !== undefined) out.push([APP_CONTEXT.level.setting, String(a.level)]);
  if (a.senior !== undefined) out.push([APP_CONTEXT.senior.setting, String(a.senior)]);
  if (a.teams !== undefined) out.push([APP_CONTEXT.teams.setting, `{${a.teams.join(',')}}`]);
  return out;
}

/** Filters in a language small enough to evaluate in JS with SQL's three-valued logic. */
export type Filter =
  | { readonly k: 'eqAttr'; readonly col: string; readonly attr: 'tenant' | 'tenant_id' | 'name' | 'region' | 'level' }
  | { readonly k: 'in'; readonly col: string; readonly values: readonly Value[] }
  | { readonly k: 'leLevel'; readonly col: string }
  | { readonly k: 'anyTeams'; readonly col: string }
  | { readonly k: 'senior' }
  | { readonly k: 'isNull'; readonly col: string }
  | { readonly k: 'boolCol'; readonly col: string }
  | { readonly k: 'not'; readonly a: Filter }
  | { readonly k: 'and' | 'or'; readonly a: Filter; readonly b: Filter }
  /** parent_id IN (SELECT id FROM parent WHERE org = {user.tenant}) */
  | { readonly k: 'sub'; readonly parent: string };

/** Masks: a literal, NULL, or a function of one column (`src`, the masked column unless said otherwise). */
export type Mask =
  | { readonly k: 'null' }
  | { readonly k: 'lit'; readonly value: string | number | boolean }
  | { readonly k: 'stars'; readonly src: string; readonly n: number }
  | { readonly k: 'left'; readonly src: string; readonly n: number }
  | { readonly k: 'upper'; readonly src: string }
  | { readonly k: 'mod'; readonly src: string; readonly n: number }
  | { readonly k: 'not'; readonly src: string }
  /** CASE WHEN {user.senior} THEN <column> ELSE <value> END */
  | { readonly k: 'ifSenior'; readonly src: string; readonly value: string | number | boolean };

/**
 * `tables` are the names a policy targets; `glob`, when set, is how the file writes them: a pattern ("*",
 * "a*", "*s"...) that matches exactly those tables of the case, so that tenantctl's glob resolution is
 * exercised while the reference keeps reading plain names.
 */
export type PolicyDef =
  | { readonly name: string; readonly type: 'row_filter'; readonly tables: readonly string[]; readonly glob?: string; readonly filter: Filter }
  | { readonly name: string; readonly type: 'column_mask'; readonly table: string; readonly column: string; readonly mask: Mask }
  | { readonly name: string; readonly type: 'column_deny'; readonly table: string; readonly columns: readonly string[] }
  | { readonly name: string; readonly type: 'column_allow'; readonly tables: readonly string[]; readonly glob?: string; readonly columns: readonly string[] | '*' }
  | { readonly name: string; readonly type: 'table_deny'; readonly tables: readonly string[]; readonly glob?: string };

export type Selector = { readonly kind: 'all' } | { readonly kind: 'user' | 'app' | 'role'; readonly name: string };
export interface AssignmentDef {
  readonly policy: string;
  /** `all` alone, or a list of user/role selectors. */
  readonly to: readonly Selector[];
  readonly except: readonly Selector[];
  readonly priority?: number;
}

export interface Case {
  readonly mode: 'policy_required' | 'open';
  readonly tables: readonly TableDef[];
  readonly rows: Readonly<Record<string, readonly Row[]>>;
  readonly tenants: readonly TenantDef[];
  readonly roles: readonly string[];
  readonly users: readonly UserDef[];
  readonly policies: readonly PolicyDef[];
  readonly assignments: readonly AssignmentDef[];
}

export const PASSWORD_ENV = 'FUZZ_PASSWORD';
export const PASSWORD = "Fuzz-pw'1";

// ---------------------------------------------------------------------------------------------------------
// Raw, schema-free values

const EXTRA_COLUMNS: readonly ColumnDef[] = [
  { name: 'name', type: 'text' },
  { name: 'region', type: 'text' },
  { name: 'team', type: 'text' },
  { name: 'Secret Code', type: 'text' },
  { name: 'level', type: 'int' },
  { name: 'qty', type: 'int' },
  { name: 'active', type: 'bool' },
  { name: 'Flag', type: 'bool' },
];
const TABLE_NAMES = ['accounts', 'notes', 'Audit Log', 'events'];
const PAIR_NAMES = ['parents', 'children'];
const SLUGS = ['acme', 'globex', 'stark'];
/** Text values; `@userN` becomes user N's role name (so that `{user.name}` can match). */
const TEXTS = ['eu', 'us', 'red', 'blue', 'green', 'acme', 'globex', 'stark', "O'Brien", 'a\\b', '', 'ACME', '@user0', '@user1'];
const REGIONS = ['eu', 'us', 'apac'];
const TEAMS = ['red', 'blue', 'green'];
const PRIORITIES = [10, 50, 100, 200];
/** Registry ids of the tenants (fixed, so that a printed case reproduces), of stray rows, and a mask literal. */
const tenantId = (i: number): string => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
const STRAY_ID = '00000000-0000-4000-8000-0000000000ff';
const ZERO_ID = '00000000-0000-0000-0000-000000000000';

interface RawTable {
  org: boolean;
  orgId: boolean;
  extras: number[];
}
interface RawCell {
  text: number;
  int: number;
  bool: boolean;
  isNull: boolean;
}
type RawFilter =
  | { k: 'eqAttr'; slot: number; attr: 'tenant' | 'name' | 'region' | 'level' }
  | { k: 'in'; slot: number; type: ColumnType; values: number[] }
  | { k: 'leLevel'; slot: number }
  | { k: 'anyTeams'; slot: number }
  | { k: 'senior' }
  | { k: 'isNull'; slot: number }
  | { k: 'boolCol'; slot: number }
  | { k: 'not'; a: RawFilter }
  | { k: 'and' | 'or'; a: RawFilter; b: RawFilter }
  | { k: 'sub' }
  | { k: 'org' }
  | { k: 'orgId' };
interface RawMask {
  k: 'null' | 'lit' | 'fn' | 'ifSenior';
  variant: number;
  n: number;
  /** Another column of the same type as the source, sometimes. */
  other: number | null;
}
type RawPolicy =
  | { type: 'row_filter'; tables: number[]; filter: RawFilter }
  | { type: 'column_mask'; table: number; column: number; mask: RawMask }
  | { type: 'column_deny'; table: number; columns: number[] }
  | { type: 'column_allow'; tables: number[]; columns: number[] | null }
  | { type: 'table_deny'; tables: number[] };
interface RawSelector {
  kind: 'user' | 'role';
  index: number;
}
interface RawAssignment {
  policy: number;
  to: RawSelector[] | null;
  except: RawSelector[];
  priority: number | null;
}
interface RawUser {
  /** 0: a user; 1-4: an app that sets its tenant by slug, by id, by both, or by a slug and a wrong id. */
  app: number;
  tenant: number | null;
  attributes: { region: number | null; level: number | null; senior: boolean | null; teams: number[] | null };
  roles: number[];
  access: 'read' | 'readwrite';
}
export interface RawCase {
  mode: 'policy_required' | 'open';
  tables: RawTable[];
  pair: boolean;
  /** [table slot][tenant slot] -> rows, plus stray rows of an unregistered org. */
  data: RawCell[][][][];
  stray: RawCell[][][];
  tenants: TenantStatus[];
  roles: number;
  users: RawUser[];
  policies: RawPolicy[];
  assignments: RawAssignment[];
}

const cell: fc.Arbitrary<RawCell> = fc.record({
  text: fc.nat({ max: TEXTS.length - 1 }),
  int: fc.integer({ min: 0, max: 5 }),
  bool: fc.boolean(),
  isNull: fc.nat(6).map((n) => n === 0),
});
const row = fc.array(cell, { minLength: 8, maxLength: 8 });
const rows = fc.array(row, { maxLength: 6 });

const rawTable: fc.Arbitrary<RawTable> = fc.record({
  org: fc.nat({ max: 4 }).map((n) => n > 0),
  orgId: fc.boolean(),
  extras: fc.uniqueArray(fc.nat({ max: EXTRA_COLUMNS.length - 1 }), { maxLength: 4 }),
});

const leaf: fc.Arbitrary<RawFilter> = fc.oneof(
  { arbitrary: fc.constant<RawFilter>({ k: 'org' }), weight: 4 },
  { arbitrary: fc.constant<RawFilter>({ k: 'orgId' }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('eqAttr' as const), slot: fc.nat(7), attr: fc.constantFrom('tenant' as const, 'name' as const, 'region' as const, 'level' as const) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('in' as const), slot: fc.nat(7), type: fc.constantFrom<ColumnType>('text', 'int', 'bool'), values: fc.array(fc.nat(13), { minLength: 1, maxLength: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('leLevel' as const), slot: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('anyTeams' as const), slot: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.constant<RawFilter>({ k: 'senior' }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('isNull' as const), slot: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('boolCol' as const), slot: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.constant<RawFilter>({ k: 'sub' }), weight: 2 },
);
const rawFilter: fc.Arbitrary<RawFilter> = fc.letrec<{ f: RawFilter }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leaf, weight: 6 },
    { arbitrary: fc.record({ k: fc.constantFrom('and' as const, 'or' as const), a: tie('f'), b: tie('f') }), weight: 2 },
    { arbitrary: fc.record({ k: fc.constant('not' as const), a: tie('f') }), weight: 1 },
  ),
})).f;

const rawMask: fc.Arbitrary<RawMask> = fc.record({
  k: fc.constantFrom('null' as const, 'lit' as const, 'fn' as const, 'fn' as const, 'ifSenior' as const),
  variant: fc.nat(2),
  n: fc.integer({ min: 1, max: 4 }),
  other: fc.option(fc.nat(7), { freq: 4 }),
});

const tableIndices = fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 2 });
const rawPolicy: fc.Arbitrary<RawPolicy> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('row_filter' as const), tables: tableIndices, filter: rawFilter }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('column_mask' as const), table: fc.nat(3), column: fc.nat(7), mask: rawMask }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('column_deny' as const), table: fc.nat(3), columns: fc.uniqueArray(fc.nat(7), { minLength: 1, maxLength: 2 }) }), weight: 2 },
  {
    arbitrary: fc.record({ type: fc.constant('column_allow' as const), tables: tableIndices, columns: fc.option(fc.uniqueArray(fc.nat(7), { minLength: 1, maxLength: 3 })) }),
    weight: 2,
  },
  { arbitrary: fc.record({ type: fc.constant('table_deny' as const), tables: tableIndices }), weight: 1 },
);

const selector: fc.Arbitrary<RawSelector> = fc.record({ kind: fc.constantFrom('user' as const, 'user' as const, 'role' as const), index: fc.nat(3) });
const rawAssignment: fc.Arbitrary<RawAssignment> = fc.record({
  policy: fc.nat(7),
  to: fc.option(fc.array(selector, { minLength: 1, maxLength: 2 }), { freq: 2 }),
  except: fc.oneof({ arbitrary: fc.constant<RawSelector[]>([]), weight: 3 }, { arbitrary: fc.array(selector, { minLength: 1, maxLength: 2 }), weight: 1 }),
  priority: fc.option(fc.nat(PRIORITIES.length - 1), { freq: 2 }),
});

const rawUser: fc.Arbitrary<RawUser> = fc.record({
  app: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 2 }),
  tenant: fc.option(fc.nat(2), { freq: 8 }),
  attributes: fc.record({
    region: fc.option(fc.nat(REGIONS.length - 1), { freq: 2 }),
    level: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 2 }),
    senior: fc.option(fc.boolean(), { freq: 2 }),
    teams: fc.option(fc.uniqueArray(fc.nat(TEAMS.length - 1), { maxLength: 3 }), { freq: 2 }),
  }),
  roles: fc.uniqueArray(fc.nat(1), { maxLength: 2 }),
  access: fc.constantFrom('read' as const, 'readwrite' as const),
});

export const rawCase: fc.Arbitrary<RawCase> = fc.record({
  mode: fc.constantFrom('policy_required' as const, 'open' as const),
  tables: fc.array(rawTable, { minLength: 1, maxLength: 4 }),
  pair: fc.boolean(),
  data: fc.array(fc.array(rows, { minLength: 3, maxLength: 3 }), { minLength: 4, maxLength: 4 }),
  stray: fc.array(fc.array(row, { maxLength: 2 }), { minLength: 4, maxLength: 4 }),
  tenants: fc.array(fc.constantFrom<TenantStatus>('active', 'active', 'active', 'active', 'frozen', 'archived'), { minLength: 2, maxLength: 3 }),
  roles: fc.nat(2),
  users: fc.array(rawUser, { minLength: 1, maxLength: 4 }),
  policies: fc.array(rawPolicy, { minLength: 1, maxLength: 8 }),
  assignments: fc.array(rawAssignment, { maxLength: 10 }),
});

// ---------------------------------------------------------------------------------------------------------
// Resolution against the generated schema

/** Role names are cluster-wide: every case prefixes its users and roles with a per-run tag. */
export function materialise(raw: RawCase, tag: string): Case {
  const pair = raw.pair && raw.tables.length >= 2;
  const tables: TableDef[] = raw.tables.map((t, i) => {
    const name = pair && i < 2 ? PAIR_NAMES[i]! : TABLE_NAMES[i]!;
    const columns: ColumnDef[] = [{ name: 'id', type: 'int' }];
    if (t.org || (pair && i === 0)) columns.push({ name: 'org', type: 'text' });
    if (t.orgId) columns.push({ name: 'org_id', type: 'uuid' });
    if (pair && i === 1) columns.push({ name: 'parent_id', type: 'int' });
    for (const e of t.extras) columns.push(EXTRA_COLUMNS[e]!);
    if (columns.length < 2) columns.push(EXTRA_COLUMNS[0]!);
    return { name, columns: columns.slice(0, 6), ...(pair && i === 1 ? { parent: PAIR_NAMES[0]! } : {}) };
  });

  const tenants: TenantDef[] = raw.tenants.map((status, i) => ({ slug: SLUGS[i]!, id: tenantId(i), status }));
  const roles = Array.from({ length: raw.roles }, (_, i) => `fz${tag}_g${i}`);
  const userNames = raw.users.map((_, i) => `fz${tag}_u${i}`);
  const text = (i: number): string => {
    const t = TEXTS[i % TEXTS.length]!;
    const m = /^@user(\d)$/.exec(t);
    return m ? (userNames[Number(m[1])] ?? 'nobody') : t;
  };

  // Data: per table, rows of each tenant (org = its slug), then stray rows of an unregistered org.
  const data: Record<string, Row[]> = {};
  tables.forEach((t, ti) => {
    const out: Row[] = [];
    const add = (cells: RawCell[], org: string, orgId: string): void => {
      const r: Record<string, Value> = {};
      t.columns.forEach((c, ci) => {
        const x = cells[ci % cells.length]!;
        if (c.name === 'id') r[c.name] = out.length + 1;
        else if (c.name === 'org') r[c.name] = org;
        else if (c.name === 'org_id') r[c.name] = orgId;
        else if (c.name === 'parent_id') r[c.name] = x.isNull ? null : 1 + (x.int % ((data[t.parent!]?.length ?? 0) + 1));
        else if (x.isNull) r[c.name] = null;
        else r[c.name] = c.type === 'text' ? text(x.text + ci) : c.type === 'int' ? x.int : x.bool;
      });
      out.push(r);
    };
    tenants.forEach((tenant, k) => raw.data[ti]![k]!.forEach((cells) => add(cells, tenant.slug, tenant.id)));
    raw.stray[ti]!.forEach((cells) => add(cells, 'other-org', STRAY_ID));
    data[t.name] = out;
  });

  const users: UserDef[] = raw.users.map((u, i) => {
    const a = u.attributes;
    const tenant = u.tenant === null ? undefined : tenants[u.tenant % tenants.length]!;
    // At least one user (index 0): apps only would leave attributes undeclared.
    const app = i > 0 && u.app > 0;
    const ids = app && tenant ? { 1: { tenant: tenant.slug }, 2: { tenantId: tenant.id }, 3: { tenant: tenant.slug, tenantId: tenant.id }, 4: { tenant: tenant.slug, tenantId: STRAY_ID } }[u.app] : {};
    return {
      kind: app ? ('app' as const) : ('user' as const),
      name: userNames[i]!,
      ...(app ? ids : tenant ? { tenant: tenant.slug } : {}),
      attributes: {
        ...(a.region === null ? {} : { region: REGIONS[a.region]! }),
        ...(a.level === null ? {} : { level: a.level }),
        ...(a.senior === null ? {} : { senior: a.senior }),
        ...(a.teams === null ? {} : { teams: a.teams.map((x) => TEAMS[x]!) }),
      },
      roles: app || roles.length === 0 ? [] : [...new Set(u.roles.map((r) => roles[r % roles.length]!))],
      access: u.access,
    };
  });

  const policies: PolicyDef[] = [];
  raw.policies.forEach((p, i) => {
    const name = `p${i}-${p.type.replace('_', '-')}`;
    const pick = (ids: number[]): TableDef[] => [...new Set(ids.map((x) => x % tables.length))].map((x) => tables[x]!);
    switch (p.type) {
      case 'row_filter': {
        let targets = pick(p.tables);
        const child = tables.find((t) => t.parent);
        if (child && containsSub(p.filter)) targets = [child];
        policies.push({ name, type: 'row_filter', tables: targets.map((t) => t.name), filter: resolveFilter(p.filter, targets, text) });
        break;
      }
      case 'column_mask': {
        const table = tables[p.table % tables.length]!;
        const column = table.columns[p.column % table.columns.length]!;
        policies.push({ name, type: 'column_mask', table: table.name, column: column.name, mask: resolveMask(p.mask, table, column, text) });
        break;
      }
      case 'column_deny': {
        const table = tables[p.table % tables.length]!;
        const columns = [...new Set(p.columns.map((c) => table.columns[c % table.columns.length]!.name))];
        policies.push({ name, type: 'column_deny', table: table.name, columns });
        break;
      }
      case 'column_allow': {
        const targets = pick(p.tables);
        const common = commonColumns(targets);
        const columns = p.columns === null ? ('*' as const) : [...new Set(p.columns.map((c) => common[c % common.length]!.name))];
        policies.push({ name, type: 'column_allow', tables: targets.map((t) => t.name), columns });
        break;
      }
      case 'table_deny':
        policies.push({ name, type: 'table_deny', tables: pick(p.tables).map((t) => t.name) });
        break;
    }
  });

  // Every other policy with a `tables` list writes it as a glob where one matches exactly its tables.
  policies.forEach((p, i) => {
    if (i % 2 === 1 || !('tables' in p)) return;
    const glob = globFor(p.tables, tables.map((t) => t.name));
    if (glob !== undefined) policies[i] = { ...p, glob };
  });

  const sel = (s: RawSelector): Selector => {
    if (s.kind === 'role' && roles.length > 0) return { kind: 'role', name: roles[s.index % roles.length]! };
    const u = users[s.index % users.length]!;
    return { kind: u.kind, name: u.name };
  };
  const uniqueSelectors = (list: Selector[]): Selector[] => [...new Map(list.map((s) => [JSON.stringify(s), s])).values()];
  const assignments: AssignmentDef[] = raw.assignments.map((a) => ({
    policy: policies[a.policy % policies.length]!.name,
    to: a.to === null ? [{ kind: 'all' }] : uniqueSelectors(a.to.map(sel)),
    except: uniqueSelectors(a.except.map(sel)),
    ...(a.priority === null ? {} : { priority: PRIORITIES[a.priority]! }),
  }));

  // An attribute that no user declares is an error at validate time: declare what the policies read on the
  // first user (the other users keep theirs absent, which reads as NULL).
  const read = new Set(policies.flatMap(attributesRead));
  const first = users[0]!;
  const defaults: Required<Attributes> = { region: 'eu', level: 2, senior: true, teams: ['red'] };
  const missing = ATTRIBUTE_NAMES.filter((n) => read.has(n) && !users.some((u) => u.kind === 'user' && u.attributes[n] !== undefined));
  if (missing.length > 0) {
    users[0] = { ...first, attributes: { ...first.attributes, ...Object.fromEntries(missing.map((n) => [n, defaults[n]])) } };
  }

  return { mode: raw.mode, tables, rows: data, tenants, roles, users, policies, assignments };
}

/** Shell-style `*` only, written here from the policy language's examples ("*", "raw_*"), not from src/. */
const globMatches = (glob: string, name: string): boolean =>
  new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name);

/** A pattern matching exactly `targets` among `all`, if one of a few simple shapes does. */
function globFor(targets: readonly string[], all: readonly string[]): string | undefined {
  const want = [...targets].sort().join('\u0000');
  const candidates = ['*', ...targets.flatMap((t) => [`${t[0]}*`, `*${t.slice(-1)}`, `${t.slice(0, 2)}*`, `*${t.slice(-2)}`])];
  return candidates.find((g) => all.filter((n) => globMatches(g, n)).sort().join('\u0000') === want);
}

function containsSub(f: RawFilter): boolean {
  switch (f.k) {
    case 'sub':
      return true;
    case 'not':
      return containsSub(f.a);
    case 'and':
    case 'or':
      return containsSub(f.a) || containsSub(f.b);
    default:
      return false;
  }
}

/** Columns present, with the same type, in every one of `tables` (`id` always is). */
function commonColumns(tables: readonly TableDef[]): ColumnDef[] {
  const [first, ...rest] = tables;
  return first!.columns.filter((c) => rest.every((t) => t.columns.some((o) => o.name === c.name && o.type === c.type)));
}

function resolveFilter(f: RawFilter, targets: readonly TableDef[], text: (i: number) => string): Filter {
  const common = commonColumns(targets);
  const ofType = (type: ColumnType, slot: number): string | undefined => {
    const cols = common.filter((c) => c.type === type && c.name !== 'id');
    return cols.length === 0 ? undefined : cols[slot % cols.length]!.name;
  };
  const fallback = (slot: number): Filter => ({ k: 'in', col: 'id', values: [1 + (slot % 4), 3 + (slot % 5)] });
  switch (f.k) {
    case 'org':
      return common.some((c) => c.name === 'org') ? { k: 'eqAttr', col: 'org', attr: 'tenant' } : { k: 'senior' };
    case 'orgId':
      return common.some((c) => c.name === 'org_id') ? { k: 'eqAttr', col: 'org_id', attr: 'tenant_id' } : resolveFilter({ k: 'org' }, targets, text);
    case 'eqAttr': {
      const col = ofType(f.attr === 'level' ? 'int' : 'text', f.slot);
      return col ? { k: 'eqAttr', col, attr: f.attr } : fallback(f.slot);
    }
    case 'in': {
      const col = f.type === 'int' ? (ofType('int', f.slot) ?? 'id') : ofType(f.type, f.slot);
      if (!col) return fallback(f.slot);
      const values = [...new Set(f.values.map((v) => (f.type === 'text' ? text(v) : f.type === 'int' ? v % 6 : v % 2 === 0)))];
      return { k: 'in', col, values };
    }
    case 'leLevel': {
      const col = ofType('int', f.slot);
      return { k: 'leLevel', col: col ?? 'id' };
    }
    case 'anyTeams': {
      const col = ofType('text', f.slot);
      return col ? { k: 'anyTeams', col } : fallback(f.slot);
    }
    case 'senior':
      return { k: 'senior' };
    case 'isNull': {
      const cols = common.filter((c) => c.name !== 'id');
      return cols.length === 0 ? fallback(f.slot) : { k: 'isNull', col: cols[f.slot % cols.length]!.name };
    }
    case 'boolCol': {
      const col = ofType('bool', f.slot);
      return col ? { k: 'boolCol', col } : fallback(f.slot);
    }
    case 'sub': {
      const parent = targets.length === 1 ? targets[0]!.parent : undefined;
      return parent ? { k: 'sub', parent } : { k: 'eqAttr', col: common.some((c) => c.name === 'org') ? 'org' : 'id', attr: common.some((c) => c.name === 'org') ? 'tenant' : 'level' };
    }
    case 'not':
      return { k: 'not', a: resolveFilter(f.a, targets, text) };
    case 'and':
    case 'or':
      return { k: f.k, a: resolveFilter(f.a, targets, text), b: resolveFilter(f.b, targets, text) };
  }
}

function resolveMask(m: RawMask, table: TableDef, column: ColumnDef, text: (i: number) => string): Mask {
  const sameType = table.columns.filter((c) => c.type === column.type);
  const src = m.other === null ? column.name : sameType[m.other % sameType.length]!.name;
  const lit =
    column.type === 'text' ? ['[X]', '***', text(m.n)][m.variant]! : column.type === 'int' ? [0, -1, 99][m.variant]! : column.type === 'uuid' ? ZERO_ID : m.variant === 1;
  switch (m.k) {
    case 'null':
      return { k: 'null' };
    case 'lit':
      return { k: 'lit', value: lit };
    case 'ifSenior':
      return { k: 'ifSenior', src, value: lit };
    case 'fn':
      if (column.type === 'uuid') return { k: 'lit', value: lit };
      if (column.type === 'int') return { k: 'mod', src, n: m.n + 1 };
      if (column.type === 'bool') return { k: 'not', src };
      return m.variant === 0 ? { k: 'stars', src, n: m.n } : m.variant === 1 ? { k: 'left', src, n: m.n } : { k: 'upper', src };
  }
}

export function filterAttributes(f: Filter): string[] {
  switch (f.k) {
    case 'eqAttr':
      return [f.attr];
    case 'leLevel':
      return ['level'];
    case 'anyTeams':
      return ['teams'];
    case 'senior':
      return ['senior'];
    case 'sub':
      return ['tenant'];
    case 'not':
      return filterAttributes(f.a);
    case 'and':
    case 'or':
      return [...filterAttributes(f.a), ...filterAttributes(f.b)];
    default:
      return [];
  }
}

/** Template attributes (`{user.X}`) that a policy's expression reads. */
export function attributesRead(p: PolicyDef): string[] {
  if (p.type === 'row_filter') return filterAttributes(p.filter);
  if (p.type === 'column_mask') return p.mask.k === 'ifSenior' ? ['senior'] : [];
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

export function filterSql(f: Filter): string {
  switch (f.k) {
    case 'eqAttr':
      return `${ident(f.col)} = {user.${f.attr}}`;
    case 'in':
      return `${ident(f.col)} IN (${f.values.map((v) => literal(v)).join(', ')})`;
    case 'leLevel':
      return `${ident(f.col)} <= {user.level}`;
    case 'anyTeams':
      return `${ident(f.col)} = ANY({user.teams})`;
    case 'senior':
      return '{user.senior}';
    case 'isNull':
      return `${ident(f.col)} IS NULL`;
    case 'boolCol':
      return ident(f.col);
    case 'sub':
      return `${ident('parent_id')} IN (SELECT ${ident('id')} FROM ${ident(f.parent)} WHERE ${ident('org')} = {user.tenant})`;
    case 'not':
      return `NOT (${filterSql(f.a)})`;
    case 'and':
    case 'or':
      return `(${filterSql(f.a)}) ${f.k.toUpperCase()} (${filterSql(f.b)})`;
  }
}

export function maskSql(m: Mask): string {
  switch (m.k) {
    case 'null':
      return 'NULL';
    case 'lit':
      return literal(m.value);
    case 'stars':
      return `'***' || right(${ident(m.src)}, ${m.n})`;
    case 'left':
      return `left(${ident(m.src)}, ${m.n})`;
    case 'upper':
      return `upper(${ident(m.src)})`;
    case 'mod':
      return `${ident(m.src)} % ${m.n}`;
    case 'not':
      return `NOT ${ident(m.src)}`;
    case 'ifSenior':
      return `CASE WHEN {user.senior} THEN ${ident(m.src)} ELSE ${literal(m.value)} END`;
  }
}

/** Columns a mask reads. */
export function maskColumns(m: Mask): string[] {
  return 'src' in m ? [m.src] : [];
}

export function policyYaml(c: Case): string {
  const selectorYaml = (s: Selector): unknown => (s.kind === 'all' ? 'all' : { [s.kind]: s.name });
  const doc = {
    version: 1,
    mode: c.mode,
    schemas: ['public'],
    ...(c.roles.length > 0 ? { roles: c.roles.map((name) => ({ name })) } : {}),
    users: c.users.filter((u) => u.kind === 'user').map((u) => ({
      name: u.name,
      password: { env: PASSWORD_ENV },
      ...(u.tenant === undefined ? {} : { tenant: u.tenant }),
      ...(Object.keys(u.attributes).length > 0 ? { attributes: u.attributes } : {}),
      ...(u.roles.length > 0 ? { roles: u.roles } : {}),
      access: u.access,
    })),
    ...(c.users.some((u) => u.kind === 'app')
      ? { apps: c.users.filter((u) => u.kind === 'app').map((u) => ({ name: u.name, password: { env: PASSWORD_ENV }, context: APP_CONTEXT, access: u.access })) }
      : {}),
    policies: c.policies.map((p) => {
      switch (p.type) {
        case 'row_filter':
          return { name: p.name, type: p.type, tables: p.glob ? [p.glob] : p.tables, filter: filterSql(p.filter) };
        case 'column_mask':
          return { name: p.name, type: p.type, table: p.table, column: p.column, mask: maskSql(p.mask) };
        case 'column_deny':
          return { name: p.name, type: p.type, table: p.table, columns: p.columns };
        case 'column_allow':
          return { name: p.name, type: p.type, tables: p.glob ? [p.glob] : p.tables, columns: p.columns === '*' ? ['*'] : p.columns };
        case 'table_deny':
          return { name: p.name, type: p.type, tables: p.glob ? [p.glob] : p.tables };
      }
    }),
    assignments: c.assignments.map((a) => ({
      policy: a.policy,
      to: a.to.length === 1 && a.to[0]!.kind === 'all' ? 'all' : a.to.map(selectorYaml),
      ...(a.except.length > 0 ? { except: a.except.map(selectorYaml) } : {}),
      ...(a.priority === undefined ? {} : { priority: a.priority }),
    })),
  };
  return stringify(doc, { lineWidth: 0 });
}

const SQL_TYPE: Record<ColumnType, string> = { text: 'text', int: 'integer', bool: 'boolean', uuid: 'uuid' };

export function schemaSql(c: Case): string {
  return c.tables
    .map((t) => `CREATE TABLE ${ident(t.name)} (${t.columns.map((col) => `${ident(col.name)} ${SQL_TYPE[col.type]}${col.name === 'id' ? ' PRIMARY KEY' : ''}`).join(', ')});`)
    .join('\n');
}

export function dataSql(c: Case): string {
  return c.tables
    .filter((t) => (c.rows[t.name] ?? []).length > 0)
    .map(
      (t) =>
        `INSERT INTO ${ident(t.name)} (${t.columns.map((col) => ident(col.name)).join(', ')}) VALUES\n  ` +
        c.rows[t.name]!.map((r) => `(${t.columns.map((col) => literal(r[col.name] ?? null)).join(', ')})`).join(',\n  ') +
        ';',
    )
    .join('\n');
}

export function tenantsSql(c: Case, registry = 'tenant_registry'): string {
  return `INSERT INTO ${ident(registry)}.${ident('tenants')} (id, slug, name, status) VALUES ${c.tenants
    .map((t) => `(${literal(t.id)}, ${literal(t.slug)}, ${literal(t.slug.toUpperCase())}, ${literal(t.status)})`)
    .join(', ')};`;
}
