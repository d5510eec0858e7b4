// What one principal may do with one table, as far as a policy file says without a catalog: the rules of
// "Combining" (policy-language.md) applied to a table *key* (a name, or a glob standing for "any other table
// matching it"). Assignments are resolved by src/policy/effective.ts and masks chosen by src/policy/masks.ts,
// exactly as the compiler does; only the table list is missing (so columns are "all" or named sets).
import { effectiveAssignments, type EffectiveAssignment } from '../policy/effective.js';
import { chooseMask, type MaskAssignment } from '../policy/masks.js';
import type { PolicyModel, Principal, TableRef } from '../policy/model.js';
import { globToRegExp } from '../policy/tables.js';
import { conjuncts, expressionFingerprint, type Conjunct } from './expression.js';

/** A table as the diff names it: always schema-qualified; `glob` when `name` is a pattern. */
export interface TableKey {
  readonly schema: string;
  readonly name: string;
  readonly glob: boolean;
}

export const tableKeyText = (k: TableKey): string => `${k.schema}.${k.name}`;

/**
 * absent: the table is not governed by this file (no persona view, no USAGE on the base schema);
 * denied: table_deny (the table does not exist for them); empty: it exists and returns no rows
 * (policy_required without a row_filter or column_allow); readable.
 */
export type TableStatus = 'absent' | 'denied' | 'empty' | 'readable';

export interface MaskState {
  readonly fingerprint: string;
  readonly text: string;
  readonly policy: string;
}

export interface TableAccess {
  readonly status: TableStatus;
  /** ANDed conjuncts of every assigned row filter, by fingerprint (readable only; empty map: every row). */
  readonly rows: ReadonlyMap<string, Conjunct>;
  /** 'all', or the union of the assigned column_allow lists. */
  readonly allow: 'all' | ReadonlySet<string>;
  readonly deny: ReadonlySet<string>;
  /** The winning mask per column that some assigned mask names (visible columns only). */
  readonly masks: ReadonlyMap<string, MaskState>;
}

export const NO_ACCESS = (status: 'absent' | 'denied'): TableAccess => ({ status, rows: new Map(), allow: new Set(), deny: new Set(), masks: new Map() });

/**
 * Does every name matching `inner` match `outer` too? Exact for patterns of literals, `?` and `*` in the
 * common cases; when unsure it answers false (the policy is then not taken to cover the pattern).
 */
export function globContains(outer: string, inner: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const seen = memo.get(key);
    if (seen !== undefined) return seen;
    let result: boolean;
    if (i === outer.length) result = j === inner.length;
    else if (outer[i] === '*') {
      result = false;
      for (let k = j; k <= inner.length && !result; k++) result = go(i + 1, k);
    } else if (j === inner.length || inner[j] === '*') result = false;
    else if (outer[i] === '?') result = go(i + 1, j + 1);
    else result = inner[j] !== '?' && outer[i] === inner[j] && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** Does a policy's table reference cover the table key? A name never covers a pattern. */
export function refCovers(ref: TableRef, key: TableKey): boolean {
  if (ref.schema !== undefined && ref.schema !== key.schema) return false;
  if (key.glob) return ref.glob && globContains(ref.name, key.name);
  return ref.glob ? globToRegExp(ref.name).test(key.name) : ref.name === key.name;
}

const visible = (a: Pick<TableAccess, 'allow' | 'deny'>, column: string): boolean => (a.allow === 'all' || a.allow.has(column)) && !a.deny.has(column);

export function isVisible(a: TableAccess, column: string): boolean {
  return a.status === 'readable' && visible(a, column);
}

/** The access of `principal` to the table `key` under `model`; `assigned` is effectiveAssignments(model, principal). */
export function tableAccess(model: PolicyModel, assigned: readonly EffectiveAssignment[], key: TableKey): TableAccess {
  if (!model.schemas.some((s) => s.name === key.schema)) return NO_ACCESS('absent');
  const here = assigned.filter((a) => a.policy.tables.some((r) => refCovers(r, key)));
  // 1. Deny always wins.
  if (here.some((a) => a.policy.type === 'table_deny')) return NO_ACCESS('denied');
  const filters = [...new Set(here.flatMap((a) => (a.policy.type === 'row_filter' ? [a.policy] : [])))];
  const allows = here.flatMap((a) => (a.policy.type === 'column_allow' ? [a.policy] : []));
  // 2. Visibility.
  const readable = model.mode === 'open' || filters.length > 0 || allows.length > 0;
  // 3. Rows: every filter's conjuncts, ANDed (a set: order and repetition do not matter).
  const rows = new Map<string, Conjunct>();
  for (const f of filters) for (const c of conjuncts(f.filter)) if (!rows.has(c.fingerprint)) rows.set(c.fingerprint, c);
  // 4. Columns.
  const lists = allows.map((p) => p.columns);
  const allow: 'all' | Set<string> = lists.length === 0 || lists.includes('all') ? 'all' : new Set(lists.flatMap((l) => (l === 'all' ? [] : l.map((c) => c.name))));
  const deny = new Set(here.flatMap((a) => (a.policy.type === 'column_deny' ? a.policy.columns.map((c) => c.name) : [])));
  // 5. Masks, chosen as the compiler chooses them; a column that is not visible is absent, not masked.
  const maskList = here.filter((a): a is MaskAssignment => a.policy.type === 'column_mask');
  const masks = new Map<string, MaskState>();
  for (const column of new Set(maskList.map((m) => m.policy.column.name))) {
    if (!visible({ allow, deny }, column)) continue;
    const choice = chooseMask(maskList.filter((m) => m.policy.column.name === column));
    if (choice.kind === 'tie') {
      const names = choice.tied.map((t) => t.policy.name).sort();
      masks.set(column, { fingerprint: `tie:${names.join(',')}`, text: `a tie between ${names.join(' and ')}`, policy: names.join(', ') });
    } else {
      const p = choice.winner.policy;
      masks.set(column, { fingerprint: expressionFingerprint(p.mask), text: p.mask.text.trim(), policy: p.name });
    }
  }
  return { status: readable ? 'readable' : 'empty', rows, allow, deny, masks };
}

/** Every table key either file names: names and patterns, unqualified ones in each governed schema of either file. */
export function tableKeys(models: readonly PolicyModel[]): TableKey[] {
  const schemas = [...new Set(models.flatMap((m) => m.schemas.map((s) => s.name)))];
  const keys = new Map<string, TableKey>();
  for (const m of models) {
    for (const p of m.policies) {
      for (const ref of p.tables) {
        for (const schema of ref.schema === undefined ? schemas : [ref.schema]) {
          const key = { schema, name: ref.name, glob: ref.glob };
          keys.set(`${key.glob ? 'g' : 'n'}:${tableKeyText(key)}`, key);
        }
      }
    }
  }
  // Names first, then patterns; each alphabetically.
  return [...keys.values()].sort((a, b) => Number(a.glob) - Number(b.glob) || tableKeyText(a).localeCompare(tableKeyText(b)));
}

const NOWHERE = { file: '', line: 0, column: 0 };

/** A stand-in principal for "a member of role R and nothing else" (or of no role), reached by role and `all` only. */
export function roleMember(role: string | undefined): Principal {
  return {
    kind: 'user',
    name: '\u0000',
    attributes: [],
    roles: role === undefined ? [] : [{ name: role, pos: NOWHERE }],
    access: 'read',
    pos: NOWHERE,
  };
}

export function assignmentsOf(model: PolicyModel, principal: Principal): EffectiveAssignment[] {
  return effectiveAssignments(model, principal);
}
