// `{user.X}` templates: found in the expression text, replaced by same-length parameter placeholders for the
// parser, and later substituted by the compiler with the run-time lookup.
import { literal } from '../pg/quote.js';
import type { AttributeType, Expression, ExpressionProblem, Template } from './model.js';

export interface FoundTemplate {
  readonly attribute: string;
  readonly start: number;
  readonly end: number;
}

const TEMPLATE = /\{user\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const LOOKS_LIKE_TEMPLATE = /\{\s*users?\b[^}]{0,64}\}/gi;

export function findTemplates(text: string): { templates: FoundTemplate[]; problems: ExpressionProblem[] } {
  const templates = [...text.matchAll(TEMPLATE)].map((m) => ({ attribute: m[1]!, start: m.index, end: m.index + m[0].length }));
  const problems = [...text.matchAll(LOOKS_LIKE_TEMPLATE)]
    .filter((m) => !templates.some((t) => t.start === m.index))
    .map((m) => ({ offset: m.index, message: `malformed template \`${m[0]}\`; write {user.<attribute>}, e.g. {user.tenant}` }));
  return { templates, problems };
}

/**
 * The text the parser sees: template i becomes `$i+1` padded with spaces to the template's length, so every
 * offset the parser reports is an offset into the original text.
 */
export function withPlaceholders(text: string, templates: readonly FoundTemplate[]): string {
  let out = '';
  let last = 0;
  templates.forEach((t, i) => {
    out += text.slice(last, t.start) + `$${i + 1}`.padEnd(t.end - t.start, ' ');
    last = t.end;
  });
  return out + text.slice(last);
}

/**
 * The compiled form of a template: a sub-select, so the planner evaluates it once per statement (an InitPlan)
 * and `org = (SELECT ...)` can use an index. Cast to the attribute's type unless it is text.
 */
export function compiledTemplate(attribute: string, type: AttributeType): string {
  // A list is cast outside the sub-select: `x = ANY((SELECT ...))` would parse as ANY over the rows of a
  // subquery (comparing text with text[]); `ANY((SELECT ...)::text[])` is ANY over the array, still an InitPlan.
  if (type === 'text[]') return `(SELECT tenantctl.attr(${literal(attribute)}))::text[]`;
  return lookup('attr', attribute, type);
}

/**
 * The compiled form of a template in a write check: {user.tenant} and {user.tenant_id} call
 * tenantctl.writable_attr(), the same value that also raises when the caller's tenant is frozen (so a write
 * check needs no separate writable() lookup where such a template is a top-level conjunct); any other
 * attribute compiles as in compiledTemplate.
 */
export function compiledWriteTemplate(attribute: string, type: AttributeType): string {
  return attribute === 'tenant' || attribute === 'tenant_id' ? lookup('writable_attr', attribute, type) : compiledTemplate(attribute, type);
}

function lookup(fn: 'attr' | 'writable_attr', attribute: string, type: AttributeType): string {
  const cast = type === 'text' ? '' : `::${type}`;
  return `(SELECT tenantctl.${fn}(${literal(attribute)})${cast})`;
}

/** The expression text with every template replaced by `render(template)` (default: compiledTemplate). */
export function renderExpression(
  expr: Pick<Expression, 'text' | 'templates'>,
  render: (t: Template) => string = (t) => compiledTemplate(t.attribute, t.type),
): string {
  let out = '';
  let last = 0;
  for (const t of expr.templates) {
    out += expr.text.slice(last, t.start) + render(t);
    last = t.end;
  }
  return out + expr.text.slice(last);
}

/** Attributes the expression reads, each once, in order of first use. */
export function templateAttributes(expr: Pick<Expression, 'templates'>): string[] {
  return [...new Set(expr.templates.map((t) => t.attribute))];
}
