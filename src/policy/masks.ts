// Rule 5 of "Combining": where several assigned masks hit one column, the lowest priority wins; at equal
// priority `to: {user}`/`{app}` beats `to: {role}` beats `to: all`; a remaining tie is an error.
import { VIA_RANK, type EffectiveAssignment } from './effective.js';
import type { ColumnMaskPolicy, PolicyModel, Principal } from './model.js';
import { sharedEffectiveAssignments } from './effective.js';
import { tableRefsOverlap, tableRefText } from './tables.js';

export type MaskAssignment = EffectiveAssignment & { readonly policy: ColumnMaskPolicy };

export type MaskChoice =
  | { readonly kind: 'winner'; readonly winner: MaskAssignment }
  | { readonly kind: 'tie'; readonly tied: readonly [MaskAssignment, MaskAssignment] };

function better(a: MaskAssignment, b: MaskAssignment): number {
  return a.assignment.priority - b.assignment.priority || VIA_RANK[a.via] - VIA_RANK[b.via];
}

/**
 * Choose among the masks that reach one principal for one column. The same policy reached twice counts once
 * (its best assignment). `candidates` must not be empty.
 */
export function chooseMask(candidates: readonly MaskAssignment[]): MaskChoice {
  const bestPerPolicy = new Map<string, MaskAssignment>();
  for (const c of candidates) {
    const seen = bestPerPolicy.get(c.policy.name);
    if (!seen || better(c, seen) < 0) bestPerPolicy.set(c.policy.name, c);
  }
  const ranked = [...bestPerPolicy.values()].sort((a, b) => better(a, b) || a.assignment.index - b.assignment.index);
  const [first, second] = ranked;
  if (!first) throw new Error('chooseMask needs at least one candidate');
  if (second && better(first, second) === 0) return { kind: 'tie', tied: [first, second] };
  return { kind: 'winner', winner: first };
}

export interface MaskTie {
  readonly principal: Principal;
  /** The table as written in the later of the two policies, and the column. */
  readonly table: string;
  readonly column: string;
  readonly tied: readonly [MaskAssignment, MaskAssignment];
}

/**
 * Ties detectable without a catalog: for each mask reaching the principal, the masks on the same column whose
 * tables overlap with one of its tables.
 */
export function findMaskTies(model: PolicyModel, principal: Principal): MaskTie[] {
  const assigned = sharedEffectiveAssignments(model, principal);
  // Principals with the same (shared) assignments have the same ties: found once per distinct set.
  let ties = tiesOf.get(assigned);
  if (!ties) {
    ties = tiesAmong(assigned.filter((e): e is MaskAssignment => e.policy.type === 'column_mask'));
    tiesOf.set(assigned, ties);
  }
  return ties.map((t) => ({ principal, ...t }));
}

const tiesOf = new WeakMap<readonly EffectiveAssignment[], readonly Omit<MaskTie, 'principal'>[]>();

function tiesAmong(masks: readonly MaskAssignment[]): Omit<MaskTie, 'principal'>[] {
  const ties: Omit<MaskTie, 'principal'>[] = [];
  const seen = new Set<string>();
  const byColumn = new Map<string, MaskAssignment[]>();
  for (const m of masks) {
    const list = byColumn.get(m.policy.column.name);
    if (list) list.push(m);
    else byColumn.set(m.policy.column.name, [m]);
  }
  for (const m of masks) {
    const sameColumn = byColumn.get(m.policy.column.name)!;
    for (const table of m.policy.tables) {
      const candidates = sameColumn.filter((o) => o.policy.tables.some((t) => tableRefsOverlap(t, table)));
      const choice = chooseMask(candidates);
      if (choice.kind !== 'tie') continue;
      const key = choice.tied.map((t) => t.policy.name).sort().join('\u0000') + '\u0000' + m.policy.column.name;
      if (seen.has(key)) continue;
      seen.add(key);
      ties.push({ table: tableRefText(table), column: m.policy.column.name, tied: choice.tied });
    }
  }
  return ties;
}
