// Which assignments reach one user or app, and how specifically (shared by validation and the compiler).
import type { Assignment, Policy, PolicyModel, Principal, PrincipalSelector } from './model.js';

/** How an assignment reached the principal: named directly, through a role it is a member of, or `to: all`. */
export type Via = 'direct' | 'role' | 'all';

/** Lower is more specific. */
export const VIA_RANK: Readonly<Record<Via, number>> = { direct: 0, role: 1, all: 2 };

export interface EffectiveAssignment {
  readonly assignment: Assignment;
  readonly policy: Policy;
  readonly via: Via;
  /** The role that carried it, when via is 'role'. */
  readonly role?: string;
}

/** How `selector` selects `principal`, or undefined when it does not. */
export function selects(selector: PrincipalSelector, principal: Principal): { via: Via; role?: string } | undefined {
  switch (selector.kind) {
    case 'all':
      return { via: 'all' };
    case 'user':
    case 'app':
      return selector.kind === principal.kind && selector.name === principal.name ? { via: 'direct' } : undefined;
    case 'role':
      return principal.kind === 'user' && principal.roles.some((r) => r.name === selector.name) ? { via: 'role', role: selector.name } : undefined;
  }
}

/** The most specific way any of `selectors` selects the principal. */
function bestMatch(selectors: readonly PrincipalSelector[], principal: Principal): { via: Via; role?: string } | undefined {
  let best: { via: Via; role?: string } | undefined;
  for (const s of selectors) {
    const m = selects(s, principal);
    if (m && (!best || VIA_RANK[m.via] < VIA_RANK[best.via])) best = m;
  }
  return best;
}

/**
 * Every assignment that applies to `principal`, in file order: selected by `to` and by no `except`.
 * Assignments naming an unknown policy are skipped (validation reports them).
 */
export function effectiveAssignments(model: PolicyModel, principal: Principal): EffectiveAssignment[] {
  return [...sharedEffectiveAssignments(model, principal)];
}

/**
 * What effectiveAssignments returns, shared by every principal that the assignments cannot tell apart (same
 * kind, same roles among those the selectors name, and not named itself): computed once per such class, not
 * once per principal (1,000 users x 210 assignments at scale). The array is frozen: callers must not change it.
 */
export function sharedEffectiveAssignments(model: PolicyModel, principal: Principal): readonly EffectiveAssignment[] {
  const index = assignmentIndex(model);
  const key = classKey(index, principal);
  let result = index.byClass.get(key);
  if (!result) {
    result = Object.freeze(computeEffectiveAssignments(model, index.policies, principal));
    index.byClass.set(key, result);
  }
  return result;
}

interface AssignmentIndex {
  readonly assignments: PolicyModel['assignments'];
  readonly policyList: PolicyModel['policies'];
  readonly count: number;
  readonly policies: ReadonlyMap<string, Policy>;
  /** Names in user/app selectors (to or except), and roles in role selectors. */
  readonly named: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  readonly byClass: Map<string, readonly EffectiveAssignment[]>;
}

const indexes = new WeakMap<PolicyModel, AssignmentIndex>();

function assignmentIndex(model: PolicyModel): AssignmentIndex {
  const cached = indexes.get(model);
  // A model is not changed after normalise; the identity and length checks only guard hand-made test models.
  if (cached && cached.assignments === model.assignments && cached.policyList === model.policies && cached.count === model.assignments.length + model.policies.length) {
    return cached;
  }
  const named = new Set<string>();
  const roles = new Set<string>();
  for (const a of model.assignments) {
    for (const s of [...a.to, ...a.except]) {
      if (s.kind === 'role') roles.add(s.name);
      else if (s.kind === 'user' || s.kind === 'app') named.add(s.name);
    }
  }
  const index: AssignmentIndex = {
    assignments: model.assignments,
    policyList: model.policies,
    count: model.assignments.length + model.policies.length,
    policies: new Map(model.policies.map((p) => [p.name, p] as const)),
    named,
    roles,
    byClass: new Map(),
  };
  indexes.set(model, index);
  return index;
}

/** Everything `selects` looks at: the kind, the name when a selector names it, the roles selectors name. */
function classKey(index: AssignmentIndex, principal: Principal): string {
  const name = index.named.has(principal.name) ? principal.name : '';
  const roles = principal.kind === 'user' ? [...new Set(principal.roles.map((r) => r.name).filter((r) => index.roles.has(r)))].sort() : [];
  return JSON.stringify([principal.kind, name, roles]);
}

function computeEffectiveAssignments(model: PolicyModel, byName: ReadonlyMap<string, Policy>, principal: Principal): EffectiveAssignment[] {
  const result: EffectiveAssignment[] = [];
  for (const assignment of model.assignments) {
    const policy = byName.get(assignment.policy);
    if (!policy) continue;
    const match = bestMatch(assignment.to, principal);
    if (!match || bestMatch(assignment.except, principal)) continue;
    result.push(match.role === undefined ? { assignment, policy, via: match.via } : { assignment, policy, via: match.via, role: match.role });
  }
  return result;
}

/** The distinct policies assigned to `principal`, in the order first assigned. */
export function effectivePolicies(model: PolicyModel, principal: Principal): Policy[] {
  return [...new Set(effectiveAssignments(model, principal).map((e) => e.policy))];
}

/** Every data-plane principal: users, then apps. */
export function principals(model: PolicyModel): Principal[] {
  return [...model.users, ...model.apps];
}
