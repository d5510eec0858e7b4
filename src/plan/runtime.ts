// Drift of tenantctl's own runtime schema. Every row policy calls its lookup functions, and they read its
// principals table: a hand change there (a lookup that returns true, a policy on principals that shows every
// row, a privilege to write it) changes what every login sees without touching a governed table. apply
// records the schema as it is right after it ran (RUNTIME_STATE_SQL, one JSON text); plan compares the schema
// now with that record, names what differs, and puts the record back: owners first (CREATE OR REPLACE needs
// the owner), then the recorded definitions (pg_get_functiondef is a complete CREATE OR REPLACE), privileges,
// row security, policies and triggers, so that the schema ends exactly as recorded (apply checks that it does).
// Objects the record does not hold are dropped in a late step. Only while the installed sql/runtime.sql is the
// one recorded: a new version's runtime differs from the record by design, and is installed again instead.
// Pure: the states come from the catalog, the statements are text.
import { grantee, ident, qualified } from '../pg/quote.js';

/** [grantee ('public' for PUBLIC), privilege, grantable], sorted: the privileges in effect (defaults included). */
export type RuntimeAcl = readonly (readonly [string, string, boolean])[];

export interface RuntimePolicy {
  readonly name: string;
  /** pg_policy.polcmd: r, a, w, d or *. */
  readonly command: string;
  readonly permissive: boolean;
  readonly roles: readonly string[];
  readonly using: string | null;
  readonly withCheck: string | null;
}

export interface RuntimeRelation {
  readonly name: string;
  /** pg_class.relkind: r, p, v, m, f or S. */
  readonly kind: string;
  readonly owner: string;
  readonly rls: boolean;
  readonly force: boolean;
  readonly acl: RuntimeAcl;
  /** Columns with an ACL of their own: [name, acl]. */
  readonly columns: readonly (readonly [string, RuntimeAcl])[];
  readonly policies: readonly RuntimePolicy[];
  /** [name, pg_get_triggerdef]. */
  readonly triggers: readonly (readonly [string, string])[];
}

export interface RuntimeFunction {
  readonly name: string;
  /** pg_get_function_identity_arguments. */
  readonly arguments: string;
  /** pg_proc.prokind: f, p, a or w. */
  readonly kind: string;
  readonly owner: string;
  readonly acl: RuntimeAcl;
  /** pg_get_functiondef (a complete CREATE OR REPLACE statement); null for aggregates and window functions. */
  readonly definition: string | null;
}

export interface RuntimeState {
  /** The server's major version (its deparser wrote the definitions): another one's text is not comparable. */
  readonly major?: number;
  readonly owner: string;
  readonly acl: RuntimeAcl;
  readonly relations: readonly RuntimeRelation[];
  readonly functions: readonly RuntimeFunction[];
}

const SCHEMA = 'tenantctl';

/**
 * The state, or undefined when the text is not one: the record of an apply by an earlier version (which held
 * the runtime's hash there) or of another shape. Such a record says nothing about drift.
 */
export function parseRuntimeState(text: string | undefined): RuntimeState | undefined {
  if (text === undefined || !text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as Partial<RuntimeState> | null;
  if (v === null || typeof v !== 'object' || typeof v.owner !== 'string' || !Array.isArray(v.relations) || !Array.isArray(v.functions)) return undefined;
  return v as RuntimeState;
}

export interface RuntimeDrift {
  /** What differs, as `function tenantctl.visible()`, `policy own_row on tenantctl.principals`, in a fixed order. */
  readonly changed: readonly string[];
  /** Before sql/runtime.sql: owners back to the recorded ones. */
  readonly before: readonly string[];
  /** After sql/runtime.sql: definitions, privileges, row security, policies and triggers back to the record. */
  readonly after: readonly string[];
  /** Relations and functions the record does not hold: one drop each, run after the policies that may use them. */
  readonly extras: readonly { readonly object: string; readonly sql: string }[];
  /** Recorded relations that are gone (tenantctl.converged; without principals or applied there is no record). */
  readonly gone: readonly string[];
}

const RELATION_WORD: Readonly<Record<string, string>> = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW', f: 'FOREIGN TABLE', S: 'SEQUENCE' };
const relationWord = (kind: string): string => RELATION_WORD[kind] ?? 'TABLE';
const POLICY_COMMAND: Readonly<Record<string, string>> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };
const functionSql = (f: Pick<RuntimeFunction, 'name' | 'arguments' | 'kind'>): string =>
  `${f.kind === 'p' ? 'PROCEDURE' : f.kind === 'a' ? 'AGGREGATE' : 'FUNCTION'} ${qualified(SCHEMA, f.name)}(${f.arguments})`;
const functionName = (f: Pick<RuntimeFunction, 'name' | 'arguments'>): string => `${SCHEMA}.${f.name}(${f.arguments})`;
const functionKey = (f: Pick<RuntimeFunction, 'name' | 'arguments'>): string => `${f.name}(${f.arguments})`;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
/** The privileges after ALTER ... OWNER TO `to`: PostgreSQL gives the old owner's entries to the new owner. */
function afterOwnerChange(acl: RuntimeAcl, from: string, to: string): RuntimeAcl {
  if (from === to) return acl;
  return acl.map((e) => (e[0] === from ? ([to, e[1], e[2]] as const) : e));
}
/** A new function's privileges (acldefault('f', owner)): its owner's and PUBLIC's EXECUTE. */
const defaultFunctionAcl = (owner: string): RuntimeAcl => [[owner, 'EXECUTE', false], ['public', 'EXECUTE', false]];

/** GRANT and REVOKE that turn the privileges `now` into `want` on `target` (`TABLE "tenantctl"."principals"`; `column` for one column's). */
function aclStatements(target: string, want: RuntimeAcl, now: RuntimeAcl, column?: string): string[] {
  const key = (e: readonly [string, string, boolean]): string => `${e[0]}\u0000${e[1]}`;
  const wantMap = new Map(want.map((e) => [key(e), e] as const));
  const nowMap = new Map(now.map((e) => [key(e), e] as const));
  const cols = column === undefined ? '' : ` (${ident(column)})`;
  const out: string[] = [];
  for (const [k, [who, privilege, grantable]] of nowMap) {
    const w = wantMap.get(k);
    if (!w) out.push(`REVOKE ${privilege}${cols} ON ${target} FROM ${grantee(who)} CASCADE`);
    else if (grantable && !w[2]) out.push(`REVOKE GRANT OPTION FOR ${privilege}${cols} ON ${target} FROM ${grantee(who)} CASCADE`);
  }
  for (const [k, [who, privilege, grantable]] of wantMap) {
    const n = nowMap.get(k);
    if (!n || (grantable && !n[2])) out.push(`GRANT ${privilege}${cols} ON ${target} TO ${grantee(who)}${grantable ? ' WITH GRANT OPTION' : ''}`);
  }
  return out;
}

function createPolicySql(table: string, p: RuntimePolicy): string {
  const roles = p.roles.length === 0 ? 'PUBLIC' : p.roles.map(grantee).join(', ');
  return (
    `CREATE POLICY ${ident(p.name)} ON ${qualified(SCHEMA, table)} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${POLICY_COMMAND[p.command] ?? 'ALL'} TO ${roles}` +
    `${p.using === null ? '' : ` USING (${p.using})`}${p.withCheck === null ? '' : ` WITH CHECK (${p.withCheck})`}`
  );
}

/** What differs between the recorded state and the state now, and the statements that put the record back. */
export function runtimeDrift(recorded: RuntimeState, now: RuntimeState): RuntimeDrift | undefined {
  const changed: string[] = [];
  const before: string[] = [];
  const after: string[] = [];
  const extras: { object: string; sql: string }[] = [];
  const gone: string[] = [];
  const schemaSql = ident(SCHEMA);

  if (recorded.owner !== now.owner) {
    changed.push(`owner of schema ${SCHEMA}`);
    before.push(`ALTER SCHEMA ${schemaSql} OWNER TO ${ident(recorded.owner)}`);
  }
  const schemaAcl = aclStatements(`SCHEMA ${schemaSql}`, recorded.acl, afterOwnerChange(now.acl, now.owner, recorded.owner));
  if (schemaAcl.length > 0) {
    changed.push(`privileges on schema ${SCHEMA}`);
    after.push(...schemaAcl);
  }

  // Functions first: the relations' policies may call them.
  const nowFunctions = new Map(now.functions.map((f) => [functionKey(f), f] as const));
  const recordedFunctions = new Map(recorded.functions.map((f) => [functionKey(f), f] as const));
  for (const want of recorded.functions) {
    const have = nowFunctions.get(functionKey(want));
    const name = `function ${functionName(want)}`;
    const target = functionSql(want);
    if (have === undefined || have.definition !== want.definition || have.kind !== want.kind) {
      changed.push(name);
      // A recorded definition is a complete CREATE OR REPLACE; an aggregate's is not kept (none of tenantctl's).
      if (want.definition !== null) {
        if (have !== undefined && have.kind !== want.kind) after.push(`DROP ${functionSql(have)}`);
        after.push(want.definition);
      }
      if (have === undefined) {
        // Created again by this apply's user: owner and privileges as recorded.
        after.push(`ALTER ${target} OWNER TO ${ident(want.owner)}`);
        after.push(...aclStatements(target, want.acl, defaultFunctionAcl(want.owner)));
        continue;
      }
    }
    if (have.owner !== want.owner) {
      if (!changed.includes(name)) changed.push(name);
      before.push(`ALTER ${target} OWNER TO ${ident(want.owner)}`);
    }
    const acl = aclStatements(target, want.acl, afterOwnerChange(have.acl, have.owner, want.owner));
    if (acl.length > 0) {
      changed.push(`privileges on function ${functionName(want)}`);
      after.push(...acl);
    }
  }
  for (const f of now.functions) {
    if (!recordedFunctions.has(functionKey(f))) extras.push({ object: `function ${functionName(f)}`, sql: `DROP ${functionSql(f)}` });
  }

  const nowRelations = new Map(now.relations.map((r) => [r.name, r] as const));
  const recordedRelations = new Set(recorded.relations.map((r) => r.name));
  for (const want of recorded.relations) {
    const have = nowRelations.get(want.name);
    const label = `${relationWord(want.kind).toLowerCase()} ${SCHEMA}.${want.name}`;
    // Gone: dropped by hand (runtime.sql creates it again; without principals or applied there is no record).
    if (have === undefined) {
      gone.push(label);
      continue;
    }
    const target = `${relationWord(want.kind) === 'SEQUENCE' ? 'SEQUENCE' : 'TABLE'} ${qualified(SCHEMA, want.name)}`;
    const alter = `ALTER ${relationWord(want.kind)} ${qualified(SCHEMA, want.name)}`;
    if (have.owner !== want.owner) {
      changed.push(`owner of ${label}`);
      before.push(`${alter} OWNER TO ${ident(want.owner)}`);
    }
    if (have.rls !== want.rls || have.force !== want.force) {
      changed.push(`row security on ${label}`);
      if (have.rls !== want.rls) after.push(`${alter} ${want.rls ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`);
      if (have.force !== want.force) after.push(`${alter} ${want.force ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`);
    }
    const acl = aclStatements(target, want.acl, afterOwnerChange(have.acl, have.owner, want.owner));
    const haveColumns = new Map(have.columns.map(([column, a]) => [column, afterOwnerChange(a, have.owner, want.owner)] as const));
    const wantColumns = new Map(want.columns);
    for (const column of new Set([...wantColumns.keys(), ...haveColumns.keys()])) {
      acl.push(...aclStatements(target, wantColumns.get(column) ?? [], haveColumns.get(column) ?? [], column));
    }
    if (acl.length > 0) {
      changed.push(`privileges on ${label}`);
      after.push(...acl);
    }
    const havePolicies = new Map(have.policies.map((p) => [p.name, p] as const));
    const wantPolicies = new Set(want.policies.map((p) => p.name));
    for (const p of have.policies) {
      if (wantPolicies.has(p.name)) continue;
      changed.push(`policy ${p.name} on ${SCHEMA}.${want.name}`);
      after.push(`DROP POLICY ${ident(p.name)} ON ${qualified(SCHEMA, want.name)}`);
    }
    for (const p of want.policies) {
      if (same(havePolicies.get(p.name), p)) continue;
      changed.push(`policy ${p.name} on ${SCHEMA}.${want.name}`);
      after.push(`DROP POLICY IF EXISTS ${ident(p.name)} ON ${qualified(SCHEMA, want.name)}`, createPolicySql(want.name, p));
    }
    const haveTriggers = new Map(have.triggers);
    const wantTriggers = new Map(want.triggers);
    for (const [name] of have.triggers) {
      if (wantTriggers.has(name)) continue;
      changed.push(`trigger ${name} on ${SCHEMA}.${want.name}`);
      after.push(`DROP TRIGGER ${ident(name)} ON ${qualified(SCHEMA, want.name)}`);
    }
    for (const [name, definition] of want.triggers) {
      if (haveTriggers.get(name) === definition) continue;
      changed.push(`trigger ${name} on ${SCHEMA}.${want.name}`);
      after.push(`DROP TRIGGER IF EXISTS ${ident(name)} ON ${qualified(SCHEMA, want.name)}`, definition);
    }
  }
  for (const r of now.relations) {
    if (!recordedRelations.has(r.name)) {
      extras.push({ object: `${relationWord(r.kind).toLowerCase()} ${SCHEMA}.${r.name}`, sql: `DROP ${relationWord(r.kind)} ${qualified(SCHEMA, r.name)}` });
    }
  }
  if (changed.length === 0 && extras.length === 0 && gone.length === 0) return undefined;
  return { changed, before, after, extras, gone };
}

/**
 * How the runtime now compares with the record: `same` (or nothing to compare with: no state, an earlier
 * version's record), `drift`, or `upgraded` when the record was made on another PostgreSQL major, whose
 * deparser may write the same definitions differently (pg_upgrade): then nothing can be called drift, and the
 * runtime is installed again to record it anew.
 */
export function compareRuntime(recorded: string, now: string | undefined): { kind: 'same' } | { kind: 'upgraded'; from: number; to: number } | { kind: 'drift'; drift: RuntimeDrift } {
  if (now === undefined || recorded === now) return { kind: 'same' };
  const r = parseRuntimeState(recorded);
  const n = parseRuntimeState(now);
  if (!r || !n) return { kind: 'same' };
  if (r.major !== n.major) return { kind: 'upgraded', from: r.major ?? 0, to: n.major ?? 0 };
  const drift = runtimeDrift(r, n);
  return drift ? { kind: 'drift', drift } : { kind: 'same' };
}

/** runtimeDrift of two renderings; undefined when there is nothing to call drift (see compareRuntime). */
export function runtimeDriftOf(recorded: string, now: string | undefined): RuntimeDrift | undefined {
  const c = compareRuntime(recorded, now);
  return c.kind === 'drift' ? c.drift : undefined;
}

/**
 * After an apply that kept sql/runtime.sql: the error when the runtime is not exactly as recorded (what still
 * differs), else undefined.
 */
export function runtimeNotRestored(recorded: string, now: string): string | undefined {
  const left = runtimeDriftOf(recorded, now);
  const what = [...(left?.changed ?? []), ...(left?.extras ?? []).map((e) => e.object)];
  if (what.length === 0) return undefined;
  return `tenantctl's runtime still differs from the last apply's record after the plan put it back: ${what.join(', ')}; nothing was applied`;
}
