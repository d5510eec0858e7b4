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
  const byName = new Map(model.policies.map((p) => [p.name, p] as const));
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
