// A reference evaluator for the differential fuzzer, written from /work/shared/design/policy-language.md
// ("Combining", rules 1-5, both modes), plus the decisions the README documents where the design is silent
// (marked where used); it does not import src/compile, src/plan or src/policy. For each user and governed table of a generated case it says whether the table exists for the
// user, its columns in order, and every visible row and value (masks and filters evaluated in JS, with SQL's
// three-valued logic). Where the design calls the file an error (a mask tie, a user without a tenant whose
// policies read {user.tenant}) it expects apply to refuse it.
import type { AssignmentDef, Case, Filter, Mask, PolicyDef, Row, Selector, TableDef, TenantDef, UserDef, Value } from './generate.js';

export type TableView =
  | { readonly exists: false }
  | { readonly exists: true; readonly columns: readonly string[]; readonly rows: readonly (readonly Value[])[] };

/**
 * A write tried by a user, in a transaction rolled back at once (rule 6). `delete`: DELETE every row it may touch;
 * `update-same`: SET a writable column to itself; `update-org`: move its rows to another org; `update-masked`:
 * write a masked column; `insert`: a new row (the writable columns copied from a row of the table, `id` new).
 */
export type WriteProbe =
  | { readonly kind: 'delete' | 'update-org' }
  | { readonly kind: 'update-same' | 'update-masked'; readonly column: string }
  | { readonly kind: 'insert'; readonly row: Readonly<Record<string, Value>> };

/** What a write may do: affect exactly `count` rows, or fail with SQLSTATE `code`. */
export type WriteOutcome = { readonly count: number } | { readonly code: string };

export interface WriteExpectation {
  readonly probe: WriteProbe;
  /** Any of these is right (more than one only where PostgreSQL may or may not evaluate a lookup). */
  readonly expect: readonly WriteOutcome[];
  readonly why: string;
}

export interface Expectation {
  /** applied: apply must succeed; rejected: apply must fail with exit 1; either: the design is silent. */
  readonly outcome: 'applied' | 'rejected' | 'either';
  /** Why apply must (or may) refuse the file, and a fragment of the message expected when it must. */
  readonly reasons: readonly { readonly why: string; readonly message?: RegExp }[];
  /** user -> table -> what the user reads with `SELECT * FROM table`. */
  readonly views: ReadonlyMap<string, ReadonlyMap<string, TableView>>;
  /** user -> table -> the writes tried and what each must do (tables that exist for the user only). */
  readonly writes: ReadonlyMap<string, ReadonlyMap<string, readonly WriteExpectation[]>>;
}

/** How specifically an assignment reaches a user: 0 `to: {user}`, 1 `to: {role}`, 2 `to: all` (rule 5). */
type Via = 0 | 1 | 2;
interface Reached {
  readonly assignment: AssignmentDef;
  readonly policy: PolicyDef;
  readonly via: Via;
  readonly priority: number;
}

const DEFAULT_PRIORITY = 100;

function matches(s: Selector, user: UserDef): Via | undefined {
  if (s.kind === 'all') return 2;
  if (s.kind === 'user' || s.kind === 'app') return s.kind === user.kind && s.name === user.name ? 0 : undefined;
  return user.roles.includes(s.name) ? 1 : undefined;
}

/** Assignments: `to` selects (most specific selector counts), `except` removes. */
export function reached(c: Case, user: UserDef): Reached[] {
  const out: Reached[] = [];
  for (const a of c.assignments) {
    const policy = c.policies.find((p) => p.name === a.policy);
    if (!policy) continue;
    const vias = a.to.map((s) => matches(s, user)).filter((v): v is Via => v !== undefined);
    if (vias.length === 0) continue;
    if (a.except.some((s) => matches(s, user) !== undefined)) continue;
    out.push({ assignment: a, policy, via: Math.min(...vias) as Via, priority: a.priority ?? DEFAULT_PRIORITY });
  }
  return out;
}

/** The columns of a table that the assigned column_deny policies remove. */
const denied = (here: readonly Reached[]): Set<string> => new Set(here.flatMap((r) => (r.policy.type === 'column_deny' ? r.policy.columns : [])));

const targets = (p: PolicyDef): readonly string[] => (p.type === 'column_mask' || p.type === 'column_deny' ? [p.table] : p.tables);

/**
 * The tenant a principal acts for, never an archived one. A user's is its `tenant`. An app's is the registered
 * tenant that the slug and the id it set both name (either may be unset, not both); a slug and an id of
 * different tenants name none ("Principals": unset means no rows, fail closed).
 */
function tenantOf(c: Case, user: UserDef): TenantDef | undefined {
  if (user.tenant === undefined && user.tenantId === undefined) return undefined;
  const t = c.tenants.find((x) => (user.tenant === undefined || x.slug === user.tenant) && (user.tenantId === undefined || x.id === user.tenantId));
  return t && t.status !== 'archived' ? t : undefined;
}

/** Whether the principal sees rows at all: archived tenants see nothing; an app without a tenant neither. */
function sees(c: Case, user: UserDef): boolean {
  return tenantOf(c, user) !== undefined || (user.kind === 'user' && user.tenant === undefined);
}

/** Values of `{user.X}` for one principal: NULL when absent; tenant lookups NULL when the tenant is archived. */
function attribute(c: Case, user: UserDef, name: string): Value | readonly string[] {
  if (name === 'name') return user.name;
  if (name === 'tenant' || name === 'tenant_id') {
    const t = tenantOf(c, user);
    return t ? (name === 'tenant' ? t.slug : t.id) : null;
  }
  const v = (user.attributes as Record<string, Value | readonly string[] | undefined>)[name];
  return v === undefined ? null : v;
}

type Truth = boolean | null;
const and3 = (a: Truth, b: Truth): Truth => (a === false || b === false ? false : a === null || b === null ? null : true);
const or3 = (a: Truth, b: Truth): Truth => (a === true || b === true ? true : a === null || b === null ? null : false);

class Evaluator {
  constructor(
    private readonly c: Case,
    private readonly user: UserDef,
    private readonly reach: readonly Reached[],
  ) {}

  private attr(name: string): Value | readonly string[] {
    return attribute(this.c, this.user, name);
  }

  table(t: TableDef): TableView {
    const here = this.reach.filter((r) => targets(r.policy).includes(t.name));
    // 1. table_deny assigned: the table does not exist for the user.
    if (here.some((r) => r.policy.type === 'table_deny')) return { exists: false };
    const columns = this.columns(t, here);
    // Rule 4 leaves no column: the README's documented decision (where the design is silent on a table with
    // no columns) is that the table does not exist for the user, as with table_deny.
    if (columns.length === 0) return { exists: false };
    const masks = new Map(columns.map((col) => [col, this.mask(t, col, here)] as const));
    const rows = this.rows(t).map((row) =>
      columns.map((col) => {
        const m = masks.get(col);
        return m && m.kind === 'winner' ? this.evalMask(m.mask, row) : (row[col] ?? null);
      }),
    );
    return { exists: true, columns, rows };
  }

  /** 4. All columns, or the union of the assigned column_allow lists; minus every assigned column_deny. */
  columns(t: TableDef, here: readonly Reached[]): string[] {
    const lists = here.flatMap((r) => (r.policy.type === 'column_allow' ? [r.policy.columns] : []));
    const allowed = lists.length === 0 || lists.includes('*') ? undefined : new Set(lists.flatMap((l) => (l === '*' ? [] : l)));
    const deny = denied(here);
    return t.columns.map((col) => col.name).filter((name) => (!allowed || allowed.has(name)) && !deny.has(name));
  }

  /** 5. Lowest priority, then user over role over all; two different masks still level is a tie. */
  mask(t: TableDef, column: string, here: readonly Reached[]): { kind: 'winner'; mask: Mask } | { kind: 'tie'; policies: [string, string] } | undefined {
    const best = new Map<string, Reached>();
    for (const r of here) {
      if (r.policy.type !== 'column_mask' || r.policy.column !== column || r.policy.table !== t.name) continue;
      const seen = best.get(r.policy.name);
      if (!seen || r.priority < seen.priority || (r.priority === seen.priority && r.via < seen.via)) best.set(r.policy.name, r);
    }
    const ranked = [...best.values()].sort((a, b) => a.priority - b.priority || a.via - b.via);
    const [first, second] = ranked;
    if (!first) return undefined;
    if (second && second.priority === first.priority && second.via === first.via) return { kind: 'tie', policies: [first.policy.name, second.policy.name] };
    return { kind: 'winner', mask: (first.policy as Extract<PolicyDef, { type: 'column_mask' }>).mask };
  }

  /**
   * 2. and 3. Readable in open mode, or in policy_required mode when an assigned row_filter or column_allow
   * targets the table (otherwise zero rows); every assigned row_filter ANDed. Archived tenants see nothing.
   * A table that does not exist for the user has no rows for it, in subqueries too.
   */
  rows(t: TableDef): Row[] {
    const here = this.reach.filter((r) => targets(r.policy).includes(t.name));
    if (here.some((r) => r.policy.type === 'table_deny') || this.columns(t, here).length === 0) return [];
    return (this.c.rows[t.name] ?? []).filter((row) => this.mayHold(t, row));
  }

  /**
   * Rule 6: "INSERT/UPDATE/DELETE obey the same row filters as WITH CHECK ... Masked and denied columns cannot be
   * written. Tenants whose registry status is frozen are read-only." A user with `access: read` writes nothing.
   */
  writes(t: TableDef): WriteExpectation[] {
    const view = this.table(t);
    if (!view.exists) return [];
    if (this.user.access === 'read') return [{ probe: { kind: 'delete' }, expect: [{ code: '42501' }], why: 'access: read, so no write privilege' }];
    const here = this.reach.filter((r) => targets(r.policy).includes(t.name));
    const visibleRows = this.rows(t);
    const frozen = tenantOf(this.c, this.user)?.status === 'frozen';
    const masked = view.columns.filter((col) => this.mask(t, col, here)?.kind === 'winner');
    const writable = view.columns.filter((col) => !masked.includes(col));
    // A frozen tenant's write fails (42501) once the write check runs; with no row to touch PostgreSQL may never
    // evaluate it (the lookup is an InitPlan), so 0 rows is right too.
    const touching = (n: number): WriteOutcome[] => (frozen ? (n > 0 ? [{ code: '42501' }] : [{ code: '42501' }, { count: 0 }]) : [{ count: n }]);
    const out: WriteExpectation[] = [{ probe: { kind: 'delete' }, expect: touching(visibleRows.length), why: `deletes exactly its ${visibleRows.length} visible row(s)${frozen ? ' (tenant frozen)' : ''}` }];
    if (writable[0] !== undefined) {
      out.push({ probe: { kind: 'update-same', column: writable[0] }, expect: touching(visibleRows.length), why: `updates exactly its ${visibleRows.length} visible row(s)${frozen ? ' (tenant frozen)' : ''}` });
    }
    if (writable.includes('org')) {
      const escape = visibleRows.some((r) => !this.mayHold(t, { ...r, org: 'other-org' }));
      out.push({
        probe: { kind: 'update-org' },
        expect: visibleRows.length > 0 && escape ? [{ code: '42501' }] : touching(visibleRows.length),
        why: escape ? 'a moved row would leave the rows the user may hold (WITH CHECK)' : `every moved row stays within the user's rows (${visibleRows.length})`,
      });
    }
    if (masked[0] !== undefined) {
      // A masked column is an expression in the persona's view, which PostgreSQL will not write through
      // (0A000 "cannot update column"); a view with no plain column at all is not updatable (55000).
      const code = writable.length === 0 ? '55000' : '0A000';
      out.push({ probe: { kind: 'update-masked', column: masked[0] }, expect: [{ code }], why: `${masked[0]} is masked${writable.length === 0 ? ', as is every other visible column' : ''}` });
    }
    if (writable.includes('id')) {
      const all = this.c.rows[t.name] ?? [];
      const sources = [all.find((r) => !visibleRows.includes(r)), visibleRows[0]].filter((r): r is Row => r !== undefined);
      sources.forEach((source, k) => {
        const row = Object.fromEntries(writable.map((col) => [col, col === 'id' ? 1000 + k : (source[col] ?? null)]));
        const full: Row = Object.fromEntries(t.columns.map((col) => [col.name, row[col.name] ?? null]));
        const ok = !frozen && this.mayHold(t, full);
        out.push({ probe: { kind: 'insert', row }, expect: [ok ? { count: 1 } : { code: '42501' }], why: ok ? 'the new row is within the user\'s rows' : frozen ? 'the tenant is frozen' : 'the new row is outside the user\'s rows (WITH CHECK)' });
      });
    }
    return out;
  }

  /**
   * Whether a row is among the user's rows (rules 2, 3; archived tenants see nothing): the table readable for it
   * and every assigned filter true.
   */
  private mayHold(t: TableDef, row: Row): boolean {
    const here = this.reach.filter((r) => targets(r.policy).includes(t.name));
    if (!sees(this.c, this.user)) return false;
    const readable = this.c.mode === 'open' || here.some((r) => r.policy.type === 'row_filter' || r.policy.type === 'column_allow');
    const filters = [...new Set(here.flatMap((r) => (r.policy.type === 'row_filter' ? [r.policy.filter] : [])))];
    return readable && filters.every((f) => this.evalFilter(f, row) === true);
  }

  evalFilter(f: Filter, row: Row): Truth {
    const v = (col: string): Value => row[col] ?? null;
    switch (f.k) {
      case 'eqAttr': {
        const a = v(f.col);
        const b = this.attr(f.attr);
        return a === null || b === null ? null : a === b;
      }
      case 'in': {
        const a = v(f.col);
        return a === null ? null : f.values.includes(a);
      }
      case 'leLevel': {
        const a = v(f.col);
        const level = this.attr('level');
        return a === null || level === null ? null : (a as number) <= (level as number);
      }
      case 'anyTeams': {
        const a = v(f.col);
        const teams = this.attr('teams') as readonly string[] | null;
        // SQL: `x = ANY('{}')` is false even when x is NULL (as `x IN (empty set)`).
        if (teams === null) return null;
        if (teams.length === 0) return false;
        return a === null ? null : teams.includes(a as string);
      }
      case 'senior':
        return this.attr('senior') as boolean | null;
      case 'isNull':
        return v(f.col) === null;
      case 'boolCol':
        return v(f.col) as boolean | null;
      case 'not': {
        const a = this.evalFilter(f.a, row);
        return a === null ? null : !a;
      }
      case 'and':
        return and3(this.evalFilter(f.a, row), this.evalFilter(f.b, row));
      case 'or':
        return or3(this.evalFilter(f.a, row), this.evalFilter(f.b, row));
      case 'sub': {
        // A subquery over a governed table sees that table as filtered for this user.
        const fk = v('parent_id');
        const tenant = this.attr('tenant');
        const parent = this.c.tables.find((t) => t.name === f.parent)!;
        const ids = this.rows(parent).filter((p) => tenant !== null && p['org'] === tenant).map((p) => p['id']);
        // SQL: `x IN (empty set)` is false even when x is NULL; otherwise NULL IN (...) is NULL (ids never are).
        if (ids.length === 0) return false;
        return fk === null ? null : ids.includes(fk);
      }
    }
  }

  evalMask(m: Mask, row: Row): Value {
    const src = (name: string): Value => row[name] ?? null;
    switch (m.k) {
      case 'null':
        return null;
      case 'lit':
        return m.value;
      case 'stars': {
        const s = src(m.src) as string | null;
        return s === null ? null : '***' + [...s].slice(-m.n).join('');
      }
      case 'left': {
        const s = src(m.src) as string | null;
        return s === null ? null : [...s].slice(0, m.n).join('');
      }
      case 'upper': {
        const s = src(m.src) as string | null;
        return s === null ? null : s.replace(/[a-z]/g, (ch) => ch.toUpperCase());
      }
      case 'mod': {
        const n = src(m.src) as number | null;
        return n === null ? null : n % m.n;
      }
      case 'not': {
        const b = src(m.src) as boolean | null;
        return b === null ? null : !b;
      }
      case 'ifSenior':
        return this.attr('senior') === true ? src(m.src) : m.value;
    }
  }
}

export function expectation(c: Case): Expectation {
  const reasons: { why: string; message?: RegExp }[] = [];
  let outcome: Expectation['outcome'] = 'applied';
  const views = new Map<string, Map<string, TableView>>();
  const writes = new Map<string, Map<string, readonly WriteExpectation[]>>();
  for (const user of c.users) {
    const reach = reached(c, user);
    const ev = new Evaluator(c, user, reach);
    // Principals: `tenant` is required unless the user's assigned policies never read {user.tenant}.
    if (user.kind === 'user' && user.tenant === undefined) {
      const reader = reach.find((r) => readsTenant(r.policy));
      if (reader) {
        outcome = 'rejected';
        reasons.push({ why: `${user.name} has no tenant but is assigned ${reader.policy.name}, which reads {user.tenant}`, message: /has no `tenant`/ });
      }
    }
    // Mask ties: an error where the column is visible; where it is absent (denied), the design is silent.
    for (const t of c.tables) {
      const here = reach.filter((r) => targets(r.policy).includes(t.name));
      const deniedTable = here.some((r) => r.policy.type === 'table_deny');
      const visible = deniedTable ? [] : ev.columns(t, here);
      for (const col of t.columns) {
        const m = ev.mask(t, col.name, here);
        // The README's decision where the design is silent: a winning mask of a visible column that reads a
        // column denied to the user is refused (deny wins; the mask would hand the user part of that column).
        if (m?.kind === 'winner' && 'src' in m.mask && visible.includes(col.name) && denied(here).has(m.mask.src)) {
          outcome = 'rejected';
          reasons.push({ why: `the mask of ${t.name}.${col.name} for ${user.name} reads ${m.mask.src}, which is denied to ${user.name}`, message: /which `[^`]+` denies to/ });
        }
        if (m?.kind !== 'tie') continue;
        const why = `masks ${m.policies.join(' and ')} tie for ${user.name} on ${t.name}.${col.name}`;
        if (visible.includes(col.name)) {
          outcome = 'rejected';
          reasons.push({ why, message: /tie/ });
        } else {
          if (outcome === 'applied') outcome = 'either';
          reasons.push({ why: `${why} (column absent for the user)` });
        }
      }
    }
    views.set(user.name, new Map(c.tables.map((t) => [t.name, ev.table(t)] as const)));
    writes.set(user.name, new Map(c.tables.map((t) => [t.name, ev.writes(t)] as const)));
  }
  return { outcome, reasons, views, writes };
}

function readsTenant(p: PolicyDef): boolean {
  const walk = (f: Filter): boolean =>
    f.k === 'sub' || (f.k === 'eqAttr' && (f.attr === 'tenant' || f.attr === 'tenant_id')) || (f.k === 'not' && walk(f.a)) || ((f.k === 'and' || f.k === 'or') && (walk(f.a) || walk(f.b)));
  return p.type === 'row_filter' && walk(p.filter);
}
