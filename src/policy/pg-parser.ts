// The real PostgreSQL parser (libpg_query compiled to WASM). Load once, then parse synchronously.
import { loadModule, parseSync } from 'libpg-query';

let loading: Promise<void> | undefined;
let loaded = false;

export function loadSqlParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    loaded = true;
  });
  return loading;
}

export interface ParsedStatement {
  readonly stmt: Record<string, unknown>;
  readonly stmt_location?: number;
  readonly stmt_len?: number;
}

export type SqlParse =
  | { readonly ok: true; readonly stmts: readonly ParsedStatement[] }
  | { readonly ok: false; readonly message: string; readonly offset: number };

/** Parse SQL text; `offset` of a syntax error is 0-based into `sql`. Call loadSqlParser() first. */
export function parseSql(sql: string): SqlParse {
  if (!loaded) throw new Error('the SQL parser is not loaded: await loadSqlParser() first');
  try {
    const tree = parseSync(sql) as { stmts?: ParsedStatement[] };
    return { ok: true, stmts: tree.stmts ?? [] };
  } catch (e) {
    const details = (e as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails;
    const message = details?.message ?? (e instanceof Error ? e.message : String(e));
    return { ok: false, message, offset: details?.cursorPosition ?? 0 };
  }
}

/** The top-level AND conjuncts of a parsed expression (the expression itself when it is not an AND). */
export function andConjuncts(root: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (n: unknown): void => {
    const b = n && typeof n === 'object' ? ((n as Record<string, unknown>)['BoolExpr'] as Record<string, unknown> | undefined) : undefined;
    if (b && b['boolop'] === 'AND_EXPR') for (const a of b['args'] as unknown[]) walk(a);
    else out.push(n);
  };
  walk(root);
  return out;
}
