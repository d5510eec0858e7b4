// Checks on assignments and on what each user or app ends up with: known names, tenants for policies that
// read them, and mask ties.
import { error, warning, type Diagnostic } from './diagnostic.js';
import { principals, sharedEffectiveAssignments, type EffectiveAssignment } from './effective.js';
import { findMaskTies, type MaskTie } from './masks.js';
import type { Assignment, Policy, PolicyModel, Principal, PrincipalSelector } from './model.js';
import { suggest } from './suggest.js';

const TENANT_ATTRIBUTES = ['tenant', 'tenant_id'] as const;

export function checkAssignment(model: PolicyModel, a: Assignment): Diagnostic[] {
  const out: Diagnostic[] = [];
  const policyNames = model.policies.map((p) => p.name);
  if (!policyNames.includes(a.policy)) {
    out.push(error(a.pos, `unknown policy \`${a.policy}\` in assignment`, suggest(a.policy, policyNames)));
  }
  for (const s of a.to) out.push(...checkSelector(model, s, 'to'));
  for (const s of a.except) out.push(...checkSelector(model, s, 'except'));
  if (a.except.some((s) => s.kind === 'all')) {
    out.push(warning(a.except.find((s) => s.kind === 'all')!.pos, `\`except: all\` excludes everyone: assignment of \`${a.policy}\` has no effect`));
  }
  return out;
}

/**
 * An unknown name in `to` is an error. In `except` it is a warning: excluding someone who is not in the file
 * excludes nobody (the design's own example excepts a user it does not declare).
 */
function checkSelector(model: PolicyModel, s: PrincipalSelector, key: 'to' | 'except'): Diagnostic[] {
  if (s.kind === 'all') return [];
  const names = { user: model.users.map((u) => u.name), app: model.apps.map((x) => x.name), role: model.roles.map((r) => r.name) };
  if (names[s.kind].includes(s.name)) return [];
  const actual = (['user', 'app', 'role'] as const).find((k) => names[k].includes(s.name));
  if (actual) return [error(s.pos, `\`${s.name}\` is ${actual === 'app' ? 'an app' : `a ${actual}`}, not ${s.kind === 'app' ? 'an app' : `a ${s.kind}`}; write { ${actual}: ${s.name} }`)];
  const nearest = suggest(s.name, names[s.kind]);
  if (key === 'except') return [warning(s.pos, `unknown ${s.kind} \`${s.name}\` in \`except\`: it is not in this file, so it excludes nobody`, nearest)];
  return [error(s.pos, `unknown ${s.kind} \`${s.name}\` in assignment`, nearest)];
}

function readsAttribute(policy: Policy, attribute: string): boolean {
  const expr = policy.type === 'row_filter' ? policy.filter : policy.type === 'column_mask' ? policy.mask : undefined;
  return expr?.templates.some((t) => t.attribute === attribute) ?? false;
}

/** A user needs `tenant`, an app a context entry, for every tenant attribute its policies read. */
export function checkTenantNeeded(model: PolicyModel, principal: Principal): Diagnostic[] {
  const out: Diagnostic[] = [];
  const readers = tenantReaders(sharedEffectiveAssignments(model, principal));
  for (const attribute of TENANT_ATTRIBUTES) {
    const reader = readers.get(attribute);
    if (!reader) continue;
    if (principal.kind === 'user' && !principal.tenant) {
      out.push(error(principal.pos, `user \`${principal.name}\` has no \`tenant\`, but its assigned policy \`${reader.policy.name}\` reads {user.${attribute}}`));
      break;
    }
    if (principal.kind === 'app' && !principal.context.some((c) => c.attribute === attribute)) {
      out.push(error(principal.pos, `app \`${principal.name}\` does not map \`${attribute}\` in \`context\`, but its assigned policy \`${reader.policy.name}\` reads {user.${attribute}}`));
    }
  }
  return out;
}

const readersOf = new WeakMap<readonly EffectiveAssignment[], ReadonlyMap<string, EffectiveAssignment>>();

/** The first assignment reading each tenant attribute, once per shared assignment list. */
function tenantReaders(effective: readonly EffectiveAssignment[]): ReadonlyMap<string, EffectiveAssignment> {
  let readers = readersOf.get(effective);
  if (!readers) {
    const found = new Map<string, EffectiveAssignment>();
    for (const attribute of TENANT_ATTRIBUTES) {
      const reader = effective.find((e) => readsAttribute(e.policy, attribute));
      if (reader) found.set(attribute, reader);
    }
    readers = found;
    readersOf.set(effective, readers);
  }
  return readers;
}

/** One error per tied pair of policies on a column, naming the first user or app affected. */
export function checkMaskTies(model: PolicyModel): Diagnostic[] {
  const groups = new Map<string, MaskTie[]>();
  for (const principal of principals(model)) {
    for (const tie of findMaskTies(model, principal)) {
      const key = [...tie.tied.map((t) => t.policy.name)].sort().join('\u0000') + '\u0000' + tie.column;
      const group = groups.get(key);
      if (group) group.push(tie);
      else groups.set(key, [tie]);
    }
  }
  return [...groups.values()].map((ties) => {
    const tie = ties[0]!;
    const [a, b] = tie.tied;
    const later = a.assignment.index > b.assignment.index ? a : b;
    const who = `${tie.principal.kind} \`${tie.principal.name}\`${ties.length > 1 ? ` (and ${ties.length - 1} more)` : ''}`;
    const via = a.via === 'all' ? 'to: all' : a.via === 'role' ? 'to: { role }' : `to: { ${tie.principal.kind} }`;
    return error(
      later.assignment.pos,
      `mask tie on ${tie.table}.${tie.column} for ${who}: policies \`${a.policy.name}\` and \`${b.policy.name}\` both have priority ${a.assignment.priority} and are assigned ${via}; give one a lower priority`,
    );
  });
}
