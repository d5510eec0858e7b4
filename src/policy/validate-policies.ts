// Checks on policies: names, target tables, and filter/mask expressions (parser findings, relations read,
// template attributes).
import { error, type Diagnostic } from './diagnostic.js';
import type { Expression, Policy, PolicyModel, TableRef } from './model.js';
import { isSystemRelation, isSystemSchema, POLICY_NAME } from './names.js';
import { suggest } from './suggest.js';
import { globToRegExp, tableRefText } from './tables.js';

export function checkPolicyNames(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, Policy>();
  for (const p of model.policies) {
    if (!POLICY_NAME.test(p.name) || Buffer.byteLength(p.name) > 63) {
      out.push(error(p.pos, `policy name \`${p.name}\` must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit`));
    }
    const seen = first.get(p.name);
    if (seen) out.push(error(p.pos, `duplicate policy \`${p.name}\` (first defined at line ${seen.pos.line})`));
    else first.set(p.name, p);
  }
  return out;
}

export function checkPolicy(model: PolicyModel, policy: Policy): Diagnostic[] {
  const governed = model.schemas.map((s) => s.name);
  const out: Diagnostic[] = [];
  for (const t of policy.tables) {
    if (t.schema !== undefined && !governed.includes(t.schema)) {
      out.push(error(t.pos, `table \`${tableRefText(t)}\` is not in a governed schema (schemas: ${governed.join(', ')})`, suggestSchema(t, governed)));
    }
  }
  if (policy.type === 'row_filter') out.push(...checkExpression(model, policy, policy.filter, 'filter'));
  if (policy.type === 'column_mask') out.push(...checkExpression(model, policy, policy.mask, 'mask'));
  return out;
}

function suggestSchema(t: TableRef, governed: readonly string[]): string | undefined {
  const s = t.schema === undefined ? undefined : suggest(t.schema, governed);
  return s === undefined ? undefined : `${s}.${t.name}`;
}

/** allow_refs: `schema.name` allows exactly that relation; an unqualified name (or glob) allows it in any schema. */
function allowed(policy: Policy, schema: string | undefined, name: string): boolean {
  return policy.allowRefs.some((ref) => (ref.schema === undefined || ref.schema === schema) && (ref.glob ? globToRegExp(ref.name).test(name) : ref.name === name));
}

export function checkExpression(model: PolicyModel, policy: Policy, expr: Expression, key: 'filter' | 'mask'): Diagnostic[] {
  const governed = model.schemas.map((s) => s.name);
  const posAt = (offset: number) => expr.charPos[Math.min(offset, expr.charPos.length - 1)] ?? expr.pos;
  const out: Diagnostic[] = expr.problems.map((p) => error(posAt(p.offset), `${key} of policy \`${policy.name}\`: ${p.message}`));
  for (const r of expr.relations) {
    const text = r.schema === undefined ? r.name : `${r.schema}.${r.name}`;
    if (allowed(policy, r.schema, r.name)) continue;
    if (r.schema === 'tenantctl') {
      out.push(error(posAt(r.offset), `${key} of policy \`${policy.name}\` reads \`${text}\`, tenantctl's own run-time table; use {user.<attribute>} templates instead`));
    } else if (isSystemRelation(r.schema, r.name)) {
      out.push(error(posAt(r.offset), `${key} of policy \`${policy.name}\` reads the system catalog \`${text}\`; policies may read only governed tables and relations listed in allow_refs`));
    } else if (r.schema !== undefined && !governed.includes(r.schema)) {
      out.push(
        error(
          posAt(r.offset),
          `${key} of policy \`${policy.name}\` reads \`${text}\`, which is outside the governed schemas (${governed.join(', ')}); list it in \`allow_refs\` if that is intended`,
          isSystemSchema(r.schema) ? undefined : suggestSchema({ schema: r.schema, name: r.name, glob: false, pos: expr.pos }, governed),
        ),
      );
    }
  }
  const known = Object.keys(model.attributeTypes);
  for (const t of expr.templates) {
    if (known.includes(t.attribute)) continue;
    out.push(
      error(
        t.pos,
        `unknown attribute \`${t.attribute}\` in {user.${t.attribute}}: it is not built in (name, tenant, tenant_id) nor declared in any user's \`attributes\` or app's \`context\``,
        suggest(t.attribute, known),
      ),
    );
  }
  return out;
}
