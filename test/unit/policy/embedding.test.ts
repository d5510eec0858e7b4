// An expression the check accepts means the same thing wherever the compiler writes it. The compiler puts each
// filter inside parentheses and ANDs it with the visibility guard and with other filters (compile.ts); a text
// whose parentheses do not balance could end those parentheses early (`org = {user.tenant}) OR (true`, found
// in the sixth session: every row). Property: for any text the check accepts, the parse of
// `guard AND (<text>)` is an AND of the guard and exactly the parse of `<text>` on its own.
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { analyseExpression } from '../../../src/policy/expression.js';
import { loadSqlParser, parseSql } from '../../../src/policy/pg-parser.js';

beforeAll(async () => {
  await loadSqlParser();
});

/** The tree without source positions (they differ by where the text sits). */
function shape(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shape);
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).flatMap(([k, v]) => (k === 'location' || k === 'stmt_len' || k === 'stmt_location' ? [] : [[k, shape(v)]])));
  }
  return node;
}

function target(sql: string): unknown {
  const parsed = parseSql(sql);
  if (!parsed.ok || parsed.stmts.length !== 1) throw new Error(`does not parse: ${sql}`);
  const select = (parsed.stmts[0]!.stmt as { SelectStmt: { targetList: { ResTarget: { val: unknown } }[] } }).SelectStmt;
  return select.targetList[0]!.ResTarget.val;
}

const ATOMS = ['org = {user.tenant}', '{user.tenant} = org', 'true', "name = 'a) OR (b'", 'id > 3', '(SELECT true)', 'id IN (SELECT id FROM other)', 'name IS NULL'];

/** Well-formed expressions with random nesting... */
const expression: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...ATOMS),
    fc.tuple(tie('expr'), fc.constantFrom(' AND ', ' OR '), tie('expr')).map(([a, op, b]) => a + op + b),
    tie('expr').map((e) => `NOT ${e}`),
    tie('expr').map((e) => `(${e})`),
  ),
})).expr;

/** ...and the same with one parenthesis moved, added or removed: most of these must be refused. */
const mutated = fc.tuple(expression, fc.nat(), fc.nat(), fc.constantFrom('move', 'add-close', 'add-open', 'drop')).map(([text, i, j, how]) => {
  const parens = [...text].flatMap((c, k) => (c === '(' || c === ')' ? [k] : []));
  const at = (n: number): number => (text.length === 0 ? 0 : n % (text.length + 1));
  if (how === 'add-close') return text.slice(0, at(i)) + ')' + text.slice(at(i));
  if (how === 'add-open') return text.slice(0, at(i)) + '(' + text.slice(at(i));
  if (parens.length === 0) return `${text})`;
  const p = parens[i % parens.length]!;
  const without = text.slice(0, p) + text.slice(p + 1);
  if (how === 'drop') return without;
  const q = j % (without.length + 1);
  return without.slice(0, q) + text[p] + without.slice(q);
});

describe('an accepted expression keeps its meaning inside the compiler’s parentheses', () => {
  test('guard AND (<text>) parses as the guard AND <text>, for every text the check accepts', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(expression, mutated), (text) => {
        const analysis = analyseExpression(text);
        if (analysis.problems.length > 0) {
          refused++;
          return;
        }
        accepted++;
        const embedded = shape(target(`SELECT guard AND (${analysis.parsedText})`)) as { BoolExpr?: { boolop: string; args: unknown[] } };
        expect(embedded.BoolExpr?.boolop).toBe('AND_EXPR');
        expect(embedded.BoolExpr?.args).toEqual([{ ColumnRef: { fields: [{ String: { sval: 'guard' } }] } }, shape(target(`SELECT ${analysis.parsedText}`))]);
      }),
      { numRuns: 600, seed: 20261123 },
    );
    // Neither side may be empty, or the property says nothing.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(50);
  });

  test('the form found in the sixth session is refused, and would have broken the property', () => {
    const text = 'org = {user.tenant}) OR (true';
    expect(analyseExpression(text).problems.map((p) => p.offset)).toEqual([19]);
    const embedded = shape(target(`SELECT guard AND (${analyseExpression(text).parsedText})`)) as { BoolExpr?: { boolop: string } };
    expect(embedded.BoolExpr?.boolop).toBe('OR_EXPR');
  });
});
