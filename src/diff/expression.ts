// A `filter` or `mask` as the real PostgreSQL parser sees it, for comparing two files without a database:
// the parse tree without source locations (so whitespace, line breaks, keyword case and redundant parentheses
// make no difference), templates replaced by their attribute and type, and the top-level AND split into
// conjuncts (so `a AND b` equals `b AND a`, and adding a conjunct is recognisably a narrowing).
import type { Expression, Template } from '../policy/model.js';
import { parseSql } from '../policy/pg-parser.js';

/** One conjunct of a row filter: a fingerprint for comparison and the source text for people. */
export interface Conjunct {
  readonly fingerprint: string;
  readonly text: string;
}

const PREFIX = 'SELECT (';

type Json = unknown;

/** The expression node of `SELECT (<parsedText>)`; undefined when it does not parse (validation reports it). */
function expressionNode(expr: Pick<Expression, 'parsedText'>): Json {
  const parsed = parseSql(PREFIX + expr.parsedText + ')');
  if (!parsed.ok) return undefined;
  const select = parsed.stmts[0]?.stmt['SelectStmt'] as { targetList?: { ResTarget?: { val?: Json } }[] } | undefined;
  return select?.targetList?.[0]?.ResTarget?.val;
}

/** The tree with every `location` removed and each template parameter replaced by what it reads. */
function normalised(node: Json, templates: readonly Pick<Template, 'attribute' | 'type'>[]): Json {
  if (Array.isArray(node)) return node.map((n) => normalised(n, templates));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, Json>;
  if ('ParamRef' in obj && Object.keys(obj).length === 1) {
    const number = (obj['ParamRef'] as { number?: number }).number ?? 0;
    const t = templates[number - 1];
    if (t) return { Template: { attribute: t.attribute, type: t.type } };
  }
  const out: Record<string, Json> = {};
  for (const key of Object.keys(obj).sort()) {
    if (key === 'location') continue;
    out[key] = normalised(obj[key], templates);
  }
  return out;
}

/** The smallest source location in a subtree (where the conjunct starts in the text). */
function firstLocation(node: Json): number | undefined {
  let best: number | undefined;
  const walk = (n: Json): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n === null || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n as Record<string, Json>)) {
      if (k === 'location' && typeof v === 'number' && v >= 0) best = best === undefined ? v : Math.min(best, v);
      else walk(v);
    }
  };
  walk(node);
  return best;
}

/** Trim a slice of source text down to one conjunct: no trailing AND, no unbalanced parentheses. */
function cleanConjunct(slice: string): string {
  let s = slice.trim();
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/\s*\bAND$/i, '').replace(/\(+$/, '').trim();
  }
  const count = (c: string): number => s.split(c).length - 1;
  while (count(')') > count('(') && s.endsWith(')')) s = s.slice(0, -1).trim();
  while (count('(') > count(')') && s.startsWith('(')) s = s.slice(1).trim();
  return s;
}

const stable = (value: Json): string => JSON.stringify(value);

/** The fingerprint of a whole expression (a mask, or a filter taken as one). */
export function expressionFingerprint(expr: Pick<Expression, 'parsedText' | 'templates' | 'text'>): string {
  const node = expressionNode(expr);
  return node === undefined ? `text:${expr.text.trim()}` : stable(normalised(node, expr.templates));
}

/** The conjuncts of a row filter: the arguments of its top-level AND, or the filter itself. */
export function conjuncts(expr: Pick<Expression, 'parsedText' | 'templates' | 'text'>): Conjunct[] {
  const node = expressionNode(expr);
  if (node === undefined) return [{ fingerprint: `text:${expr.text.trim()}`, text: expr.text.trim() }];
  const bool = (node as { BoolExpr?: { boolop?: string; args?: Json[] } }).BoolExpr;
  if (bool?.boolop !== 'AND_EXPR' || !bool.args) return [{ fingerprint: stable(normalised(node, expr.templates)), text: expr.text.trim() }];
  const args = bool.args;
  const starts = args.map((a) => (firstLocation(a) ?? PREFIX.length) - PREFIX.length);
  return args.map((a, i) => ({
    fingerprint: stable(normalised(a, expr.templates)),
    text: cleanConjunct(expr.text.slice(Math.max(0, starts[i] ?? 0), i + 1 < args.length ? starts[i + 1] : undefined)),
  }));
}
