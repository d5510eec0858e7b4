// The semantic difference between two policy files, without a database: per user, app and role, and per table
// either file names, what changed in what they may read or write, each change labelled widens / narrows /
// neutral / review. Policy names, order, assignment order and YAML layout are not compared: only effects.
import type { Effect } from '../plan/types.js';
import type { AppDef, PasswordSource, PolicyModel, Principal, UserDef } from '../policy/model.js';
import { assignmentsOf, isVisible, NO_ACCESS, roleMember, tableAccess, tableKeys, tableKeyText, type TableAccess, type TableKey, type TableStatus } from './access.js';

export type { Effect } from '../plan/types.js';

export type Aspect = 'mode' | 'schemas' | 'principal' | 'access' | 'tenant' | 'attributes' | 'context' | 'roles' | 'connection_limit' | 'password' | 'table' | 'rows' | 'columns' | 'mask';

export interface Change {
  /** `file`, `user NAME`, `app NAME`, or `role NAME` (a member of that role, beyond what `to: all` gives). */
  readonly subject: string;
  /** `schema.name` (or `schema.pattern` for a glob) when the change is about one table. */
  readonly table?: string;
  readonly aspect: Aspect;
  readonly effect: Effect;
  readonly detail: string;
}

export interface DiffSummary {
  readonly changes: number;
  readonly widens: number;
  readonly narrows: number;
  readonly review: number;
  readonly neutral: number;
}

export interface DiffResult {
  readonly changes: readonly Change[];
  readonly summary: DiffSummary;
}

export function summarizeDiff(changes: readonly Change[]): DiffSummary {
  const n = (e: Effect): number => changes.filter((c) => c.effect === e).length;
  return { changes: changes.length, widens: n('widens'), narrows: n('narrows'), review: n('review'), neutral: n('neutral') };
}

/** Does the diff give anyone access (for `--fail-on widening`)? `review` counts unless allowed. */
export function widens(changes: readonly Change[], allowReview: boolean): boolean {
  return changes.some((c) => c.effect === 'widens' || (c.effect === 'review' && !allowReview));
}

const RANK: Record<TableStatus, number> = { absent: 0, denied: 0, empty: 1, readable: 2 };

const list = (names: Iterable<string>): string => [...names].sort().join(', ');

function describeRows(a: TableAccess): string {
  return a.rows.size === 0 ? 'all rows' : `rows where ${[...a.rows.values()].map((c) => (a.rows.size > 1 ? `(${c.text})` : c.text)).join(' AND ')}`;
}

function describeColumns(a: TableAccess): string {
  if (a.allow === 'all') return a.deny.size === 0 ? 'all columns' : `all columns except ${list(a.deny)}`;
  const shown = [...a.allow].filter((c) => !a.deny.has(c));
  return shown.length === 0 ? 'no columns' : `only columns ${list(shown)}`;
}

function describe(a: TableAccess, write: boolean): string {
  switch (a.status) {
    case 'absent':
      return 'not governed by the file (no access)';
    case 'denied':
      return 'denied (the table does not exist for them)';
    case 'empty':
      return 'no rows (no row_filter or column_allow reaches them in policy_required mode)';
    case 'readable': {
      const masks = [...a.masks].sort(([x], [y]) => x.localeCompare(y)).map(([c, m]) => `${c} masked as ${m.text}`);
      return `${write ? 'readable and writable' : 'readable'}: ${describeRows(a)}, ${describeColumns(a)}${masks.length > 0 ? `; ${masks.join('; ')}` : ''}`;
    }
  }
}

type Visible = { kind: 'except'; except: Set<string> } | { kind: 'only'; cols: Set<string> };

function visibleSet(a: TableAccess): Visible {
  return a.allow === 'all' ? { kind: 'except', except: new Set(a.deny) } : { kind: 'only', cols: new Set([...a.allow].filter((c) => !a.deny.has(c))) };
}

const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

/** What changes in rows, columns and masks between two readable states of one table. */
function compareReadable(before: TableAccess, after: TableAccess, push: (aspect: Aspect, effect: Effect, detail: string) => void): void {
  // Rows.
  const o = new Set(before.rows.keys());
  const n = new Set(after.rows.keys());
  const added = [...n].filter((k) => !o.has(k));
  const removed = [...o].filter((k) => !n.has(k));
  const texts = (keys: string[], from: TableAccess): string => keys.map((k) => from.rows.get(k)?.text ?? '').join(' AND ');
  if (added.length > 0 && removed.length === 0) push('rows', 'narrows', `row filter added: ${texts(added, after)}`);
  else if (removed.length > 0 && added.length === 0) {
    push('rows', 'widens', `row filter removed: ${texts(removed, before)}${n.size === 0 ? ' (now every row)' : ''}`);
  } else if (added.length > 0) {
    push('rows', 'review', `row filter changed: ${texts(removed, before)} -> ${texts(added, after)} (who gains or loses rows depends on the data)`);
  }

  // Columns.
  const vo = visibleSet(before);
  const vn = visibleSet(after);
  const maskedNote = (c: string): string => (after.masks.has(c) ? ` (masked as ${after.masks.get(c)?.text})` : '');
  const gained = (cols: string[]): string => cols.map((c) => c + maskedNote(c)).join(', ');
  if (vo.kind === 'except' && vn.kind === 'except') {
    const g = minus(vo.except, vn.except);
    const l = minus(vn.except, vo.except);
    if (g.length > 0) push('columns', 'widens', `columns now visible: ${gained(g)}`);
    if (l.length > 0) push('columns', 'narrows', `columns now hidden: ${l.join(', ')}`);
  } else if (vo.kind === 'only' && vn.kind === 'only') {
    const g = minus(vn.cols, vo.cols);
    const l = minus(vo.cols, vn.cols);
    if (g.length > 0) push('columns', 'widens', `columns now visible: ${gained(g)}`);
    if (l.length > 0) push('columns', 'narrows', `columns now hidden: ${l.join(', ')}`);
  } else if (vo.kind === 'except' && vn.kind === 'only') {
    const g = [...vn.cols].filter((c) => vo.except.has(c)).sort();
    if (g.length > 0) push('columns', 'widens', `columns now visible: ${gained(g)}`);
    push('columns', 'narrows', `only columns ${list(vn.cols) || '(none)'} remain visible (was ${describeColumns(before)})`);
  } else if (vo.kind === 'only' && vn.kind === 'except') {
    push('columns', 'widens', `every column${vn.except.size > 0 ? ` except ${list(vn.except)}` : ''} is now visible (was only ${list(vo.cols) || '(none)'})`);
    const l = [...vo.cols].filter((c) => vn.except.has(c)).sort();
    if (l.length > 0) push('columns', 'narrows', `columns now hidden: ${l.join(', ')}`);
  }

  // Masks, on columns visible before and after.
  for (const c of [...new Set([...before.masks.keys(), ...after.masks.keys()])].sort()) {
    if (!isVisible(before, c) || !isVisible(after, c)) continue;
    const mo = before.masks.get(c);
    const mn = after.masks.get(c);
    if (mo && !mn) push('mask', 'widens', `mask on ${c} removed (was ${mo.text}): the column reads unmasked`);
    else if (!mo && mn) push('mask', 'narrows', `${c} now masked as ${mn.text}`);
    else if (mo && mn && mo.fingerprint !== mn.fingerprint) push('mask', 'review', `mask on ${c} changed: ${mo.text} -> ${mn.text}`);
  }
}

function compareTable(before: TableAccess, after: TableAccess, writeBefore: boolean, writeAfter: boolean, push: (aspect: Aspect, effect: Effect, detail: string) => void): void {
  if (before.status !== after.status) {
    const effect: Effect = RANK[after.status] > RANK[before.status] ? 'widens' : RANK[after.status] < RANK[before.status] ? 'narrows' : 'neutral';
    push('table', effect, `${describe(after, writeAfter)} (was ${describe(before, writeBefore)})`);
    return;
  }
  if (after.status === 'readable') compareReadable(before, after, push);
}

function passwordText(p: PasswordSource | undefined): string {
  if (!p) return 'none';
  return p.kind === 'env' ? `env ${p.variable}` : p.kind === 'scram' ? `scram ${p.verifier}` : `value ${p.value}`;
}

function attributesText(p: UserDef): Map<string, string> {
  return new Map(p.attributes.map((a) => [a.name, JSON.stringify(a.value)] as const));
}

function contextText(p: AppDef): Map<string, string> {
  return new Map(p.context.map((c) => [c.attribute, `${c.setting} (${c.type})`] as const));
}

function compareMaps(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const o = before.get(k);
    const n = after.get(k);
    if (o === n) continue;
    out.push(o === undefined ? `${k} added (${n})` : n === undefined ? `${k} removed (was ${o})` : `${k}: ${o} -> ${n}`);
  }
  return out;
}

/** Principal-level changes of a user or app present in both files. */
function comparePrincipal(before: Principal, after: Principal, push: (aspect: Aspect, effect: Effect, detail: string) => void): void {
  if (before.access !== after.access) {
    push('access', after.access === 'readwrite' ? 'widens' : 'narrows', `access ${before.access} -> ${after.access}${after.access === 'readwrite' ? ': may now insert, update and delete the rows it reads' : ''}`);
  }
  if (before.kind === 'user' && after.kind === 'user') {
    const t0 = before.tenant?.name;
    const t1 = after.tenant?.name;
    if (t0 !== t1) push('tenant', 'review', `tenant ${t0 ?? '(none)'} -> ${t1 ?? '(none)'}: the rows behind {user.tenant} change`);
    const attrs = compareMaps(attributesText(before), attributesText(after));
    if (attrs.length > 0) push('attributes', 'review', `attributes changed: ${attrs.join('; ')} (rows and masks that read them change)`);
    const r0 = new Set(before.roles.map((r) => r.name));
    const r1 = new Set(after.roles.map((r) => r.name));
    const joined = minus(r1, r0);
    const left = minus(r0, r1);
    if (joined.length + left.length > 0) {
      push('roles', 'neutral', [joined.length > 0 ? `joins ${joined.join(', ')}` : '', left.length > 0 ? `leaves ${left.join(', ')}` : ''].filter(Boolean).join('; ') + ' (what that changes per table is listed separately)');
    }
  }
  if (before.kind === 'app' && after.kind === 'app') {
    const ctx = compareMaps(contextText(before), contextText(after));
    if (ctx.length > 0) push('context', 'review', `context changed: ${ctx.join('; ')}`);
  }
  if ((before.connectionLimit ?? -1) !== (after.connectionLimit ?? -1)) {
    push('connection_limit', 'neutral', `connection limit ${before.connectionLimit ?? 'none'} -> ${after.connectionLimit ?? 'none'}`);
  }
  if (passwordText(before.password) !== passwordText(after.password)) {
    const how = (p: PasswordSource | undefined): string => (!p ? 'none' : p.kind === 'env' ? `env ${p.variable}` : p.kind);
    push('password', 'neutral', `password changed (${how(before.password)} -> ${how(after.password)})`);
  }
}

/** Compare two valid policy models. */
export function diffPolicies(before: PolicyModel, after: PolicyModel): DiffResult {
  const changes: Change[] = [];
  const keys = tableKeys([before, after]);

  // The file as a whole.
  const file = (aspect: Aspect, effect: Effect, detail: string): void => void changes.push({ subject: 'file', aspect, effect, detail });
  if (before.mode !== after.mode) {
    file(
      'mode',
      after.mode === 'open' ? 'widens' : 'narrows',
      after.mode === 'open'
        ? 'mode policy_required -> open: every governed table becomes readable by every user and app, also those no policy names'
        : 'mode open -> policy_required: a table no row_filter or column_allow reaches returns no rows',
    );
  }
  const s0 = new Set(before.schemas.map((s) => s.name));
  const s1 = new Set(after.schemas.map((s) => s.name));
  for (const s of minus(s1, s0)) {
    file('schemas', after.mode === 'open' ? 'widens' : 'neutral', `schema ${s} is now governed${after.mode === 'open' ? ' (open mode: its tables become readable by everyone)' : ''}`);
  }
  for (const s of minus(s0, s1)) file('schemas', 'narrows', `schema ${s} is no longer governed: its persona views go away`);

  // Users and apps.
  const byKey = (m: PolicyModel): Map<string, Principal> => new Map([...m.users, ...m.apps].map((p) => [`${p.kind} ${p.name}`, p] as const));
  const p0 = byKey(before);
  const p1 = byKey(after);
  const subjects = [...new Set([...p0.keys(), ...p1.keys()])].sort((a, b) => a.localeCompare(b));
  for (const subject of subjects) {
    const o = p0.get(subject);
    const n = p1.get(subject);
    const push = (table: TableKey | undefined) => (aspect: Aspect, effect: Effect, detail: string): void =>
      void changes.push({ subject, ...(table ? { table: tableKeyText(table) } : {}), aspect, effect, detail });
    if (!o) push(undefined)('principal', 'widens', `new ${n?.kind} (a LOGIN role)`);
    else if (!n) push(undefined)('principal', 'narrows', `${o.kind} removed: reads nothing any more (apply --prune drops the login)`);
    else comparePrincipal(o, n, push(undefined));
    const a0 = o ? assignmentsOf(before, o) : [];
    const a1 = n ? assignmentsOf(after, n) : [];
    for (const key of keys) {
      const t0 = o ? tableAccess(before, a0, key) : NO_ACCESS('absent');
      const t1 = n ? tableAccess(after, a1, key) : NO_ACCESS('absent');
      compareTable(t0, t1, o?.access === 'readwrite', n?.access === 'readwrite', push(key));
    }
  }

  // Roles: what a member of the role (and of no other) gains or loses beyond what `to: all` changes for everyone.
  const baseline = new Set<string>();
  const everyone = roleMember(undefined);
  const e0 = assignmentsOf(before, everyone);
  const e1 = assignmentsOf(after, everyone);
  for (const key of keys) {
    compareTable(tableAccess(before, e0, key), tableAccess(after, e1, key), false, false, (aspect, effect, detail) => baseline.add([tableKeyText(key), aspect, effect, detail].join('\u0000')));
  }
  const roles = [...new Set([...before.roles, ...after.roles].map((r) => r.name))].sort();
  for (const role of roles) {
    const subject = `role ${role}`;
    const inBefore = before.roles.some((r) => r.name === role);
    const inAfter = after.roles.some((r) => r.name === role);
    if (!inBefore) changes.push({ subject, aspect: 'principal', effect: 'neutral', detail: 'new group role (NOLOGIN; its members get what is assigned to it)' });
    if (!inAfter) changes.push({ subject, aspect: 'principal', effect: 'neutral', detail: 'group role removed' });
    const member = roleMember(role);
    const r0 = inBefore ? assignmentsOf(before, member) : e0;
    const r1 = inAfter ? assignmentsOf(after, member) : e1;
    for (const key of keys) {
      compareTable(tableAccess(before, r0, key), tableAccess(after, r1, key), false, false, (aspect, effect, detail) => {
        if (!baseline.has([tableKeyText(key), aspect, effect, detail].join('\u0000'))) changes.push({ subject, table: tableKeyText(key), aspect, effect, detail });
      });
    }
  }
  return { changes, summary: summarizeDiff(changes) };
}
