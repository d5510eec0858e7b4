// The lint checks: each a small pure function over the CatalogState and the lint facts, returning findings.
// docs/lint.md describes every check (what, why, fix); keep both in step.
import type { CatalogPolicy, CatalogRole, CatalogState, CatalogTable } from '../catalog/types.js';
import { PERSONA_SCHEMA_PREFIX } from '../catalog/read.js';
import { MANAGED_MARKER } from '../compile/types.js';
import { cvesFor, splitVersion } from './cve.js';
import { alwaysTrue, filterColumns, parseExpression, unwrappedLookups, type FilterColumn } from './expr.js';
import { LEVEL_ORDER, type Finding, type LintInput } from './types.js';

const q = (schema: string, name: string): string => `${schema}.${name}`;
const COMMANDS: Readonly<Record<CatalogPolicy['command'], string>> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };

const edge = (member: string, role: string): string => `${member}\u0000${role}`;
const adminOnly = (input: LintInput): Set<string> => new Set((input.facts.adminOnlyMemberships ?? []).map((m) => edge(m.member, m.role)));

/**
 * Roles reachable from `name` through memberships (SET ROLE targets and inherited privileges), `name` included.
 * `skip`: memberships (member NUL role) that give neither SET nor INHERIT.
 */
export function reachableRoles(catalog: CatalogState, name: string, skip: ReadonlySet<string> = new Set()): Set<string> {
  const byName = new Map(catalog.roles.map((r) => [r.name, r] as const));
  const seen = new Set<string>([name]);
  const stack = [name];
  while (stack.length > 0) {
    const m = stack.pop() as string;
    for (const g of byName.get(m)?.memberOf ?? []) if (!seen.has(g) && !skip.has(edge(m, g))) (seen.add(g), stack.push(g));
  }
  return seen;
}

/**
 * Data-plane roles: the logins in tenantctl.principals, the users and apps of the policy file (--policies), and the
 * members of the reader role of every persona schema of this database (tenantctl_*, comment 'managed by tenantctl').
 */
export function dataPlaneRoles(input: LintInput): string[] {
  const { catalog } = input;
  const names = new Set<string>(catalog.runtime?.principals.map((p) => p.role) ?? []);
  for (const p of input.file?.principals ?? []) names.add(p);
  const readers = new Set(
    catalog.schemas.filter((s) => s.name.startsWith(PERSONA_SCHEMA_PREFIX) && (s.comment ?? '').startsWith(MANAGED_MARKER)).map((s) => `${s.name}_reader`),
  );
  const skip = adminOnly(input);
  for (const r of catalog.roles) if (r.memberOf.some((g) => readers.has(g) && !skip.has(edge(r.name, g)))) names.add(r.name);
  return [...names].filter((n) => catalog.roles.some((r) => r.name === n)).sort();
}

/** Every role a data-plane role is or can become, plus `public`. */
function dataPlaneReach(input: LintInput): Set<string> {
  const reach = new Set<string>(['public']);
  for (const d of dataPlaneRoles(input)) for (const r of reachableRoles(input.catalog, d, adminOnly(input))) reach.add(r);
  return reach;
}

const governed = (input: LintInput, schema: string): boolean => input.facts.governedSchemas.includes(schema);
const governedTables = (input: LintInput): CatalogTable[] =>
  input.catalog.tables.filter((t) => (t.kind === 'r' || t.kind === 'p') && t.partitionOf === undefined && governed(input, t.schema));
const policiesOn = (input: LintInput, t: { schema: string; name: string }): CatalogPolicy[] =>
  input.catalog.policies.filter((p) => p.schema === t.schema && p.table === t.name);

// ---- row security on governed tables -------------------------------------------------------------------------

export function checkRowSecurity(input: LintInput): Finding[] {
  const out: Finding[] = [];
  for (const t of governedTables(input)) {
    const name = q(t.schema, t.name);
    const policies = policiesOn(input, t);
    if (!t.rlsEnabled && policies.length > 0) {
      out.push({
        level: 'error',
        check: 'policy-rls-off',
        object: name,
        why: `${policies.length === 1 ? 'policy' : 'policies'} ${policies.map((p) => p.name).join(', ')} exist but row security is disabled on the table, so they filter nothing: every role with SELECT reads every row`,
        fix: `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY; ALTER TABLE ${name} FORCE ROW LEVEL SECURITY;`,
      });
    } else if (!t.rlsEnabled) {
      out.push({
        level: 'error',
        check: 'rls-disabled',
        object: name,
        why: 'a table in a governed schema without row security: every role with SELECT on it reads every tenant\'s rows',
        fix: `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY; ALTER TABLE ${name} FORCE ROW LEVEL SECURITY; (or list it in the policy file and run tenantctl apply)`,
      });
    } else if (!t.rlsForced) {
      out.push({
        level: 'error',
        check: 'rls-not-forced',
        object: name,
        why: `row security is enabled but not forced: the table's owner (${t.owner}) and every role that inherits its privileges bypass every policy`,
        fix: `ALTER TABLE ${name} FORCE ROW LEVEL SECURITY;`,
      });
    }
    if (t.rlsEnabled && policies.length === 0) {
      out.push({
        level: 'info',
        check: 'rls-no-policy',
        object: name,
        why: 'row security is enabled and no policy exists, so every role but a superuser or BYPASSRLS role sees zero rows (PostgreSQL\'s default deny); safe, but nobody can use the table',
        fix: 'if users should read it, target it with a row_filter or column_allow policy in the policy file and run tenantctl apply',
      });
    }
  }
  return out;
}

export function checkPartitions(input: LintInput): Finding[] {
  return input.catalog.tables
    .filter((t) => t.partitionOf !== undefined && (t.kind === 'r' || t.kind === 'p') && !(t.rlsEnabled && t.rlsForced))
    .filter((t) => governed(input, t.schema) || governed(input, t.partitionOf?.schema ?? ''))
    .map((t) => {
      const name = q(t.schema, t.name);
      const parent = t.partitionOf as { schema: string; name: string };
      return {
        level: 'error' as const,
        check: 'partition-unprotected',
        object: name,
        why: `a partition of ${q(parent.schema, parent.name)} with row security ${t.rlsEnabled ? 'not forced' : 'disabled'}: the parent's policies do not apply when the partition is queried by name`,
        fix: `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY; ALTER TABLE ${name} FORCE ROW LEVEL SECURITY; (tenantctl apply does this for every partition of a governed table)`,
      };
    });
}

export function checkUnprotectedKinds(input: LintInput): Finding[] {
  const out: Finding[] = [];
  for (const t of input.catalog.tables) {
    if (!governed(input, t.schema)) continue;
    const name = q(t.schema, t.name);
    if (t.kind === 'm') {
      out.push({
        level: 'warning',
        check: 'materialized-view',
        object: name,
        why: 'a materialized view in a governed schema: row security does not apply to materialized views, so whoever may SELECT it reads every row it stored',
        fix: `keep it out of the governed schemas (or drop it) and grant it to no data-plane role; expose tenant data through views over the governed tables instead`,
      });
    } else if (t.kind === 'f') {
      out.push({
        level: 'warning',
        check: 'foreign-table',
        object: name,
        why: 'a foreign table in a governed schema: its rows live on another server, outside the row-security policies and tenant registry this database enforces',
        fix: 'move it out of the governed schemas, or copy the data into a governed table; never grant it to data-plane roles',
      });
    }
  }
  return out;
}

// ---- policy expressions ----------------------------------------------------------------------------------------

export function checkAlwaysTrue(input: LintInput): Finding[] {
  const reach = dataPlaneReach(input);
  const managedOwner = (r: string): boolean =>
    r.startsWith(PERSONA_SCHEMA_PREFIX) && r.endsWith('_owner') && (input.catalog.roles.find((x) => x.name === r)?.comment ?? '').startsWith(MANAGED_MARKER);
  const out: Finding[] = [];
  for (const p of input.catalog.policies) {
    if (!governed(input, p.schema) || !p.permissive) continue;
    const clauses = [
      ['USING', p.using],
      ['WITH CHECK', p.withCheck],
    ].filter(([, text]) => text !== undefined && alwaysTrue(parseExpression(text as string)));
    if (clauses.length === 0) continue;
    const exposed = p.roles.some((r) => reach.has(r) || managedOwner(r));
    out.push({
      level: exposed ? 'error' : 'warning',
      check: 'policy-always-true',
      object: `${q(p.schema, p.table)} policy ${p.name}`,
      why: `${clauses.map(([c, text]) => `${c} (${text})`).join(' and ')} holds for every row: the policy (permissive, ${COMMANDS[p.command]}, to ${p.roles.join(', ')}) lets its roles ${p.command === 'a' ? 'insert any row' : 'read and change every tenant\'s rows'}${exposed ? ', and data-plane users are among them' : ''}`,
      fix: `ALTER POLICY ${p.name} ON ${q(p.schema, p.table)} USING (<a tenant predicate>), or DROP POLICY ${p.name} ON ${q(p.schema, p.table)}; a role that must read everything should not be a data-plane role`,
    });
  }
  return out;
}

export function checkUnwrappedLookups(input: LintInput): Finding[] {
  const out: Finding[] = [];
  for (const p of input.catalog.policies) {
    if (!governed(input, p.schema)) continue;
    const calls = new Set<string>();
    for (const text of [p.using, p.withCheck]) if (text !== undefined) for (const c of unwrappedLookups(parseExpression(text))) calls.add(c);
    if (calls.size === 0) continue;
    const list = [...calls].sort();
    out.push({
      level: 'warning',
      check: 'lookup-not-wrapped',
      object: `${q(p.schema, p.table)} policy ${p.name}`,
      why: `${list.join(', ')} ${list.length === 1 ? 'is' : 'are'} called outside a (SELECT ...) sub-select, so PostgreSQL calls ${list.length === 1 ? 'it' : 'them'} once per row instead of once per statement, and an index on the compared column cannot be used (100x-10,000x slower on large tables)`,
      fix: `wrap each call in a sub-select: ${list[0]}(...) -> (SELECT ${list[0]}(...)); tenantctl compiles {user.X} templates that way`,
    });
  }
  return out;
}

export function checkFilterIndexes(input: LintInput): Finding[] {
  const indexed = new Set(input.facts.indexes.filter((i) => i.leading !== undefined).map((i) => `${q(i.schema, i.table)}\u0000${i.leading}`));
  const known = new Set(input.facts.indexes.map((i) => q(i.schema, i.table)));
  const tables = new Set(input.catalog.tables.filter((t) => governed(input, t.schema) && (t.kind === 'r' || t.kind === 'p')).map((t) => q(t.schema, t.name)));
  const missing = new Map<string, FilterColumn & { policy: string }>();
  for (const p of input.catalog.policies) {
    if (!governed(input, p.schema)) continue;
    const columns: FilterColumn[] = [];
    for (const text of [p.using, p.withCheck]) {
      if (text === undefined) continue;
      for (const c of filterColumns(parseExpression(text), { schema: p.schema, name: p.table })) {
        if (!columns.some((x) => x.schema === c.schema && x.name === c.name && x.column === c.column)) columns.push(c);
      }
    }
    // Per table of this policy: one index leading with any of its filter columns is enough (e.g. (org, region)).
    const byTable = new Map<string, FilterColumn[]>();
    for (const c of columns) byTable.set(q(c.schema, c.name), [...(byTable.get(q(c.schema, c.name)) ?? []), c]);
    for (const [table, cols] of byTable) {
      if (!tables.has(table) && !known.has(table)) continue;
      if (cols.some((c) => indexed.has(`${table}\u0000${c.column}`))) continue;
      for (const c of cols) {
        const key = `${table}\u0000${c.column}`;
        if (!missing.has(key)) missing.set(key, { ...c, policy: `${q(p.schema, p.table)} policy ${p.name}` });
      }
    }
  }
  return [...missing.values()].map((c) => ({
    level: 'warning' as const,
    check: 'filter-column-unindexed',
    object: `${q(c.schema, c.name)}.${c.column}`,
    why: `the row filter of ${c.policy} compares ${c.column} with the user's tenant or attribute, and no index of ${q(c.schema, c.name)} leads with ${c.column}: every query reads the whole table before the filter applies`,
    fix: `CREATE INDEX CONCURRENTLY ON ${q(c.schema, c.name)} (${c.column}, ...); lead with the filter column, then the usual sort key (e.g. (${c.column}, created_at))`,
  }));
}

export function checkPermissiveOverlap(input: LintInput): Finding[] {
  const out: Finding[] = [];
  const tables = new Map<string, CatalogPolicy[]>();
  for (const p of input.catalog.policies) {
    if (!governed(input, p.schema) || !p.permissive) continue;
    tables.set(q(p.schema, p.table), [...(tables.get(q(p.schema, p.table)) ?? []), p]);
  }
  for (const [table, policies] of tables) {
    const roles = new Set(policies.flatMap((p) => p.roles));
    for (const cmd of ['r', 'a', 'w', 'd'] as const) {
      for (const role of [...roles].sort()) {
        const hits = policies.filter((p) => (p.command === cmd || p.command === '*') && (p.roles.includes(role) || p.roles.includes('public')));
        if (role === 'public' ? hits.filter((p) => p.roles.includes('public')).length < 2 : hits.length < 2) continue;
        const names = hits.map((p) => p.name).sort();
        out.push({
          level: 'warning',
          check: 'permissive-overlap',
          object: `${table} ${COMMANDS[cmd]} to ${role}`,
          why: `${names.length} permissive policies (${names.join(', ')}) apply to ${role} for ${COMMANDS[cmd]}: PostgreSQL ORs permissive policies, so the role gets the union of their rows, and each one is evaluated on every query`,
          fix: `merge them into one policy per role and command, or make the narrowing ones AS RESTRICTIVE`,
        });
      }
    }
  }
  return out;
}

// ---- roles -----------------------------------------------------------------------------------------------------

export function checkDataPlaneRoles(input: LintInput): Finding[] {
  const { catalog } = input;
  const byName = new Map<string, CatalogRole>(catalog.roles.map((r) => [r.name, r] as const));
  const tableOwners = new Set(
    catalog.tables.filter((t) => (t.kind === 'r' || t.kind === 'p') && (governed(input, t.schema) || governed(input, t.partitionOf?.schema ?? ''))).map((t) => t.owner),
  );
  const viewOwners = new Set(catalog.views.map((v) => v.owner));
  const out: Finding[] = [];
  const via = (d: string, r: string): string => (r === d ? '' : ` through its membership in ${r}`);
  for (const d of dataPlaneRoles(input)) {
    const reach = [...reachableRoles(catalog, d, adminOnly(input))].sort((a, b) => (a === d ? -1 : b === d ? 1 : a.localeCompare(b)));
    const su = reach.find((r) => byName.get(r)?.superuser);
    if (su !== undefined) {
      out.push({
        level: 'error',
        check: 'dataplane-superuser',
        object: d,
        why: `data-plane role ${d} is ${su === d ? 'a superuser' : `able to SET ROLE ${su}, a superuser`}: superusers bypass row security, grants and every view`,
        fix: su === d ? `ALTER ROLE ${d} NOSUPERUSER;` : `REVOKE ${su} FROM ${d};`,
      });
    }
    const bypass = reach.find((r) => byName.get(r)?.bypassRls && !byName.get(r)?.superuser);
    if (bypass !== undefined) {
      out.push({
        level: 'error',
        check: 'dataplane-bypassrls',
        object: d,
        why: `data-plane role ${d} ${bypass === d ? 'has BYPASSRLS' : `can SET ROLE ${bypass}, which has BYPASSRLS`}: row-security policies do not apply to it, it reads every tenant's rows`,
        fix: bypass === d ? `ALTER ROLE ${d} NOBYPASSRLS;` : `REVOKE ${bypass} FROM ${d};`,
      });
    }
    const owner = reach.find((r) => tableOwners.has(r));
    if (owner !== undefined) {
      const owned = catalog.tables.filter((t) => t.owner === owner && tableOwners.has(t.owner) && governed(input, t.schema)).map((t) => q(t.schema, t.name));
      out.push({
        level: 'error',
        check: 'dataplane-table-owner',
        object: d,
        why: `data-plane role ${d} owns governed tables${via(d, owner)} (${owner} owns ${owned.slice(0, 3).join(', ')}${owned.length > 3 ? ', ...' : ''}): an owner can disable row security, drop policies, and bypasses them unless FORCE is set`,
        fix: owner === d ? `ALTER TABLE ... OWNER TO <an operator role>; for each table ${d} owns` : `REVOKE ${owner} FROM ${d};`,
      });
    }
    const vo = reach.find((r) => r !== d && viewOwners.has(r)) ?? (viewOwners.has(d) ? d : undefined);
    if (vo !== undefined) {
      out.push({
        level: 'error',
        check: 'dataplane-view-owner',
        object: d,
        why: `data-plane role ${d} ${vo === d ? 'owns views' : `can SET ROLE ${vo}, the owner of views`} in the governed or persona schemas: as the view owner it holds the column grants behind the views (masked columns unmasked) and can redefine them`,
        fix: vo === d ? `ALTER VIEW ... OWNER TO <a NOLOGIN owner role>;` : `REVOKE ${vo} FROM ${d};`,
      });
    }
  }
  return out;
}

export function checkViewOwners(input: LintInput): Finding[] {
  const { catalog } = input;
  const reach = dataPlaneReach(input);
  const byName = new Map(catalog.roles.map((r) => [r.name, r] as const));
  const tableOwners = new Set(catalog.tables.filter((t) => (t.kind === 'r' || t.kind === 'p') && governed(input, t.schema)).map((t) => t.owner));
  const out: Finding[] = [];
  for (const v of catalog.views) {
    if (v.options.some((o) => o.toLowerCase() === 'security_invoker=true' || o.toLowerCase() === 'security_invoker=on')) continue;
    const readers = [
      ...new Set(
        catalog.grants
          .filter(
            (g) =>
              g.schema === v.schema &&
              g.name === v.name &&
              (g.objectKind === 'table' || g.objectKind === 'column') &&
              reach.has(g.grantee) &&
              // SELECT on the view, or on one of its columns at least.
              g.privileges.some((p) => p.privilege === 'SELECT' && (g.objectKind === 'table' || (p.columns?.length ?? 0) > 0)),
          )
          .map((g) => g.grantee),
      ),
    ].sort();
    if (readers.length === 0) continue;
    const owner = byName.get(v.owner);
    const what = owner?.superuser ? 'a superuser' : owner?.bypassRls ? 'a BYPASSRLS role' : tableOwners.has(v.owner) ? 'the owner of governed tables' : undefined;
    if (what === undefined) continue;
    out.push({
      level: 'error',
      check: 'view-owner-bypasses-rls',
      object: q(v.schema, v.name),
      why: `the view is readable by ${readers.join(', ')} and owned by ${v.owner}, ${what}: a view reads its tables with its owner's rights, so row security ${what === 'the owner of governed tables' ? 'does not filter it unless FORCE is set on every table it reads' : 'does not filter it'}`,
      fix: `ALTER VIEW ${q(v.schema, v.name)} OWNER TO <a NOLOGIN role that owns no table>, or ALTER VIEW ${q(v.schema, v.name)} SET (security_invoker = true)`,
    });
  }
  return out;
}

// ---- privileges on schemas, the database and functions --------------------------------------------------------

export function checkPublicPrivileges(input: LintInput): Finding[] {
  const out: Finding[] = [];
  for (const s of input.facts.schemaAcls) {
    if (!s.privileges.includes('public:CREATE')) continue;
    out.push({
      level: 'error',
      check: 'public-create',
      object: `schema ${s.schema}`,
      why: 'PUBLIC may CREATE in this schema: every login, data-plane users included, can create tables, views and functions there, and shadow or trojan objects that the owner or an application later runs',
      fix: `REVOKE CREATE ON SCHEMA ${s.schema} FROM PUBLIC;`,
    });
  }
  const db = input.catalog.database;
  const file = input.file;
  if (input.facts.databasePublic.includes('CONNECT')) {
    out.push({
      level: file ? 'warning' : 'info',
      check: 'public-connect',
      object: `database ${db}`,
      why: file
        ? `PUBLIC may CONNECT (PostgreSQL's default): ${file.path} lists ${file.principals.length} data-plane login${file.principals.length === 1 ? '' : 's'}, but every role of the cluster, including the data-plane logins of other databases, can connect to this one`
        : "PUBLIC may CONNECT (PostgreSQL's default): every role of the cluster, including the data-plane logins of other databases (roles are cluster-wide), can connect to this database",
      fix: `REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC; GRANT CONNECT ON DATABASE ${db} TO <the operator and each persona reader role>;`,
    });
  }
  if (input.facts.databasePublic.includes('TEMPORARY')) {
    const readOnly = file?.readOnly === true;
    out.push({
      level: readOnly ? 'warning' : 'info',
      check: 'public-temp',
      object: `database ${db}`,
      why: readOnly
        ? `PUBLIC may create temporary tables (PostgreSQL's default), while ${file?.path} gives every principal read access only: read-only users can still write temporary tables and functions in pg_temp`
        : "PUBLIC may create temporary tables (PostgreSQL's default): data-plane users can write temporary tables and functions in pg_temp, which shadow unqualified table names for code that does not pin search_path",
      fix: `REVOKE TEMPORARY ON DATABASE ${db} FROM PUBLIC; (grant it back to the roles that need it)`,
    });
  }
  return out;
}

export function checkSecurityDefiner(input: LintInput): Finding[] {
  const reach = dataPlaneReach(input);
  const acl = new Map(input.facts.schemaAcls.map((s) => [s.schema, s] as const));
  const out: Finding[] = [];
  for (const f of input.facts.securityDefinerFunctions) {
    const s = acl.get(f.schema);
    const schemaUsable = s !== undefined && (reach.has(s.owner) || s.privileges.some((p) => p.endsWith(':USAGE') && reach.has(p.slice(0, p.lastIndexOf(':')))));
    const executors = f.executors.filter((e) => reach.has(e));
    if (!schemaUsable || (executors.length === 0 && !reach.has(f.owner))) continue;
    const signature = `${q(f.schema, f.name)}(${f.args})`;
    const path = f.config.find((c) => c.startsWith('search_path='));
    const who = executors.length > 0 ? executors.join(', ') : f.owner;
    if (path === undefined) {
      out.push({
        level: 'error',
        check: 'security-definer-search-path',
        object: signature,
        why: `a SECURITY DEFINER function (runs as ${f.owner}) without a pinned search_path, executable by ${who}: a caller can put objects of its own first on the search_path (e.g. in pg_temp) and run them with ${f.owner}'s rights`,
        fix: `ALTER FUNCTION ${signature} SET search_path = pg_catalog, pg_temp; (and schema-qualify every name in its body)`,
      });
    } else if (!/(^|[\s,=])"?pg_temp"?\s*$/.test(path)) {
      out.push({
        level: 'warning',
        check: 'security-definer-pg-temp',
        object: signature,
        why: `a SECURITY DEFINER function executable by ${who} pins ${path} without pg_temp last: PostgreSQL then searches pg_temp first for tables and views, so a caller's temporary table shadows the ones the function reads`,
        fix: `ALTER FUNCTION ${signature} SET ${path.replace(/^search_path=/, 'search_path = ')}, pg_temp;`,
      });
    }
  }
  return out;
}

// ---- server version ----------------------------------------------------------------------------------------------

export function checkServerVersion(input: LintInput): Finding[] {
  const hits = cvesFor(input.catalog.serverVersionNum);
  if (hits.length === 0) return [];
  const { major } = splitVersion(input.catalog.serverVersionNum);
  const fixes = [...new Set(hits.map((h) => h.fixedIn).filter((x): x is string => x !== undefined))].sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  const target = hits.some((h) => h.fixedIn === undefined) ? undefined : fixes[fixes.length - 1];
  return [
    {
      level: 'warning',
      check: 'server-version-cve',
      object: `server ${input.facts.serverVersion}`,
      why: `this minor release has known row-security vulnerabilities: ${hits.map((h) => `${h.cve.id} (${h.cve.title}${h.fixedIn ? `, fixed in ${h.fixedIn}` : ', no fix for this major'})`).join('; ')}`,
      fix: target !== undefined ? `upgrade to the latest ${major}.x minor release (at least ${target}); minor upgrades need no dump/restore` : `upgrade to a supported major version (PostgreSQL ${major} gets no more fixes)`,
    },
  ];
}

export const CHECKS: readonly ((input: LintInput) => Finding[])[] = [
  checkRowSecurity,
  checkPartitions,
  checkUnprotectedKinds,
  checkAlwaysTrue,
  checkUnwrappedLookups,
  checkFilterIndexes,
  checkPermissiveOverlap,
  checkDataPlaneRoles,
  checkViewOwners,
  checkPublicPrivileges,
  checkSecurityDefiner,
  checkServerVersion,
];

/** Every check, findings sorted by level, check and object. Call loadSqlParser() first. */
export function lint(input: LintInput): Finding[] {
  return CHECKS.flatMap((c) => c(input)).sort(
    (a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || a.check.localeCompare(b.check) || a.object.localeCompare(b.object),
  );
}
