// A plan: ordered steps, each one object's change with the statements that make it.

/** Who gains or loses: see cli.md, "plan ... whether it widens or narrows access". */
export type Effect = 'widens' | 'narrows' | 'neutral' | 'review';

export type Action = 'create' | 'update' | 'replace' | 'drop';

export interface Step {
  /** Stable identity of the object, e.g. `policy public.customers tenantctl_ab12`. */
  readonly object: string;
  readonly action: Action;
  readonly effect: Effect;
  /** Why, when it is not plain creation: "changed in the file", "drift: ...". */
  readonly reason?: string;
  /** What runs. May hold a SCRAM verifier: never print it; print `display`. */
  readonly sql: readonly string[];
  /** `sql` with secrets redacted. */
  readonly display: readonly string[];
  /** Execution order: lower first; within a phase, plan order. */
  readonly phase: number;
}

/** What apply records in tenantctl.applied once the steps have run (rendered from the catalog afterwards). */
export interface Record {
  readonly object: string;
  readonly desired: string;
  /** How to render the object from the catalog after apply; `value` when it is known up front. */
  readonly render: { readonly kind: 'policy'; readonly schema: string; readonly table: string; readonly name: string } | { readonly kind: 'view'; readonly schema: string; readonly name: string } | { readonly kind: 'runtime' } | { readonly kind: 'value'; readonly value: string };
}

export interface Plan {
  readonly steps: readonly Step[];
  readonly records: readonly Record[];
  /** Notes that change nothing but deserve attention (unmanaged roles, foreign policies). */
  readonly notes: readonly string[];
  /** Reasons the plan cannot be applied (e.g. a role of that name exists and is not tenantctl's). */
  readonly errors: readonly string[];
}

export interface Summary {
  readonly add: number;
  readonly change: number;
  readonly remove: number;
}

export function summarize(plan: Plan): Summary {
  let add = 0;
  let change = 0;
  let remove = 0;
  for (const s of plan.steps) {
    if (s.action === 'create') add++;
    else if (s.action === 'drop') remove++;
    else change++;
  }
  return { add, change, remove };
}
