// PolicyModel + CatalogState -> DesiredState. Pure: the environment (for passwords) and the runtime SQL
// text are passed in; nothing here opens a connection or a file.
import { createHash } from 'node:crypto';
import type { CatalogState, CatalogTable } from '../catalog/types.js';
import { error, sortDiagnostics, type Diagnostic } from '../policy/diagnostic.js';
import { principals as allPrincipals, sharedEffectiveAssignments, type EffectiveAssignment } from '../policy/effective.js';
import { chooseMask, type MaskAssignment } from '../policy/masks.js';
import type { Expression, PolicyModel, Principal, RowFilterPolicy } from '../policy/model.js';
import { suggest } from '../policy/suggest.js';
import { compiledWriteTemplate, renderExpression } from '../policy/templates.js';
import { ident } from '../pg/quote.js';
import { impliesVisible } from './guard.js';
import { governableTables, partitionsOf, resolveRelations, resolveTargets, tableKey } from './resolve.js';
import {
  MANAGED_MARKER,
  PERSONA_PREFIX,
  type CompileResult,
  type DesiredPrincipal,
  type DesiredRole,
  type PasswordWish,
  type Persona,
  type PersonaTable,
  type TableName,
  type ViewColumn,
} from './types.js';

export interface CompileOptions {
  registrySchema: string;
  /** sql/runtime.sql as shipped (with the `:registry` placeholder). */
  runtimeSql: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Guard in every row predicate: a known principal whose tenant is not archived. Once per statement; left out
 * when a filter already implies it (`org = {user.tenant}`: see guard.ts), which saves one lookup per statement.
 */
export const VISIBLE = '(SELECT tenantctl.visible())';
/**
 * In readwrite write checks: raises for a frozen tenant. Once per statement; left out when a filter has a
 * top-level `column = {user.tenant}` (the guard's condition), whose write form calls writable_attr(), which
 * raises itself.
 */
export const WRITABLE = '(SELECT tenantctl.writable())';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function compile(model: PolicyModel, catalog: CatalogState, options: CompileOptions): CompileResult {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const push = (d: Diagnostic): void => void (d.severity === 'error' ? errors : warnings).push(d);

  const schemas = model.schemas.map((s) => s.name);
  for (const s of model.schemas) {
    if (!catalog.schemas.some((c) => c.name === s.name)) {
      push(error(s.pos, `schema \`${s.name}\` does not exist in database ${catalog.database}`, suggest(s.name, catalog.schemas.map((c) => c.name))));
    }
  }
  const governed = governableTables(catalog, schemas);
  const resolution = resolveTargets(model, catalog, governed);
  resolution.diagnostics.forEach(push);

  const tenants = new Set((catalog.registry?.tenants ?? []).map((t) => t.slug));
  for (const user of model.users) {
    if (user.tenant && !tenants.has(user.tenant.name)) {
      push(
        error(
          user.tenant.pos,
          `tenant \`${user.tenant.name}\` is not in the registry (${options.registrySchema}.tenants); register it with \`tenantctl tenant create ${user.tenant.name}\``,
          suggest(user.tenant.name, tenants),
        ),
      );
    }
  }

  const passwords = new Map<string, PasswordWish>();
  for (const p of allPrincipals(model)) {
    if (!p.password) continue;
    const source = p.password;
    if (source.kind === 'env') {
      const value = options.env[source.variable];
      if (value === undefined || value === '') push(error(source.pos, `environment variable ${source.variable} is not set (password of ${p.name})`));
      else passwords.set(p.name, { kind: 'plaintext', plaintext: value });
    } else if (source.kind === 'value') passwords.set(p.name, { kind: 'plaintext', plaintext: source.value });
    else passwords.set(p.name, { kind: 'verifier', verifier: source.verifier });
  }

  const governedKeys = new Set(governed.map(tableKey));
  const tableMemo: TableMemo = new Map();
  const targetKeys = new Map([...resolution.targets].map(([policy, tables]) => [policy, new Set(tables.map(tableKey))] as const));
  const shapes = new Map<string, Shape & { id: string; sameNamed: readonly (readonly [TableName, TableName])[] }>();
  // Each principal's view of every governed table; principals with equal views share a persona.
  const byId = new Map<string, { persona: Omit<Persona, 'members' | 'policies'>; members: string[]; policies: Set<string>; merged: Set<object> }>();
  // The shape key of each assignment list and access. sharedEffectiveAssignments returns one frozen array per
  // class of principals, so the key is built once per class, not once per principal: 1,000 keys of 210
  // assignments each, every one a new 1.5 kB string to hash for the lookup: about 20 ms of compile's 80-90 ms.
  const shapeKeys = new Map<readonly EffectiveAssignment[], Map<string, string>>();
  const personaOf = new Map<string, string>();
  for (const principal of allPrincipals(model)) {
    // The shape depends only on the assignments that reach the principal and its access: computed once per
    // distinct set (1,000 users typically share a handful), not per user x table (measured: 28 s -> ms).
    const assigned = sharedEffectiveAssignments(model, principal);
    let keys = shapeKeys.get(assigned);
    if (!keys) shapeKeys.set(assigned, (keys = new Map()));
    let key = keys.get(principal.access);
    if (key === undefined) keys.set(principal.access, (key = `${principal.access}|${assigned.map((a) => `${a.assignment.index}:${a.via}`).join(',')}`));
    let shaped = shapes.get(key);
    if (!shaped) {
      const shape = shapeFor(model, catalog, principal, assigned, governed, governedKeys, targetKeys, schemas, tableMemo, push);
      // The persona id hashes the whole shape (every table's columns and predicates): once per shape, not per
      // principal (1,000 users x 500 tables hashed 100 MB of JSON).
      const signature = JSON.stringify({ database: catalog.database, access: principal.access, tables: shape.tables, referenced: shape.referenced });
      shaped = { ...shape, id: sha256(signature).slice(0, 10), sameNamed: sameNamedTables(shape.tables) };
      shapes.set(key, shaped);
    }
    for (const [other, table] of shaped.sameNamed) sameNamedTableError(model, principal, other, table, push);
    const id = shaped.id;
    personaOf.set(principal.name, id);
    const entry = byId.get(id) ?? {
      persona: {
        id,
        schema: `${PERSONA_PREFIX}${id}`,
        owner: `${PERSONA_PREFIX}${id}_owner`,
        reader: `${PERSONA_PREFIX}${id}_reader`,
        access: principal.access,
        tables: shaped.tables,
        referenced: shaped.referenced,
      },
      members: [],
      policies: new Set<string>(),
      merged: new Set<object>(),
    };
    entry.members.push(principal.name);
    // A shape's policies once per persona, not once per member (1,000 x 200 Set.add of names already there).
    if (!entry.merged.has(shaped)) {
      entry.merged.add(shaped);
      shaped.policies.forEach((p) => entry.policies.add(p));
    }
    byId.set(id, entry);
  }
  const named = nameAfterExisting(catalog, [...byId.values()].map((e) => ({ ...e.persona, members: e.members.sort(), policies: [...e.policies].sort() })));
  for (const [name, id] of personaOf) personaOf.set(name, named.renamed.get(id) ?? id);
  const personas = named.personas;

  const roles: DesiredRole[] = [];
  for (const r of model.roles) {
    roles.push({ name: r.name, kind: 'group', login: false, connectionLimit: -1, memberOf: [], comment: `${MANAGED_MARKER}: role${r.description ? ` — ${r.description}` : ''}` });
  }
  for (const p of personas) {
    const about = `policies ${p.policies.join(', ') || '(none)'}; ${p.access}; members ${p.members.join(', ')}`;
    roles.push({ name: p.owner, kind: 'persona-owner', login: false, connectionLimit: -1, memberOf: [], comment: `${MANAGED_MARKER}: owner of the views in ${p.schema} (${about})` });
    roles.push({ name: p.reader, kind: 'persona-reader', login: false, connectionLimit: -1, memberOf: [], comment: `${MANAGED_MARKER}: reads the views in ${p.schema} (${about})` });
  }
  for (const principal of allPrincipals(model)) {
    const persona = personas.find((p) => p.id === personaOf.get(principal.name)) as Persona;
    const groups = principal.kind === 'user' ? principal.roles.map((r) => r.name) : [];
    const password = passwords.get(principal.name);
    roles.push({
      name: principal.name,
      kind: principal.kind,
      login: true,
      connectionLimit: principal.connectionLimit ?? -1,
      ...(password ? { password } : {}),
      memberOf: [persona.reader, ...groups].sort(),
      searchPath: ident(persona.schema),
      comment: `${MANAGED_MARKER}: ${principal.kind}${principal.kind === 'user' && principal.tenant ? ` of tenant ${principal.tenant.name}` : ''}`,
    });
  }

  const principalRows: DesiredPrincipal[] = allPrincipals(model).map((p) =>
    p.kind === 'user'
      ? { role: p.name, kind: 'user', tenant: p.tenant?.name ?? null, attributes: Object.fromEntries(p.attributes.map((a) => [a.name, a.value])), context: {} }
      : { role: p.name, kind: 'app', tenant: null, attributes: {}, context: Object.fromEntries(p.context.map((c) => [c.attribute, { setting: c.setting, type: c.type }])) },
  );

  const runtimeSql = options.runtimeSql.replaceAll(':registry', ident(options.registrySchema));
  const governedTables: TableName[] = [...governed, ...partitionsOf(catalog, governed)]
    .map((t) => ({ schema: t.schema, name: t.name }))
    .sort((a, b) => tableKey(a).localeCompare(tableKey(b)));

  const sortedErrors = sortDiagnostics(errors);
  return {
    errors: sortedErrors,
    warnings: sortDiagnostics(warnings),
    ...(sortedErrors.length > 0
      ? {}
      : {
          desired: {
            registrySchema: options.registrySchema,
            schemas,
            runtime: { sql: runtimeSql, hash: sha256(runtimeSql) },
            governedTables,
            roles: roles.sort((a, b) => a.name.localeCompare(b.name)),
            personas,
            principals: principalRows.sort((a, b) => a.role.localeCompare(b.role)),
          },
        }),
  };
}

/**
 * Keep the names of the personas already in the database where it can, so that changing what a persona
 * may see replaces its views and policies in place instead of building a new persona beside the old one.
 * A persona keeps an existing name when its content is unchanged (same id), else when that existing
 * persona has exactly its members, else the one sharing the most members.
 */
function nameAfterExisting(catalog: CatalogState, fresh: Persona[]): { personas: Persona[]; renamed: Map<string, string> } {
  const existing = catalog.schemas
    .filter((s) => s.name.startsWith(PERSONA_PREFIX) && s.comment?.startsWith(MANAGED_MARKER))
    .map((s) => {
      const reader = `${s.name}_reader`;
      return { id: s.name.slice(PERSONA_PREFIX.length), members: new Set(catalog.roles.filter((r) => r.login && r.memberOf.includes(reader)).map((r) => r.name)) };
    });
  const claimed = new Set<string>();
  const choice = new Map<string, string>();
  const claim = (p: Persona, id: string): void => {
    claimed.add(id);
    choice.set(p.id, id);
  };
  for (const p of fresh) if (existing.some((e) => e.id === p.id)) claim(p, p.id);
  const overlap = (p: Persona, e: { members: Set<string> }): number => p.members.filter((m) => e.members.has(m)).length;
  for (const exact of [true, false]) {
    for (const p of fresh) {
      if (choice.has(p.id)) continue;
      const candidates = existing
        .filter((e) => !claimed.has(e.id) && !fresh.some((f) => f.id === e.id))
        .filter((e) => (exact ? e.members.size === p.members.length && overlap(p, e) === p.members.length : overlap(p, e) > 0))
        .sort((a, b) => overlap(p, b) - overlap(p, a) || a.id.localeCompare(b.id));
      if (candidates[0]) claim(p, candidates[0].id);
    }
  }
  const renamed = new Map<string, string>();
  const personas = fresh.map((p) => {
    const id = choice.get(p.id) ?? p.id;
    if (id === p.id) return p;
    renamed.set(p.id, id);
    return { ...p, id, schema: `${PERSONA_PREFIX}${id}`, owner: `${PERSONA_PREFIX}${id}_owner`, reader: `${PERSONA_PREFIX}${id}_reader` };
  });
  return { personas: personas.sort((a, b) => a.id.localeCompare(b.id)), renamed };
}

/**
 * A persona has one schema of views named after their tables, so two governed tables of one name in different
 * schemas (billing.events, catalog.events) cannot both be visible to one principal: the second CREATE VIEW would
 * fail at apply. Said here, with a position, before anything runs.
 */
function sameNamedTables(tables: readonly PersonaTable[]): [TableName, TableName][] {
  const first = new Map<string, TableName>();
  const pairs: [TableName, TableName][] = [];
  for (const { table } of tables) {
    const other = first.get(table.name);
    if (!other) first.set(table.name, table);
    else pairs.push([other, table]);
  }
  return pairs;
}

function sameNamedTableError(model: PolicyModel, principal: Principal, other: TableName, table: TableName, push: (d: Diagnostic) => void): void {
  const pos = model.schemas.find((s) => s.name === table.schema)?.pos ?? principal.pos;
  push(
    error(
      pos,
      `tables \`${other.schema}.${other.name}\` and \`${table.schema}.${table.name}\` are both visible to ${principal.name}, whose views are named by table name; deny one of them to ${principal.name} (table_deny) or rename one`,
    ),
  );
}

/** Compiled SQL of a filter or mask: templates become once-per-statement lookups. */
export function compileExpression(expr: Expression): string {
  return renderExpression(expr);
}

interface Shape {
  tables: PersonaTable[];
  referenced: { table: TableName; columns: string[] }[];
  policies: string[];
}

/**
 * What shapeFor decides for one table from the assignments on it, whatever the principal's access: whether the
 * table is left out, else its view columns and row predicate, and the columns its filters read on other
 * governed tables (in the order they were found). Principals of different shapes often have the same
 * assignments on most tables (a role that denies a column on 100 tables of 500; read and readwrite users), so
 * it is shared between shapes through a memo, and the PersonaTable of each access with it.
 */
interface TableBase {
  readonly excluded: boolean;
  readonly columns: ViewColumn[];
  readonly rows: string | undefined;
  readonly ownerSelect: string[];
  readonly filters: readonly RowFilterPolicy[];
  readonly guarded: boolean;
  readonly referenced: readonly { readonly rel: CatalogTable; readonly columns: readonly string[] }[];
  readonly byAccess: Map<Principal['access'], PersonaTable>;
}

/** Per compile: table (the catalog's object: `schema.name` keys can be ambiguous) -> assignments on it (index and via) -> TableBase. */
type TableMemo = Map<CatalogTable, Map<string, TableBase>>;

/** The rules of "Combining" (policy-language.md) for one principal, table by table. */
function shapeFor(
  model: PolicyModel,
  catalog: CatalogState,
  principal: Principal,
  assigned: readonly EffectiveAssignment[],
  governed: readonly CatalogTable[],
  governedKeys: ReadonlySet<string>,
  targets: ReadonlyMap<string, ReadonlySet<string>>,
  schemas: readonly string[],
  memo: TableMemo,
  push: (d: Diagnostic) => void,
): Shape {
  // The assignments on each table, in assignment order: one pass over the assignments' targets, not a filter of
  // every assignment for every table (250 assignments x 500 tables per shape at scale).
  const byTable = new Map<string, EffectiveAssignment[]>();
  for (const a of assigned) {
    for (const key of targets.get(a.policy.name) ?? []) {
      const list = byTable.get(key);
      if (list) list.push(a);
      else byTable.set(key, [a]);
    }
  }
  const none: readonly EffectiveAssignment[] = [];
  const tables: PersonaTable[] = [];
  const referenced = new Map<string, { table: TableName; columns: Set<string> }>();
  const used = new Set<string>();

  for (const table of governed) {
    const key = tableKey(table);
    const here = byTable.get(key) ?? none;
    here.forEach((a) => used.add(a.policy.name));
    // Everything tableBase reads of an assignment is its policy and priority (by its index) and its via.
    const memoKey = here.map((a) => `${a.assignment.index}:${a.via}`).join(',');
    let byAssignments = memo.get(table);
    if (!byAssignments) memo.set(table, (byAssignments = new Map()));
    let base = byAssignments.get(memoKey);
    if (!base) {
      // A table that gave a diagnostic is not shared: the diagnostic names the principal, and another
      // principal's shape must give its own.
      let diagnosed = false;
      base = tableBase(model, catalog, principal, table, here, governedKeys, schemas, (d) => {
        diagnosed = true;
        push(d);
      });
      if (!diagnosed) byAssignments.set(memoKey, base);
    }
    if (base.excluded) continue;
    for (const { rel, columns } of base.referenced) {
      const entry = referenced.get(tableKey(rel)) ?? { table: { schema: rel.schema, name: rel.name }, columns: new Set<string>() };
      for (const c of columns) entry.columns.add(c);
      referenced.set(tableKey(rel), entry);
    }
    let persona = base.byAccess.get(principal.access);
    if (!persona) base.byAccess.set(principal.access, (persona = personaTable(base, table, principal.access)));
    tables.push(persona);
  }
  return {
    tables,
    referenced: [...referenced.values()].map((r) => ({ table: r.table, columns: [...r.columns].sort() })).sort((a, b) => tableKey(a.table).localeCompare(tableKey(b.table))),
    policies: [...used].sort(),
  };
}

const EXCLUDED: Omit<TableBase, 'byAccess'> = { excluded: true, columns: [], rows: undefined, ownerSelect: [], filters: [], guarded: true, referenced: [] };

/** Rules 1 to 5 for one table, given the assignments on it (see TableBase). */
function tableBase(
  model: PolicyModel,
  catalog: CatalogState,
  principal: Principal,
  table: CatalogTable,
  here: readonly EffectiveAssignment[],
  governedKeys: ReadonlySet<string>,
  schemas: readonly string[],
  push: (d: Diagnostic) => void,
): TableBase {
  // 1. Deny always wins.
  if (here.some((a) => a.policy.type === 'table_deny')) return { ...EXCLUDED, byAccess: new Map() };
  // A policy reached by several assignments counts once, in the order first assigned.
  const filters = [...new Set(here.flatMap((a) => (a.policy.type === 'row_filter' ? [a.policy] : [])))];
  const allows = here.flatMap((a) => (a.policy.type === 'column_allow' ? [a.policy] : []));
  // 2. Visibility.
  const readable = model.mode === 'open' || filters.length > 0 || allows.length > 0;
  // 4. Columns: all, or the union of allow lists; minus every deny.
  const lists = allows.map((p) => p.columns);
  const allowed = lists.length === 0 || lists.includes('all') ? undefined : new Set(lists.flatMap((l) => (l === 'all' ? [] : l.map((c) => c.name))));
  const denied = new Set(here.flatMap((a) => (a.policy.type === 'column_deny' ? a.policy.columns.map((c) => c.name) : [])));
  const visible = table.columns.filter((c) => (!allowed || allowed.has(c.name)) && !denied.has(c.name));
  // No visible column: PostgreSQL reads a table only with SELECT on at least one of its columns, and a
  // denied column is never granted, so such a table cannot exist with "its rows and no columns". It does
  // not exist for the principal, as with table_deny (narrower than the letter of rule 4; docs say so).
  if (visible.length === 0 && table.columns.length > 0) return { ...EXCLUDED, byAccess: new Map() };
  // 5. Masks: lowest priority, then the most specific assignment; a denied column is absent, not masked.
  const masks = here.filter((a): a is MaskAssignment => a.policy.type === 'column_mask');
  const ownerSelect = new Set<string>();
  const columns: ViewColumn[] = visible.map((c) => {
    const candidates = masks.filter((m) => m.policy.column.name === c.name);
    if (candidates.length === 0) {
      ownerSelect.add(c.name);
      return { name: c.name };
    }
    const choice = chooseMask(candidates);
    if (choice.kind === 'tie') {
      const [a, b] = choice.tied;
      push(
        error(
          b.assignment.pos,
          `masks \`${a.policy.name}\` and \`${b.policy.name}\` tie for ${principal.name} on ${table.name}.${c.name} (same priority ${a.assignment.priority}, both ${a.via === 'all' ? 'to: all' : `to: ${a.via}`}); give one a lower priority`,
        ),
      );
      return { name: c.name };
    }
    const mask = choice.winner.policy.mask;
    // A denied column "does not exist for the user" and deny wins: a mask computed from it would hand the user
    // part of it (and its persona owner is never granted it, so the view could not be read at all). Refused.
    const leaked = mask.columns.find((ref) => denied.has(ref.name));
    if (leaked) {
      const deny = here.find((a) => a.policy.type === 'column_deny' && a.policy.columns.some((dc) => dc.name === leaked.name));
      push(
        error(
          choice.winner.assignment.pos,
          `mask \`${choice.winner.policy.name}\` of ${table.name}.${c.name} reads column \`${leaked.name}\`, which \`${deny?.policy.name}\` denies to ${principal.name}: a denied column must not reach the user through a mask; compute the mask from other columns, or do not deny \`${leaked.name}\``,
        ),
      );
      return { name: c.name };
    }
    for (const ref of mask.columns) if (table.columns.some((tc) => tc.name === ref.name)) ownerSelect.add(ref.name);
    return { name: c.name, mask: compileExpression(mask) };
  });
  // Every visible column masked by an expression that reads no column (a constant): the view still scans
  // the table, which needs SELECT on some column: the masked columns, which the owner may read (design:
  // "masked columns included"), never a denied one.
  if (ownerSelect.size === 0) for (const c of columns) ownerSelect.add(c.name);
  // 3. Rows: every filter ANDed, behind the visibility guard (unless a filter implies it).
  const predicates = filters.map((f) => `(${compileExpression(f.filter)})`);
  const guarded = !filters.some((f) => impliesVisible(f.filter, table));
  const rows = readable ? [...(guarded ? [VISIBLE] : []), ...predicates].join(' AND ') : undefined;
  // The columns the filters read on governed tables (their owner needs SELECT on them), in order found.
  const referenced: { rel: CatalogTable; columns: string[] }[] = [];
  for (const f of filters) {
    resolveRelations(f.filter, catalog, schemas).forEach((rel) => {
      if (!rel || !governedKeys.has(tableKey(rel))) return;
      referenced.push({ rel, columns: f.filter.columns.filter((ref) => rel.columns.some((c) => c.name === ref.name)).map((ref) => ref.name) });
    });
  }
  return { excluded: false, columns, rows, ownerSelect: [...ownerSelect].sort(), filters, guarded, referenced, byAccess: new Map() };
}

/** The persona's table for an access, from the access-independent part. */
function personaTable(base: TableBase, table: CatalogTable, access: Principal['access']): PersonaTable {
  const { columns, rows, guarded, filters } = base;
  // The write check (INSERT and UPDATE WITH CHECK, DELETE USING) adds the frozen-tenant check. Where the
  // guard could go, a top-level `column = {user.tenant}` is evaluated for every row a write touches: its
  // writable_attr() form raises for a frozen tenant, one lookup instead of two. Elsewhere, writable().
  const write = access === 'readwrite';
  const writeRows =
    rows === undefined || !write
      ? undefined
      : guarded
        ? `${rows} AND ${WRITABLE}`
        : filters.map((f) => `(${renderExpression(f.filter, (t) => compiledWriteTemplate(t.attribute, t.type))})`).join(' AND ');
  return {
    table: { schema: table.schema, name: table.name },
    columns,
    ...(rows === undefined ? {} : { rows }),
    ...(writeRows === undefined ? {} : { writeRows }),
    ownerSelect: base.ownerSelect,
    ownerWrite: write ? columns.filter((c) => c.mask === undefined).map((c) => c.name) : [],
    sequences: write ? [...table.defaultSequences].sort() : [],
  };
}
