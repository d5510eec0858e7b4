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
// The conjuncts themselves are found where the file is checked (policy/expression.ts, templateEqualities), so
// that compiling needs no SQL parser: `tenantctl plan` checks the file on another thread, and the main thread
// then never loads libpg_query (about 50 ms of its CPU). What depends on the table and the templates' types is
// decided here.
import type { CatalogTable } from '../catalog/types.js';
import type { Expression } from '../policy/model.js';

const STRICT_EQUALITY: Readonly<Record<string, (columnType: string) => boolean>> = {
  tenant: (t) => t === 'text' || t === 'character varying' || t.startsWith('character varying('),
  tenant_id: (t) => t === 'uuid',
};

/** The type each template must have for its `=` with the column to be the built-in strict equality. */
const TEMPLATE_TYPE: Readonly<Record<string, string>> = { tenant: 'text', tenant_id: 'uuid' };

/** The column of `table` that a bare column reference's fields name (`org`, `orders.org`, `public.orders.org`). */
function ownColumn(fields: readonly string[], table: CatalogTable): string | undefined {
  const [column, rel, schema] = [...fields].reverse();
  if (fields.length > 3 || (rel !== undefined && rel !== table.name) || (schema !== undefined && schema !== table.schema)) return undefined;
  return column;
}

/**
 * True when `filter` is not true for any row whenever tenantctl.visible() would be false, so the guard can
 * be left out of a predicate that ANDs this filter (see the header).
 */
export function impliesVisible(filter: Pick<Expression, 'templates' | 'equalities'>, table: CatalogTable): boolean {
  return filter.equalities.some(({ fields, template: index }) => {
    const template = filter.templates[index];
    if (template === undefined || TEMPLATE_TYPE[template.attribute] === undefined || template.type !== TEMPLATE_TYPE[template.attribute]) return false;
    const column = ownColumn(fields, table);
    const type = column === undefined ? undefined : table.columns.find((c) => c.name === column)?.type;
    return type !== undefined && STRICT_EQUALITY[template.attribute]!(type);
  });
}
