// Policy targets against the live catalog: which governed tables each table reference names, and the
// checks that need the real tables (unknown tables and columns, with "did you mean").
import type { CatalogState, CatalogTable } from '../catalog/types.js';
import { error, warning, type Diagnostic } from '../policy/diagnostic.js';
import type { Expression, NameRef, Policy, PolicyModel, TableRef } from '../policy/model.js';
import { suggest } from '../policy/suggest.js';
import { tableRefMatches, tableRefText } from '../policy/tables.js';

export const tableKey = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;

/** Tables that policies can govern: ordinary and partitioned tables of the governed schemas, not partitions. */
export function governableTables(catalog: CatalogState, schemas: readonly string[]): CatalogTable[] {
  return catalog.tables.filter((t) => schemas.includes(t.schema) && (t.kind === 'r' || t.kind === 'p') && !t.partitionOf);
}

/** Every partition, at any depth, of a governed table (each needs RLS of its own). */
export function partitionsOf(catalog: CatalogState, roots: readonly CatalogTable[]): CatalogTable[] {
  const found: CatalogTable[] = [];
  let frontier = new Set(roots.map(tableKey));
  while (frontier.size > 0) {
    const next = catalog.tables.filter((t) => t.partitionOf && frontier.has(tableKey(t.partitionOf)));
    found.push(...next);
    frontier = new Set(next.map(tableKey));
  }
  return found;
}

export interface Resolution {
  /** policy name -> governed tables it targets */
  readonly targets: ReadonlyMap<string, readonly CatalogTable[]>;
  readonly diagnostics: readonly Diagnostic[];
}

export function resolveTargets(model: PolicyModel, catalog: CatalogState, governed: readonly CatalogTable[]): Resolution {
  const schemas = model.schemas.map((s) => s.name);
  const diagnostics: Diagnostic[] = [];
  const targets = new Map<string, CatalogTable[]>();
  // A name (not a glob) can only match tables of that name: those, in governed order, are the candidates, not
  // every governed table (500 refs x 500 tables at scale). tableRefMatches still decides.
  const byName = new Map<string, CatalogTable[]>();
  for (const t of governed) {
    const list = byName.get(t.name);
    if (list) list.push(t);
    else byName.set(t.name, [t]);
  }
  const none: readonly CatalogTable[] = [];
  for (const policy of model.policies) {
    const matched = new Map<string, CatalogTable>();
    for (const ref of policy.tables) {
      const candidates = ref.glob ? governed : (byName.get(ref.name) ?? none);
      const hits = candidates.filter((t) => tableRefMatches(ref, t.schema, t.name));
      if (hits.length === 0) diagnostics.push(unknownTable(ref, catalog, governed, schemas));
      for (const t of hits) matched.set(tableKey(t), t);
    }
    const tables = [...matched.values()];
    targets.set(policy.name, tables);
    diagnostics.push(...columnDiagnostics(policy, tables));
    diagnostics.push(...expressionDiagnostics(policy, tables, catalog, schemas));
  }
  return { targets, diagnostics };
}

function unknownTable(ref: TableRef, catalog: CatalogState, governed: readonly CatalogTable[], schemas: readonly string[]): Diagnostic {
  if (ref.glob) return warning(ref.pos, `\`${tableRefText(ref)}\` matches no table in ${schemaList(schemas)}`);
  if (ref.schema !== undefined && !schemas.includes(ref.schema)) {
    return error(ref.pos, `schema \`${ref.schema}\` is not governed; add it to \`schemas:\` (now ${schemaList(schemas)})`);
  }
  const other = catalog.tables.find((t) => schemas.includes(t.schema) && t.name === ref.name);
  if (other?.partitionOf) {
    return error(ref.pos, `\`${tableRefText(ref)}\` is a partition of ${tableKey(other.partitionOf)}; target the partitioned table`);
  }
  if (other) return error(ref.pos, `\`${tableRefText(ref)}\` is a ${kindName(other.kind)}, not a table; row security applies to tables only`);
  const hint = suggest(ref.name, governed.map((t) => t.name));
  return error(ref.pos, `unknown table \`${tableRefText(ref)}\` in ${schemaList(schemas)}`, hint);
}

function kindName(kind: CatalogTable['kind']): string {
  return { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' }[kind];
}

function schemaList(schemas: readonly string[]): string {
  return schemas.length === 1 ? `schema ${schemas[0]}` : `schemas ${schemas.join(', ')}`;
}

function checkColumn(ref: NameRef, table: CatalogTable): Diagnostic | undefined {
  if (table.columns.some((c) => c.name === ref.name)) return undefined;
  return error(
    ref.pos,
    `unknown column \`${ref.name}\` on ${table.name}`,
    suggest(ref.name, table.columns.map((c) => c.name)),
  );
}

function columnDiagnostics(policy: Policy, tables: readonly CatalogTable[]): Diagnostic[] {
  const refs: readonly NameRef[] =
    policy.type === 'column_mask' ? [policy.column] : policy.type === 'column_deny' ? policy.columns : policy.type === 'column_allow' && policy.columns !== 'all' ? policy.columns : [];
  const out: Diagnostic[] = [];
  for (const table of tables) for (const ref of refs) {
    const d = checkColumn(ref, table);
    if (d) out.push(d);
  }
  return out;
}

/** Relations an expression reads, resolved against the catalog (search_path = governed schemas, in order). */
export function resolveRelations(expr: Expression, catalog: CatalogState, schemas: readonly string[]): (CatalogTable | undefined)[] {
  return expr.relations.map((r) => {
    if (r.schema !== undefined) return catalog.tables.find((t) => t.schema === r.schema && t.name === r.name);
    for (const s of schemas) {
      const hit = catalog.tables.find((t) => t.schema === s && t.name === r.name);
      if (hit) return hit;
    }
    return undefined;
  });
}

function expressionDiagnostics(policy: Policy, tables: readonly CatalogTable[], catalog: CatalogState, schemas: readonly string[]): Diagnostic[] {
  const expr = policy.type === 'row_filter' ? policy.filter : policy.type === 'column_mask' ? policy.mask : undefined;
  if (!expr) return [];
  const out: Diagnostic[] = [];
  const relations = resolveRelations(expr, catalog, schemas);
  expr.relations.forEach((r, i) => {
    if (relations[i] || policy.allowRefs.some((a) => a.name === r.name && (a.schema === undefined || a.schema === r.schema))) return;
    const candidates = catalog.tables.filter((t) => schemas.includes(t.schema)).map((t) => t.name);
    out.push(error(expr.charPos[r.offset] ?? expr.pos, `unknown table \`${r.schema ? `${r.schema}.` : ''}${r.name}\` in ${schemaList(schemas)}`, suggest(r.name, candidates)));
  });
  const known = relations.filter((t): t is CatalogTable => t !== undefined);
  for (const table of tables) {
    const scope = new Set([...table.columns, ...known.flatMap((t) => t.columns)].map((c) => c.name));
    for (const c of expr.columns) {
      // Qualified references (o.org) belong to a relation of a subquery or to the table by name: checked
      // only when the qualifier is the target table itself.
      if (c.qualifier.length > 0 && c.qualifier[c.qualifier.length - 1] !== table.name) continue;
      if (scope.has(c.name)) continue;
      out.push(
        error(
          expr.charPos[c.offset] ?? expr.pos,
          `unknown column \`${c.name}\` on ${table.name}`,
          suggest(c.name, table.columns.map((col) => col.name)),
        ),
      );
    }
  }
  return out;
}
