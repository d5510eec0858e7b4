// Reading policy expressions (pg_get_expr text) with the real PostgreSQL parser: constant-true predicates,
// runtime lookups not wrapped in a sub-select, and the columns a row filter compares with a lookup.
// Pure: call loadSqlParser() once before using any of these.
import { parseSql } from '../policy/pg-parser.js';

type Node = Record<string, unknown>;
const obj = (n: unknown): n is Node => typeof n === 'object' && n !== null && !Array.isArray(n);
const kid = (n: unknown, k: string): Node | undefined => (obj(n) && obj(n[k]) ? (n[k] as Node) : undefined);
const list = (n: unknown, k: string): unknown[] => (obj(n) && Array.isArray(n[k]) ? (n[k] as unknown[]) : []);
const str = (n: unknown): string | undefined => {
  const s = kid(n, 'String')?.['sval'];
  return typeof s === 'string' ? s : undefined;
};

/** The expression's parse tree, or undefined when it does not parse. */
export function parseExpression(text: string): unknown {
  const parsed = parseSql(`SELECT ${text}`);
  if (!parsed.ok) return undefined;
  const select = kid(parsed.stmts[0]?.stmt, 'SelectStmt');
  return kid(list(select, 'targetList')[0], 'ResTarget')?.['val'];
}

function stripCasts(n: unknown): unknown {
  let x = n;
  while (kid(x, 'TypeCast')) x = kid(x, 'TypeCast')?.['arg'];
  return x;
}

/** JSON of a node without parser positions, to compare two subtrees. */
const shape = (n: unknown): string => JSON.stringify(n, (k, v: unknown) => (k === 'location' ? undefined : v));

function constBool(n: unknown): boolean | undefined {
  const x = stripCasts(n);
  const c = kid(x, 'A_Const');
  if (!c) return undefined;
  if (obj(c['boolval'])) return (c['boolval'] as Node)['boolval'] === true;
  const cast = kid(n, 'TypeCast');
  const type = list(kid(cast, 'typeName'), 'names').map(str).pop();
  const s = kid(c, 'sval')?.['sval'];
  if ((type === 'bool' || type === 'boolean') && typeof s === 'string') {
    const v = s.trim().toLowerCase();
    if (['t', 'true', 'y', 'yes', 'on', '1'].includes(v)) return true;
    if (['f', 'false', 'n', 'no', 'off', '0'].includes(v)) return false;
  }
  return undefined;
}

function isConstant(n: unknown): boolean {
  return kid(stripCasts(n), 'A_Const') !== undefined;
}

/**
 * True when the predicate holds for every row whatever the user: `true`, `'t'::boolean`, `(1 = 1)`, `'a' = 'a'`,
 * `org = org` (every row whose org is not null), `x OR true`, `NOT false`, and ANDs of those.
 */
export function alwaysTrue(n: unknown): boolean {
  const b = constBool(n);
  if (b !== undefined) return b;
  const x = stripCasts(n);
  const bool = kid(x, 'BoolExpr');
  if (bool) {
    const args = list(bool, 'args');
    if (bool['boolop'] === 'OR_EXPR') return args.some(alwaysTrue);
    if (bool['boolop'] === 'AND_EXPR') return args.every(alwaysTrue);
    if (bool['boolop'] === 'NOT_EXPR') return constBool(args[0]) === false;
    return false;
  }
  const e = kid(x, 'A_Expr');
  if (e && e['kind'] === 'AEXPR_OP' && list(e, 'name').map(str).join('.') === '=') {
    const l = stripCasts(e['lexpr']);
    const r = stripCasts(e['rexpr']);
    const bothConst = isConstant(l) && isConstant(r);
    const sameColumn = kid(l, 'ColumnRef') !== undefined && kid(r, 'ColumnRef') !== undefined;
    return (bothConst || sameColumn) && shape(l) === shape(r);
  }
  return false;
}

/** A runtime lookup: any function of schema tenantctl (attr, attr_list, visible, writable, ...) or current_setting. */
export function lookupName(n: unknown): string | undefined {
  const call = kid(n, 'FuncCall');
  if (!call) return undefined;
  const names = list(call, 'funcname').map(str);
  const name = names[names.length - 1];
  const schema = names.length > 1 ? names[names.length - 2] : undefined;
  if (schema === 'tenantctl') return `tenantctl.${name}`;
  if (name === 'current_setting' && (schema === undefined || schema === 'pg_catalog')) return 'current_setting';
  return undefined;
}

function walk(n: unknown, visit: (node: Node) => boolean | void): void {
  if (Array.isArray(n)) {
    for (const x of n) walk(x, visit);
    return;
  }
  if (!obj(n)) return;
  if (visit(n) === false) return;
  for (const v of Object.values(n)) if (typeof v === 'object' && v !== null) walk(v, visit);
}

/** Lookup calls evaluated once per row: not inside a sub-select without FROM (which PostgreSQL runs once, as an InitPlan). */
export function unwrappedLookups(root: unknown): string[] {
  const found: string[] = [];
  const visit = (n: unknown, wrapped: boolean): void => {
    walk(n, (node) => {
      const select = kid(node, 'SelectStmt');
      if (select) {
        const once = list(select, 'fromClause').length === 0;
        for (const [k, v] of Object.entries(select)) if (typeof v === 'object' && v !== null) visit(v, k === 'fromClause' ? false : once);
        return false;
      }
      const name = lookupName(node);
      if (name !== undefined && !wrapped) found.push(name);
      return undefined;
    });
  };
  visit(root, false);
  return found;
}

function containsLookup(n: unknown): boolean {
  let hit = false;
  walk(n, (node) => {
    if (lookupName(node) !== undefined) hit = true;
    const svf = kid(node, 'SQLValueFunction');
    if (svf && (svf['op'] === 'SVFOP_CURRENT_USER' || svf['op'] === 'SVFOP_SESSION_USER' || svf['op'] === 'SVFOP_USER')) hit = true;
    return !hit;
  });
  return hit;
}

/** `{user.X}` as compiled, `(SELECT tenantctl.attr('x'))`, a bare lookup call, or current_user/session_user. */
function isLookupValue(n: unknown): boolean {
  const x = stripCasts(n);
  if (lookupName(x) !== undefined) return true;
  const svf = kid(x, 'SQLValueFunction');
  if (svf) return containsLookup(x);
  const sub = kid(x, 'SubLink');
  if (sub && sub['subLinkType'] === 'EXPR_SUBLINK') {
    const select = kid(sub['subselect'], 'SelectStmt');
    if (!select || list(select, 'fromClause').length > 0) return false;
    const targets = list(select, 'targetList');
    return targets.length === 1 && isLookupValue(kid(targets[0], 'ResTarget')?.['val']);
  }
  return false;
}

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}
interface ScopeEntry extends TableRef {
  readonly alias: string;
}

export interface FilterColumn extends TableRef {
  readonly column: string;
}

/**
 * The columns a row filter compares with a runtime lookup, each with its table: `org = (SELECT tenantctl.attr('tenant'))`
 * gives the policy's table and org; `order_id IN (SELECT o.id FROM public.orders o WHERE o.org = ...)` gives order_id of
 * the policy's table and org of public.orders. Unqualified relations in sub-selects are taken from `table.schema`.
 */
export function filterColumns(root: unknown, table: TableRef): FilterColumn[] {
  const found: FilterColumn[] = [];
  const resolve = (ref: unknown, scopes: readonly (readonly ScopeEntry[])[]): FilterColumn | undefined => {
    const fields = list(kid(stripCasts(ref), 'ColumnRef'), 'fields').map(str);
    if (fields.length === 0 || fields.some((f) => f === undefined)) return undefined;
    const column = fields[fields.length - 1] as string;
    if (fields.length === 1) {
      const inner = scopes[scopes.length - 1] ?? [];
      const only = inner.length === 1 ? inner[0] : undefined;
      return only ? { schema: only.schema, name: only.name, column } : undefined;
    }
    if (fields.length === 3) return { schema: fields[0] as string, name: fields[1] as string, column };
    for (let i = scopes.length - 1; i >= 0; i--) {
      const hit = (scopes[i] ?? []).find((s) => s.alias === fields[0]);
      if (hit) return { schema: hit.schema, name: hit.name, column };
    }
    return undefined;
  };
  const add = (c: FilterColumn | undefined): void => {
    if (c && !found.some((f) => f.schema === c.schema && f.name === c.name && f.column === c.column)) found.push(c);
  };
  const visit = (n: unknown, scopes: readonly (readonly ScopeEntry[])[]): void => {
    walk(n, (node) => {
      const select = kid(node, 'SelectStmt');
      if (select) {
        const entries: ScopeEntry[] = [];
        for (const f of list(select, 'fromClause')) {
          const rv = kid(f, 'RangeVar');
          if (!rv) continue;
          const name = String(rv['relname']);
          const schema = typeof rv['schemaname'] === 'string' ? rv['schemaname'] : table.schema;
          const alias = kid(rv, 'alias')?.['aliasname'];
          entries.push({ schema, name, alias: typeof alias === 'string' ? alias : name });
        }
        const inner = entries.length > 0 ? [...scopes, entries] : scopes;
        for (const v of Object.values(select)) if (typeof v === 'object' && v !== null) visit(v, inner);
        return false;
      }
      const e = kid(node, 'A_Expr');
      if (e && ['AEXPR_OP', 'AEXPR_OP_ANY', 'AEXPR_IN'].includes(String(e['kind'])) && list(e, 'name').map(str).join('') === '=') {
        if (isLookupValue(e['rexpr'])) add(resolve(e['lexpr'], scopes));
        if (isLookupValue(e['lexpr'])) add(resolve(e['rexpr'], scopes));
      }
      const sub = kid(node, 'SubLink');
      if (sub && sub['subLinkType'] === 'ANY_SUBLINK' && containsLookup(sub['subselect'])) add(resolve(sub['testexpr'], scopes));
      return undefined;
    });
  };
  visit(root, [[{ ...table, alias: table.name }]]);
  return found;
}
