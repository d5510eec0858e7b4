// When a row predicate needs no `(SELECT tenantctl.visible())` guard.
//
// The guard makes a principal that should see nothing (unknown login, archived or unknown tenant, app without
// its tenant setting) see no rows, whatever the filter says. Each guard is one more lookup per statement (an
// InitPlan calling a SECURITY DEFINER function: a fixed cost of every statement, issue #9), and for the most
// common filter it is redundant: sql/runtime.sql guarantees that attr('tenant') and attr('tenant_id') are NULL
// whenever visible() is false, so a filter with a top-level conjunct `column = {user.tenant}` (or
// `{user.tenant_id}`) already rejects every row then: `column = NULL` is NULL under a strict `=`, and a NULL
// conjunct makes the whole AND not true, which RLS treats as false (USING) or as a violation (WITH CHECK).
//
// Deliberately narrow, so that the argument holds:
//   - top-level AND conjuncts only (never under OR / NOT / CASE / a sub-select);
//   - a bare column of the policy's own table on one side, the bare template on the other (no cast, no
//     function: those could turn NULL into a value);
//   - the column's type and the template's type make `=` the built-in, strict equality of pg_catalog:
//     text (or varchar) against {user.tenant} (text), uuid against {user.tenant_id} (uuid). apply resolves
//     the operator with pg_catalog searched first, so no operator of another schema can take its place.
// Anything else keeps the guard (correct, one lookup slower).
import type { CatalogTable } from '../catalog/types.js';
import type { Expression } from '../policy/model.js';
import { andConjuncts, parseSql } from '../policy/pg-parser.js';

type Node = Record<string, unknown>;
const kid = (n: unknown, k: string): Node | undefined => (n && typeof n === 'object' ? ((n as Node)[k] as Node | undefined) : undefined);

const STRICT_EQUALITY: Readonly<Record<string, (columnType: string) => boolean>> = {
  tenant: (t) => t === 'text' || t === 'character varying' || t.startsWith('character varying('),
  tenant_id: (t) => t === 'uuid',
};

/** The column of `table` that a bare column reference's fields name (`org`, `orders.org`, `public.orders.org`). */
function ownColumn(fields: readonly string[], table: CatalogTable): string | undefined {
  const [column, rel, schema] = [...fields].reverse();
  if (fields.length > 3 || (rel !== undefined && rel !== table.name) || (schema !== undefined && schema !== table.schema)) return undefined;
  return column;
}

/** A top-level conjunct `<bare column> = <bare {user.tenant} (text) or {user.tenant_id} (uuid)>`. */
interface TenantEquality {
  readonly fields: readonly string[];
  readonly attribute: string;
}

/**
 * The top-level tenant equalities of a filter. They do not depend on the table, so they are found once per
 * filter (one real-parser call), not once per table and persona that the filter reaches.
 */
const equalitiesOf = new WeakMap<object, readonly TenantEquality[]>();
function tenantEqualities(filter: Pick<Expression, 'parsedText' | 'templates'>): readonly TenantEquality[] {
  let found = equalitiesOf.get(filter);
  if (!found) {
    found = findTenantEqualities(filter);
    equalitiesOf.set(filter, found);
  }
  return found;
}

function findTenantEqualities(filter: Pick<Expression, 'parsedText' | 'templates'>): TenantEquality[] {
  if (filter.templates.length === 0) return [];
  const parsed = parseSql(`SELECT ${filter.parsedText}`);
  if (!parsed.ok || parsed.stmts.length !== 1) return [];
  const select = kid(parsed.stmts[0]?.stmt, 'SelectStmt');
  const targets = select?.['targetList'] as unknown[] | undefined;
  if (!select || !targets || targets.length !== 1 || Object.keys(select).some((k) => !['targetList', 'limitOption', 'op'].includes(k))) return [];
  const root = kid(kid(targets[0], 'ResTarget'), 'val');
  return andConjuncts(root).flatMap((c) => {
    const e = kid(c, 'A_Expr');
    if (!e || e['kind'] !== 'AEXPR_OP') return [];
    const op = (e['name'] as unknown[] | undefined)?.map((x) => kid(x, 'String')?.['sval']);
    if (!op || op.length !== 1 || op[0] !== '=') return [];
    return [
      [e['lexpr'], e['rexpr']],
      [e['rexpr'], e['lexpr']],
    ].flatMap(([col, tmpl]) => {
      const fields = (kid(col, 'ColumnRef')?.['fields'] as unknown[] | undefined)?.map((f) => kid(f, 'String')?.['sval']);
      const number = kid(tmpl, 'ParamRef')?.['number'];
      const template = typeof number === 'number' ? filter.templates[number - 1] : undefined;
      if (!fields || fields.some((f) => typeof f !== 'string') || !template) return [];
      const templateType = template.attribute === 'tenant' ? 'text' : 'uuid';
      if (STRICT_EQUALITY[template.attribute] === undefined || template.type !== templateType) return [];
      return [{ fields: fields as string[], attribute: template.attribute }];
    });
  });
}

/**
 * True when `filter` is not true for any row whenever tenantctl.visible() would be false, so the guard can
 * be left out of a predicate that ANDs this filter (see the header).
 */
export function impliesVisible(filter: Pick<Expression, 'parsedText' | 'templates'>, table: CatalogTable): boolean {
  return tenantEqualities(filter).some(({ fields, attribute }) => {
    const column = ownColumn(fields, table);
    const type = column === undefined ? undefined : table.columns.find((c) => c.name === column)?.type;
    return type !== undefined && STRICT_EQUALITY[attribute]!(type);
  });
}
