// What the real PostgreSQL parser finds in a `filter` or `mask`, and the checks that need only the parse tree:
// exactly one expression whose parentheses balance, no statements, no data-modifying or row-locking subqueries,
// no system catalogs, no functions with side effects, templates only where they are substituted.
import type { ColumnRef, ExpressionProblem, FunctionRef, RelationRef, TemplateEquality } from './model.js';
import { andConjuncts, parseSql, type SqlParse } from './pg-parser.js';
import { findTemplates, withPlaceholders, type FoundTemplate } from './templates.js';

export interface ExpressionAnalysis {
  readonly templates: readonly FoundTemplate[];
  readonly parsedText: string;
  readonly columns: readonly ColumnRef[];
  readonly relations: readonly RelationRef[];
  readonly functions: readonly FunctionRef[];
  readonly problems: readonly ExpressionProblem[];
  /** The top-level `<bare column> = <bare template>` conjuncts (see templateEqualities). */
  readonly equalities: readonly TemplateEquality[];
}

/** The expression is checked as the compiler embeds it: inside parentheses... */
const PREFIX = 'SELECT (';
const SUFFIX = ')';
/** ... and without them (see analyseExpressionUncached). */
const ALONE = 'SELECT ';

/** Functions that can only be set-returning; not allowed at the top of a policy expression. */
const SET_RETURNING = new Set([
  'generate_series', 'generate_subscripts', 'unnest', 'regexp_matches', 'regexp_split_to_table', 'string_to_table',
  'json_array_elements', 'json_array_elements_text', 'jsonb_array_elements', 'jsonb_array_elements_text',
  'json_each', 'json_each_text', 'jsonb_each', 'jsonb_each_text', 'json_object_keys', 'jsonb_object_keys',
  'json_to_recordset', 'jsonb_to_recordset', 'json_populate_recordset', 'jsonb_populate_recordset',
  'jsonb_path_query', 'pg_get_keywords', 'pg_options_to_table', 'ts_stat', 'ts_debug',
]);

/** Functions with side effects, or that read server state or files: never in a policy. */
const FORBIDDEN_FUNCTIONS = new Set([
  'set_config', 'nextval', 'setval', 'pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'pg_notify',
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_switch_wal',
  'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_ls_dir', 'lo_import', 'lo_export', 'lo_create',
  'lo_unlink', 'lo_put', 'lo_from_bytea', 'query_to_xml', 'query_to_xml_and_xmlschema', 'query_to_xmlschema',
  'table_to_xml', 'cursor_to_xml', 'schema_to_xml', 'database_to_xml', 'dblink', 'dblink_exec',
  'pg_logical_emit_message', 'txid_current', 'pg_current_xact_id',
]);
const FORBIDDEN_PREFIXES = ['pg_advisory', 'pg_try_advisory', 'dblink', 'pg_ls_', 'pg_create_', 'pg_drop_', 'pg_replication_', 'pg_file_'];

const DATA_MODIFYING = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

type Json = Record<string, unknown>;

const strings = (list: unknown): string[] =>
  Array.isArray(list) ? list.flatMap((n) => (n && typeof n === 'object' && 'String' in n ? [String((n as { String: { sval: string } }).String.sval)] : [])) : [];

/**
 * The analysis of `text`, remembered per distinct text: a generated file repeats one filter or mask on many
 * policies, and each analysis is a real-parser call and a tree walk. The result is frozen (shared).
 */
export function analyseExpression(text: string): ExpressionAnalysis {
  let result = analyses.get(text);
  if (!result) {
    if (analyses.size >= MAX_CACHED_ANALYSES) analyses.clear();
    result = deepFreeze(analyseExpressionUncached(text));
    analyses.set(text, result);
  }
  return result;
}

const MAX_CACHED_ANALYSES = 10_000;
const analyses = new Map<string, ExpressionAnalysis>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function analyseExpressionUncached(text: string): ExpressionAnalysis {
  const found = findTemplates(text);
  const parsedText = withPlaceholders(text, found.templates);
  const base = { templates: found.templates, parsedText, columns: [], relations: [], functions: [], equalities: [] };
  if (text.trim() === '') return { ...base, problems: [{ offset: 0, message: 'the expression is empty' }] };
  if (text.includes('\u0000')) return { ...base, problems: [{ offset: text.indexOf('\u0000'), message: 'the expression contains a NUL character' }] };

  const parse = parseSql(PREFIX + parsedText + SUFFIX);
  if (!parse.ok) return { ...base, problems: found.problems.length > 0 ? found.problems : [syntaxProblem(parse, parsedText)] };
  if (parse.stmts.length !== 1) {
    const end = (parse.stmts[0]?.stmt_len ?? PREFIX.length) - PREFIX.length;
    return { ...base, problems: [{ offset: clamp(end, text), message: 'must be a single SQL expression, not several statements separated by `;`' }] };
  }
  const walker = new Walker(text.length);
  const top = parse.stmts[0]!.stmt;
  walker.checkTop(top);
  walker.visit(top, 0);
  const problems = [...found.problems, ...walker.problems, ...checkPlaceholders(found.templates, walker.params, text)];
  // The compiler writes the expression inside parentheses, and the parse above checks it that way. Text that
  // closes a parenthesis it did not open parses there too: `org = {user.tenant}) OR (true` is `(org = ...) OR
  // (true)`, and behind the compiler's guard, `visible() AND (org = ...) OR (true)`, true for every row. The
  // expression must also parse on its own, which needs its own parentheses to balance: then the ones the
  // compiler adds enclose all of it, whatever it is. (Said only when nothing more precise was: the walker names
  // the clauses that text like `true) FROM t WHERE (true` adds.)
  const alone = parseSql(ALONE + parsedText);
  if (problems.length === 0 && (!alone.ok || alone.stmts.length !== 1)) problems.push(unbalancedProblem(alone, text));
  return {
    templates: found.templates,
    parsedText,
    columns: walker.columns,
    relations: walker.relations.filter((r) => r.schema !== undefined || !walker.cteNames.has(r.name)),
    functions: walker.functions,
    problems: problems.sort((a, b) => a.offset - b.offset),
    equalities: templateEqualities(alone, found.templates.length),
  };
}

type Node = Record<string, unknown>;
const kid = (n: unknown, k: string): Node | undefined => (n && typeof n === 'object' ? ((n as Node)[k] as Node | undefined) : undefined);

/**
 * The top-level AND conjuncts `<bare column> = <bare template>` (either way round) of an expression, from its
 * parse as `SELECT <text>`: what compile/guard.ts needs to leave out the visibility guard. Found here, where
 * the file is checked (on the check thread for `plan`), so that compiling needs no parser.
 */
function templateEqualities(parsed: SqlParse, templateCount: number): TemplateEquality[] {
  if (templateCount === 0 || !parsed.ok || parsed.stmts.length !== 1) return [];
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
      if (!fields || fields.some((f) => typeof f !== 'string') || typeof number !== 'number' || number < 1 || number > templateCount) return [];
      return [{ fields: fields as string[], template: number - 1 }];
    });
  });
}

function clamp(offset: number, text: string): number {
  return Math.max(0, Math.min(offset, text.length));
}

function unbalancedProblem(alone: SqlParse, text: string): ExpressionProblem {
  if (/^\s*(select|with|values|table)\b/i.test(text)) {
    return { offset: 0, message: 'a sub-select must be in parentheses of its own: write `(SELECT ...)`' };
  }
  const offset = alone.ok ? 0 : clamp(alone.offset - ALONE.length, text);
  return {
    offset,
    message:
      'closes a parenthesis it did not open: tenantctl writes the expression inside parentheses, and these would end them early and change how the policy\'s conditions group (`a) OR (b` would OR `b` with everything before it); the parentheses of the expression must balance',
  };
}

function syntaxProblem(parse: Extract<SqlParse, { ok: false }>, text: string): ExpressionProblem {
  const offset = clamp(parse.offset - PREFIX.length, text);
  if (text[offset] === ';') return { offset, message: 'an expression cannot contain `;`: write one SQL expression, not statements' };
  if (/at end of input/.test(parse.message) && parse.offset >= PREFIX.length + text.length) {
    if (parseSql(`${PREFIX}${text}\n${SUFFIX}`).ok) {
      return { offset: text.lastIndexOf('--') >= 0 ? text.lastIndexOf('--') : offset, message: 'the expression ends inside a `--` comment; remove it or use /* ... */' };
    }
    return { offset, message: `${sqlMessage(parse.message)} (unbalanced parentheses or quotes?)` };
  }
  if (parse.offset >= PREFIX.length + text.length) {
    return { offset, message: `${sqlMessage(parse.message).replace(/at or near "\)"/, 'at the end of the expression')}` };
  }
  return { offset, message: `${sqlMessage(parse.message)}` };
}

/** libpg_query says "syntax error at or near ..."; say it once, as PostgreSQL would. */
function sqlMessage(message: string): string {
  return /syntax error/i.test(message) ? message : `syntax error: ${message}`;
}

function checkPlaceholders(templates: readonly FoundTemplate[], params: ReadonlyMap<number, number>, text: string): ExpressionProblem[] {
  const problems: ExpressionProblem[] = [];
  templates.forEach((t, i) => {
    if (params.get(i + 1) !== t.start) {
      problems.push({
        offset: t.start,
        message: `template {user.${t.attribute}} is not a value of its own here (it is inside a string, quoted identifier or comment, or joined to a name), so it would not be substituted; write it as a bare value, e.g. 'prefix-' || {user.${t.attribute}}`,
      });
    }
  });
  for (const [number, offset] of params) {
    if (templates[number - 1]?.start !== offset) {
      problems.push({ offset: clamp(offset, text), message: `parameter references such as $${number} are not allowed; use a {user.<attribute>} template` });
    }
  }
  return problems;
}

class Walker {
  readonly problems: ExpressionProblem[] = [];
  readonly columns: ColumnRef[] = [];
  readonly relations: RelationRef[] = [];
  readonly functions: FunctionRef[] = [];
  readonly cteNames = new Set<string>();
  /** parameter number -> offset of its ParamRef */
  readonly params = new Map<number, number>();

  constructor(private readonly length: number) {}

  private at(location: unknown): number {
    return typeof location === 'number' ? Math.max(0, Math.min(location - PREFIX.length, this.length)) : 0;
  }

  private problem(location: unknown, message: string): void {
    this.problems.push({ offset: this.at(location), message });
  }

  /** The outermost SELECT must be `SELECT (<expr>)` and nothing else. */
  checkTop(stmt: Json): void {
    const select = stmt['SelectStmt'] as Json | undefined;
    if (!select) {
      this.problem(0, 'must be a single SQL expression');
      return;
    }
    const extra = Object.keys(select).filter((k) => !['targetList', 'limitOption', 'op'].includes(k));
    const targets = Array.isArray(select['targetList']) ? select['targetList'] : [];
    if (extra.length > 0 || targets.length !== 1 || select['op'] !== 'SETOP_NONE') {
      this.problem(0, `must be a single SQL expression; it closes its parentheses and adds ${[...new Set(extra.map(clauseName))].join(', ') || 'more'} to the query`);
    }
  }

  visit(node: unknown, depth: number): void {
    if (Array.isArray(node)) {
      for (const item of node) this.visit(item, depth);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Json)) {
      if (/^[A-Z]/.test(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        this.node(key, value as Json, depth);
      } else {
        this.visit(value, depth);
      }
    }
  }

  private node(type: string, body: Json, depth: number): void {
    const location = body['location'];
    switch (type) {
      case 'ColumnRef': {
        const fields = strings(body['fields']);
        const star = Array.isArray(body['fields']) && body['fields'].some((f) => f && typeof f === 'object' && 'A_Star' in f);
        if (!star && fields.length > 0) this.columns.push({ qualifier: fields.slice(0, -1), name: fields[fields.length - 1]!, offset: this.at(location) });
        break;
      }
      case 'RangeVar': {
        const schema = typeof body['schemaname'] === 'string' ? body['schemaname'] : undefined;
        const name = String(body['relname']);
        this.relations.push(schema === undefined ? { name, offset: this.at(location) } : { schema, name, offset: this.at(location) });
        if (typeof body['catalogname'] === 'string') this.problem(location, `cross-database reference \`${body['catalogname']}.${schema}.${name}\` is not allowed`);
        break;
      }
      case 'FuncCall': {
        const parts = strings(body['funcname']);
        const name = parts[parts.length - 1] ?? '';
        const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
        this.functions.push(schema === undefined ? { name, offset: this.at(location) } : { schema, name, offset: this.at(location) });
        const lower = name.toLowerCase();
        if (schema === 'tenantctl') this.problem(location, `calls \`tenantctl.${name}\`, an internal function; use a {user.<attribute>} template`);
        else if (lower === 'current_setting') this.problem(location, 'calls current_setting(), which any user can change with SET; map the setting in an app\'s `context` and use {user.<attribute>}');
        else if (FORBIDDEN_FUNCTIONS.has(lower) || FORBIDDEN_PREFIXES.some((p) => lower.startsWith(p))) this.problem(location, `calls \`${name}\`, which has side effects or reads server state; it is not allowed in a policy`);
        else if (depth === 0 && SET_RETURNING.has(lower)) this.problem(location, `calls the set-returning function \`${name}\`; a policy expression must return one value (use it inside a subquery or ANY(...))`);
        break;
      }
      case 'ParamRef':
        if (typeof body['number'] === 'number') this.params.set(body['number'], typeof location === 'number' ? location - PREFIX.length : -1);
        break;
      case 'CommonTableExpr':
        this.cteNames.add(String(body['ctename']));
        break;
      case 'SelectStmt':
        if (body['lockingClause']) this.problem(0, 'a subquery with FOR UPDATE/FOR SHARE locks rows; not allowed in a policy');
        if (body['intoClause']) this.problem(0, 'SELECT INTO is not allowed in a policy');
        break;
      default:
        if (DATA_MODIFYING.has(type)) {
          this.problem(relationLocation(body), `contains a data-modifying statement (${type.replace('Stmt', '').toUpperCase()}); a policy may only read`);
          return;
        }
        if (type.endsWith('Stmt')) {
          this.problem(0, `contains a ${type.replace('Stmt', '')} statement; a policy is one SQL expression`);
          return;
        }
    }
    const inner = type === 'SubLink' || type === 'RangeSubselect' || type === 'CommonTableExpr' || type === 'RangeFunction' ? depth + 1 : depth;
    this.visit(body, inner);
  }
}

function clauseName(key: string): string {
  const names: Record<string, string> = {
    fromClause: 'FROM', whereClause: 'WHERE', groupClause: 'GROUP BY', havingClause: 'HAVING', sortClause: 'ORDER BY',
    limitCount: 'LIMIT', limitOffset: 'OFFSET', withClause: 'WITH', distinctClause: 'DISTINCT', windowClause: 'WINDOW',
    lockingClause: 'FOR UPDATE', larg: 'UNION', rarg: 'UNION', intoClause: 'INTO', valuesLists: 'VALUES',
  };
  return names[key] ?? key;
}

function relationLocation(body: Json): unknown {
  const rel = body['relation'] as Json | undefined;
  return rel?.['location'] ?? 0;
}
