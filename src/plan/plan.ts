// DesiredState vs CatalogState -> ordered steps. Pure. Nothing is emitted for what is already right; every
// step's statements are valid when they run (roles before grants, views after tables, drops last and in
// reverse dependency order), and the per-login steps come before the table-locking ones (see PHASE).
import { expandGrants } from '../catalog/grants.js';
import { RECORDED_SCHEMAS_KEY, type CatalogGrant, type CatalogGrantSet, type CatalogPolicy, type CatalogRole, type CatalogState, type CatalogView } from '../catalog/types.js';
import { MANAGED_MARKER, PERSONA_PREFIX, type DesiredRole, type DesiredState, type Persona, type TableName } from '../compile/types.js';
import { grantee, ident, literal, qualified } from '../pg/quote.js';
import { scramMatches, scramVerifier } from '../pg/scram.js';
import { PersonaGrants } from './grants.js';
import {
  LOGIN_KEY_PREFIX,
  PASSWORD_KEY_PREFIX,
  RUNTIME_KEY,
  desiredPolicyHash,
  desiredViewHash,
  policyKey,
  policyRenderer,
  renderView,
  viewKey,
} from './render.js';
import {
  commentOnRole,
  commentOnSchema,
  createPolicy,
  createRole,
  createView,
  dropPolicy,
  redactPassword,
  roleSearchPath,
  tableSql,
  type PolicySpec,
} from './statements.js';
import { compareRuntime } from './runtime.js';
import type { Action, Effect, Plan, Record as AppliedRecord, Step } from './types.js';

/** The object name of the runtime's step. */
export const RUNTIME_OBJECT = 'schema tenantctl (runtime)';

export interface PlanOptions {
  /** Drop login roles that tenantctl created and the file no longer lists. */
  prune: boolean;
  /** Salt source for new SCRAM verifiers (tests pass a fixed one). */
  scram?: (password: string) => string;
}

// The per-login steps (roles, memberships, search_path settings, principals rows: one or more statements per
// user, thousands for a large file) run before the first step that takes a table lock (ALTER TABLE, DROP VIEW,
// CREATE/DROP POLICY take ACCESS EXCLUSIVE on a governed table or a persona view and hold it until COMMIT), so
// that clients queue behind those locks only for the DDL of the objects that change, not for the users added
// in the same apply. Neither settings nor principals rows depend on the persona objects: ALTER ROLE ... SET
// search_path does not check that the schema exists, and the whole apply is one transaction.
const PHASE = {
  runtime: 0,
  roles: 1,
  memberships: 2,
  settings: 3,
  principals: 4,
  schemas: 5,
  rls: 6,
  baseGrants: 7,
  views: 8,
  grants: 9,
  policies: 10,
  revokes: 11,
  dropPolicies: 12,
  dropViews: 13,
  revokeMemberships: 14,
  runtimeExtras: 15,
  dropRoles: 16,
} as const;

/** Privilege lists of the grants a persona wants (PersonaGrants.want). */
const [SELECT, INSERT_UPDATE, DELETE, READ_WRITE, USAGE, CREATE] = [['SELECT'], ['INSERT', 'UPDATE'], ['DELETE'], ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], ['USAGE'], ['CREATE']] as const;

export const isManaged = (comment: string | undefined): boolean => comment?.startsWith(MANAGED_MARKER) ?? false;

export function plan(desired: DesiredState, catalog: CatalogState, options: PlanOptions): Plan {
  const steps: Step[] = [];
  const records: AppliedRecord[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  const applied = catalog.runtime?.applied ?? {};
  const step = (phase: number, object: string, action: Action, effect: Effect, sql: string[], reason?: string): void => {
    steps.push({ phase, object, action, effect, sql, display: sql.map(redactPassword), ...(reason ? { reason } : {}) });
  };

  // -- runtime schema ------------------------------------------------------------------------------------------
  const recordedRuntime = applied[RUNTIME_KEY];
  if (recordedRuntime?.desired !== desired.runtime.hash || !catalog.runtime) {
    step(PHASE.runtime, RUNTIME_OBJECT, catalog.runtime ? 'update' : 'create', 'neutral', [desired.runtime.sql]);
  } else {
    // The same runtime as the last apply installed: what differs from its record was changed by hand.
    const compared = compareRuntime(recordedRuntime.rendered, catalog.runtime.state);
    const drift = compared.kind === 'drift' ? compared.drift : undefined;
    if (compared.kind === 'upgraded') {
      step(PHASE.runtime, RUNTIME_OBJECT, 'update', 'neutral', [desired.runtime.sql], `recorded on PostgreSQL ${compared.from}, now ${compared.to}: installed again to record it anew`);
    }
    // Dropped (tenantctl.converged, say: without principals or applied there would be no record to compare with):
    // runtime.sql creates what is missing (CREATE ... IF NOT EXISTS) and leaves the rest as it is.
    if (drift && drift.gone.length > 0) {
      step(PHASE.runtime, RUNTIME_OBJECT, 'update', 'neutral', [desired.runtime.sql], `drift: dropped outside tenantctl: ${drift.gone.join(', ')}; the runtime is installed again`);
    }
    if (drift && drift.changed.length > 0) {
      step(PHASE.runtime, RUNTIME_OBJECT, 'update', 'review', [...drift.before, ...drift.after], `drift: changed outside tenantctl: ${drift.changed.join(', ')}`);
    }
    for (const extra of drift?.extras ?? []) {
      step(PHASE.runtimeExtras, extra.object, 'drop', 'narrows', [extra.sql], 'drift: not created by tenantctl (schema tenantctl holds its runtime only)');
    }
  }
  records.push({ object: RUNTIME_KEY, desired: desired.runtime.hash, render: { kind: 'runtime' } });
  // The governed schemas, for the next plan to start reading the catalog before it has checked the file.
  const schemaList = JSON.stringify(desired.schemas);
  records.push({ object: RECORDED_SCHEMAS_KEY, desired: schemaList, render: { kind: 'value', value: schemaList } });

  // -- roles -----------------------------------------------------------------------------------------------------
  const catalogRoles = new Map(catalog.roles.map((r) => [r.name, r] as const));
  const desiredNames = new Set(desired.roles.map((r) => r.name));
  const scram = options.scram ?? ((p: string) => scramVerifier(p));
  for (const role of desired.roles) {
    const actual = catalogRoles.get(role.name);
    if (actual && !isManaged(actual.comment)) {
      errors.push(`role "${role.name}" already exists and was not created by tenantctl; tenantctl never alters roles it does not manage (rename the ${role.kind} in the file, or drop the role)`);
      continue;
    }
    if (role.login) records.push({ object: LOGIN_KEY_PREFIX + role.name, desired: role.kind, render: { kind: 'value', value: role.kind } });
    const password = passwordFor(role, actual, applied, scram);
    if (password.record) records.push(password.record);
    if (!actual) {
      step(PHASE.roles, `role ${role.name}`, 'create', role.login ? 'widens' : 'neutral', [createRole(role, password.set), commentOnRole(role.name, role.comment)]);
      continue;
    }
    const alter: string[] = [];
    const attrs: string[] = [];
    if (actual.login !== role.login) attrs.push(role.login ? 'LOGIN' : 'NOLOGIN');
    if (actual.superuser) attrs.push('NOSUPERUSER');
    if (actual.bypassRls) attrs.push('NOBYPASSRLS');
    if (actual.createRole) attrs.push('NOCREATEROLE');
    if (!actual.inherit) attrs.push('INHERIT');
    if (actual.connectionLimit !== role.connectionLimit) attrs.push(`CONNECTION LIMIT ${role.connectionLimit}`);
    if (attrs.length > 0) alter.push(`ALTER ROLE ${ident(role.name)} ${attrs.join(' ')}`);
    if (password.set !== undefined) alter.push(`ALTER ROLE ${ident(role.name)} PASSWORD ${literal(password.set)}`);
    if (actual.comment !== role.comment) alter.push(commentOnRole(role.name, role.comment));
    if (alter.length > 0) {
      const privileged = actual.superuser || actual.bypassRls || actual.createRole;
      step(PHASE.roles, `role ${role.name}`, 'update', privileged ? 'narrows' : 'neutral', alter, privileged ? 'drift: the role gained privileges outside tenantctl' : undefined);
    }
  }

  // Roles are shared by every database of the cluster, schemas are not: a persona role belongs to this
  // database when its persona schema is here. Another database's personas and users are never touched.
  const localPersonas = new Set([
    ...catalog.schemas.filter((s) => s.name.startsWith(PERSONA_PREFIX) && isManaged(s.comment)).map((s) => s.name),
    ...desired.personas.map((p) => p.schema),
  ]);
  const isLocalPersonaRole = (name: string): boolean => localPersonas.has(name.replace(/_(owner|reader)$/, ''));
  // Logins this database manages: in its principals table, members of its personas, or recorded by an
  // earlier apply (a login removed from the file without --prune stays recorded until it is pruned).
  const localLogins = new Set([
    ...(catalog.runtime?.principals ?? []).map((p) => p.role),
    ...Object.keys(applied).filter((k) => k.startsWith(LOGIN_KEY_PREFIX)).map((k) => k.slice(LOGIN_KEY_PREFIX.length)),
    ...catalog.roles.filter((r) => r.login && r.memberOf.some((g) => g.endsWith('_reader') && isLocalPersonaRole(g))).map((r) => r.name),
  ]);

  // Memberships among managed roles: grant what is missing, revoke what the file no longer wants.
  for (const role of desired.roles) {
    const actual = catalogRoles.get(role.name);
    if (actual && !isManaged(actual.comment)) continue;
    const have = new Set(actual?.memberOf ?? []);
    for (const group of role.memberOf) {
      if (!have.has(group)) step(PHASE.memberships, `membership ${role.name} in ${group}`, 'create', 'widens', [`GRANT ${ident(group)} TO ${ident(role.name)}`]);
    }
    for (const group of have) {
      if (role.memberOf.includes(group)) continue;
      const g = catalogRoles.get(group);
      if (isLocalPersonaRole(group) || (g && isManaged(g.comment) && !group.startsWith(PERSONA_PREFIX))) {
        step(PHASE.revokeMemberships, `membership ${role.name} in ${group}`, 'drop', 'narrows', [`REVOKE ${ident(group)} FROM ${ident(role.name)}`]);
      } else if (role.login && !group.startsWith(PERSONA_PREFIX)) {
        notes.push(`${role.name} is also a member of ${group}, which tenantctl does not manage: whatever ${group} may read, ${role.name} may read too`);
      }
    }
    if (role.login) {
      const setting = actual?.settings.find((s) => s.startsWith('search_path='));
      const want = role.searchPath === undefined ? undefined : `search_path=${role.searchPath.replace(/^"([a-z_][a-z0-9_]*)"$/, '$1')}`;
      if (setting !== want) step(PHASE.settings, `search_path of ${role.name}`, actual ? 'update' : 'create', 'neutral', [roleSearchPath(role.name, catalog.database, role.searchPath)]);
    }
  }

  // A non-superuser applier (an owner of the data with CREATEROLE) must be a member of each persona owner to
  // hand it the persona's views (ALTER VIEW ... OWNER TO). Its reads stay empty all the same: row policies
  // key on session_user, and the applier has no principals row.
  const applier = catalogRoles.get(catalog.currentUser);
  if (applier && !applier.superuser) {
    for (const p of desired.personas) {
      if (!applier.memberOf.includes(p.owner)) {
        step(PHASE.memberships, `membership ${applier.name} in ${p.owner}`, 'create', 'neutral', [`GRANT ${ident(p.owner)} TO ${ident(applier.name)}`]);
      }
    }
  }

  // -- tables: row security on every governed table and partition ---------------------------------------------------
  const tables = new Map(catalog.tables.map((t) => [`${t.schema}.${t.name}`, t] as const));
  for (const t of desired.governedTables) {
    const actual = tables.get(`${t.schema}.${t.name}`);
    const sql: string[] = [];
    if (!actual?.rlsEnabled) sql.push(`ALTER TABLE ${tableSql(t)} ENABLE ROW LEVEL SECURITY`);
    if (!actual?.rlsForced) sql.push(`ALTER TABLE ${tableSql(t)} FORCE ROW LEVEL SECURITY`);
    if (sql.length > 0) step(PHASE.rls, `row security on ${t.schema}.${t.name}`, 'update', 'narrows', sql);
  }

  // -- personas: schemas, views, grants, policies -----------------------------------------------------------------
  const schemas = new Map(catalog.schemas.map((s) => [s.name, s] as const));
  const recreatedViews = new Set<string>();
  const personaRoles = new Set(desired.personas.flatMap((p) => [p.owner, p.reader]));
  // An explicit ACL lists the object owner's own privileges too (a persona owner owns its views): not grants.
  const owners = new Map<string, Map<string, string>>();
  for (const t of catalog.tables) {
    const bySchema = owners.get(t.schema);
    if (bySchema) bySchema.set(t.name, t.owner);
    else owners.set(t.schema, new Map([[t.name, t.owner]]));
  }
  const ownerOf = (g: { schema: string; name: string }): string | undefined => owners.get(g.schema)?.get(g.name);
  // Grants held by persona roles, against which the loop below checks the ones it wants as it goes.
  const grants = new PersonaGrants(catalog.grants, personaRoles, ownerOf);
  // The catalog policies that a wanted one matched (by schema, table and name, the key's parts): a managed one
  // not in it is one that no persona wants any more.
  const matchedPolicies = new Set<CatalogPolicy>();
  const renderPolicy = policyRenderer();
  // Catalog lookups: a find() per persona table and per policy was quadratic (2,000 views x 2,000, 5,000
  // policies x 5,000 at 500 tables). Maps of maps, not one map by a key string built for every lookup.
  const viewsBySchema = new Map<string, CatalogView[]>();
  const viewsByName = new Map<string, Map<string, CatalogView>>();
  for (const v of catalog.views) {
    const list = viewsBySchema.get(v.schema);
    if (list) list.push(v);
    else viewsBySchema.set(v.schema, [v]);
    const byName = viewsByName.get(v.schema);
    if (byName) byName.set(v.name, v);
    else viewsByName.set(v.schema, new Map([[v.name, v]]));
  }
  const policiesByTable = new Map<string, Map<string, Map<string, CatalogPolicy>>>();
  for (const p of catalog.policies) {
    let byTable = policiesByTable.get(p.schema);
    if (!byTable) policiesByTable.set(p.schema, (byTable = new Map()));
    const byName = byTable.get(p.table);
    if (byName) byName.set(p.name, p);
    else byTable.set(p.table, new Map([[p.name, p]]));
  }
  for (const persona of desired.personas) {
    if (!schemas.has(persona.schema)) {
      step(PHASE.schemas, `schema ${persona.schema}`, 'create', 'neutral', [
        `CREATE SCHEMA ${ident(persona.schema)}`,
        commentOnSchema(persona.schema, `${MANAGED_MARKER}: views of persona ${persona.id} (${persona.members.join(', ')})`),
      ]);
    }
    grants.want('schema', persona.schema, persona.schema, persona.reader, USAGE);
    // PostgreSQL requires the new owner of a view to have CREATE on its schema (for a non-superuser applier).
    grants.want('schema', persona.schema, persona.schema, persona.owner, CREATE);
    for (const s of desired.schemas) grants.want('schema', s, s, persona.owner, USAGE);
    for (const ref of persona.referenced) grants.want('column', ref.table.schema, ref.table.name, persona.owner, SELECT, ref.columns);

    const readerPrivileges = persona.access === 'readwrite' ? READ_WRITE : SELECT;
    for (const t of persona.tables) {
      grants.want('column', t.table.schema, t.table.name, persona.owner, SELECT, t.ownerSelect);
      grants.want('column', t.table.schema, t.table.name, persona.owner, INSERT_UPDATE, t.ownerWrite);
      if (persona.access === 'readwrite') grants.want('table', t.table.schema, t.table.name, persona.owner, DELETE);
      for (const seq of t.sequences) {
        const { schema, name } = sequenceName(seq, desired.schemas);
        grants.want('sequence', schema, name, persona.reader, USAGE);
      }
      grants.want('table', persona.schema, t.table.name, persona.reader, readerPrivileges);

      // The view.
      const key = viewKey(persona.schema, t.table.name);
      const hash = desiredViewHash(persona, t);
      records.push({ object: key, desired: hash, render: { kind: 'view', schema: persona.schema, name: t.table.name } });
      const view = viewsByName.get(persona.schema)?.get(t.table.name);
      const record = applied[key];
      if (!view) {
        step(PHASE.views, key, 'create', 'widens', createView(persona, t));
        recreatedViews.add(`${persona.schema}.${t.table.name}`);
      } else if (record?.desired !== hash || record.rendered !== renderView(view)) {
        const why = record?.desired !== hash ? 'changed in the file' : 'drift: the view was changed outside tenantctl';
        step(PHASE.views, key, 'replace', 'review', [`DROP VIEW ${qualified(persona.schema, t.table.name)}`, ...createView(persona, t)], why);
        recreatedViews.add(`${persona.schema}.${t.table.name}`);
      }

      // Its row-security policies on the base table.
      const onTable = policiesByTable.get(t.table.schema)?.get(t.table.name);
      for (const spec of policySpecs(persona, t)) {
        const pkey = policyKey(spec.table.schema, spec.table.name, spec.name);
        const phash = desiredPolicyHash(spec);
        records.push({ object: pkey, desired: phash, render: { kind: 'policy', schema: spec.table.schema, table: spec.table.name, name: spec.name } });
        const actual = onTable?.get(spec.name);
        if (actual) matchedPolicies.add(actual);
        const rec = applied[pkey];
        if (!actual) step(PHASE.policies, pkey, 'create', 'widens', [createPolicy(spec)]);
        else if (rec?.desired !== phash || rec.rendered !== renderPolicy(actual)) {
          const why = rec?.desired !== phash ? 'changed in the file' : 'drift: the policy was changed outside tenantctl';
          step(PHASE.policies, pkey, 'replace', 'review', [dropPolicy(spec.table, spec.name), createPolicy(spec)], why);
        }
      }
    }
    // Views left over in the persona's schema (a table now denied, or no longer governed).
    const viewNames = new Set(persona.tables.map((t) => t.table.name));
    for (const v of viewsBySchema.get(persona.schema) ?? []) {
      if (!viewNames.has(v.name)) {
        step(PHASE.dropViews, viewKey(v.schema, v.name), 'drop', 'narrows', [`DROP VIEW ${qualified(v.schema, v.name)}`]);
      }
    }
  }

  // Grants held by persona roles: add the missing, revoke the extra. A recreated view gets its grants anew.
  const toGrant = grants.missing().filter((g) => !(g.objectKind === 'table' && recreatedViews.has(`${g.schema}.${g.name}`) && g.grantee.endsWith('_reader')));
  const toRevoke = grants.extra();
  for (const [object, sql] of groupGrants(toGrant, 'GRANT')) step(object.startsWith('schema privileges') ? PHASE.baseGrants : PHASE.grants, object, 'create', 'widens', sql);
  for (const [object, sql] of groupGrants(toRevoke, 'REVOKE')) step(PHASE.revokes, object, 'drop', 'narrows', sql);

  // Direct grants on governed tables (and their columns) and on persona views to PUBLIC, to a login tenantctl
  // manages or to one of its group roles: data-plane users get access only through their persona, so any such
  // grant was made by hand. The same on the tenant registry's tables, which they never read (the lookups read
  // it as their definer): SELECT there lists every tenant, UPDATE unfreezes one. Roles tenantctl does not
  // manage are left alone.
  const governedKeys = new Set(desired.governedTables.map((t) => `${t.schema}.${t.name}`));
  const managedGrantees = new Set([...desired.roles.filter((r) => r.kind === 'user' || r.kind === 'app' || r.kind === 'group').map((r) => r.name), ...localLogins]);
  const registrySchema = catalog.registry?.schema;
  // Whole sets qualify or not (every condition is on the object and the grantee): only those are listed.
  const strayTo = (inScope: (g: CatalogGrantSet) => boolean): CatalogGrant[] =>
    expandGrants(catalog.grants.filter((g) => (g.grantee === 'public' || managedGrantees.has(g.grantee)) && inScope(g) && ownerOf(g) !== g.grantee));
  const onTable = (g: CatalogGrantSet): boolean => g.objectKind === 'table' || g.objectKind === 'column';
  const strayGrants = (list: CatalogGrant[], why: string): void => {
    for (const [object, sql] of groupGrants(list, 'REVOKE')) {
      const who = object.slice(object.lastIndexOf(' for ') + 5);
      step(PHASE.revokes, object, 'drop', 'narrows', sql, `drift: granted outside tenantctl to ${who === 'public' ? 'PUBLIC' : who}, ${why}`);
    }
  };
  strayGrants(
    strayTo((g) => onTable(g) && (governedKeys.has(`${g.schema}.${g.name}`) || localPersonas.has(g.schema))),
    'who may read only through a persona',
  );
  if (registrySchema !== undefined) {
    strayGrants(
      // Its schema's privileges too (USAGE, CREATE), unless it is also a governed schema (not compared there).
      strayTo((g) => g.schema === registrySchema && (g.objectKind === 'schema' ? !desired.schemas.includes(g.schema) : onTable(g) && !governedKeys.has(`${g.schema}.${g.name}`))),
      'who may not read or write the tenant registry (the lookups read it for them)',
    );
  }

  // Managed policies that no persona wants any more (a persona changed or went away). A policy on a governed
  // table that tenantctl did not write is drift: permissive, it widens what its roles see (dropping it
  // narrows); restrictive, it narrows (dropping it widens).
  for (const p of catalog.policies) {
    if (!p.name.startsWith(PERSONA_PREFIX)) {
      if (governedKeys.has(`${p.schema}.${p.table}`)) {
        step(PHASE.dropPolicies, policyKey(p.schema, p.table, p.name), 'drop', p.permissive ? 'narrows' : 'widens', [dropPolicy({ schema: p.schema, name: p.table }, p.name)], `drift: policy not managed by tenantctl (${p.permissive ? 'permissive' : 'restrictive'}, for ${p.roles.join(', ')})`);
      }
      continue;
    }
    if (!matchedPolicies.has(p)) step(PHASE.dropPolicies, policyKey(p.schema, p.table, p.name), 'drop', 'narrows', [dropPolicy({ schema: p.schema, name: p.table }, p.name)]);
  }

  // Persona schemas and roles that no persona uses any more.
  const wantSchemas = new Set(desired.personas.map((p) => p.schema));
  const droppedSchemas = new Set<string>();
  for (const s of catalog.schemas) {
    if (s.name.startsWith(PERSONA_PREFIX) && isManaged(s.comment) && !wantSchemas.has(s.name)) {
      step(PHASE.dropViews, `schema ${s.name}`, 'drop', 'narrows', [`DROP SCHEMA ${ident(s.name)} CASCADE`]);
      droppedSchemas.add(s.name);
    }
  }
  // Revoke what the role holds in this database, then drop it. Not DROP OWNED BY: a non-superuser applier
  // may only run that for roles it is a member of, and tenantctl's roles own nothing but persona views,
  // which go with their schema (as do the privileges on them). A view's ACL also lists its owner's own
  // privileges: those go with the view.
  const dropRole = (name: string): void => {
    const held = expandGrants(catalog.grants.filter((g) => g.grantee === name && !droppedSchemas.has(g.schema) && (g.objectKind === 'schema' || ownerOf(g) !== name)));
    const revokes = groupGrants(held, 'REVOKE').flatMap(([, sql]) => sql);
    step(PHASE.dropRoles, `role ${name}`, 'drop', 'narrows', [...revokes, `DROP ROLE ${ident(name)}`]);
  };
  for (const r of catalog.roles) {
    if (!isManaged(r.comment) || desiredNames.has(r.name)) continue;
    if (r.name.startsWith(PERSONA_PREFIX)) {
      if (!r.login && isLocalPersonaRole(r.name)) dropRole(r.name);
    } else if (r.login && localLogins.has(r.name)) {
      if (options.prune) dropRole(r.name);
      else {
        notes.push(`role ${r.name} was created by tenantctl but is no longer in the file: it keeps its login but reads no rows; \`apply --prune\` drops it`);
        records.push({ object: LOGIN_KEY_PREFIX + r.name, desired: 'unlisted', render: { kind: 'value', value: 'unlisted' } });
        for (const group of r.memberOf.filter(isLocalPersonaRole)) {
          step(PHASE.revokeMemberships, `membership ${r.name} in ${group}`, 'drop', 'narrows', [`REVOKE ${ident(group)} FROM ${ident(r.name)}`]);
        }
      }
    }
  }

  // -- principals rows ---------------------------------------------------------------------------------------------
  const havePrincipals = new Map((catalog.runtime?.principals ?? []).map((p) => [p.role, p] as const));
  for (const p of desired.principals) {
    const actual = havePrincipals.get(p.role);
    const same =
      actual &&
      actual.kind === p.kind &&
      (actual.tenant ?? null) === p.tenant &&
      stable(actual.attributes) === stable(p.attributes) &&
      stable(actual.context) === stable(p.context);
    if (same) continue;
    step(PHASE.principals, `principal ${p.role}`, actual ? 'update' : 'create', actual ? 'review' : 'widens', [
      `INSERT INTO tenantctl.principals (role, kind, tenant, attributes, context) VALUES (${literal(p.role)}, ${literal(p.kind)}, ${p.tenant === null ? 'NULL' : literal(p.tenant)}, ${literal(stable(p.attributes))}::jsonb, ${literal(stable(p.context))}::jsonb) ON CONFLICT (role) DO UPDATE SET kind = EXCLUDED.kind, tenant = EXCLUDED.tenant, attributes = EXCLUDED.attributes, context = EXCLUDED.context`,
    ]);
  }
  const desiredPrincipals = new Set(desired.principals.map((p) => p.role));
  for (const role of havePrincipals.keys()) {
    if (!desiredPrincipals.has(role)) {
      step(PHASE.principals, `principal ${role}`, 'drop', 'narrows', [`DELETE FROM tenantctl.principals WHERE role = ${literal(role)}`]);
    }
  }

  const ordered = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.phase - b.s.phase || a.i - b.i).map((x) => x.s);
  return { steps: ordered, records, notes, errors };
}

/** JSON with sorted keys, so equal objects compare equal as text. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${stable((value as { [k: string]: unknown })[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `regclass` text of a sequence ("s"."n", s.n or n on the governed search_path) as schema and name. */
function sequenceName(regclass: string, schemas: readonly string[]): { schema: string; name: string } {
  const parts = regclass.match(/"(?:[^"]|"")*"|[^.]+/g)?.map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p)) ?? [regclass];
  const [schema, name] = parts.length === 2 ? [parts[0] as string, parts[1] as string] : [schemas[0] ?? 'public', parts[0] as string];
  return { schema, name };
}

/** One statement per object and grantee, columns of a column grant listed together. */
function groupGrants(list: readonly CatalogGrant[], verb: 'GRANT' | 'REVOKE'): [string, string[]][] {
  const groups = new Map<string, { g: CatalogGrant; privileges: Map<string, string[]> }>();
  for (const g of list) {
    const object = g.objectKind === 'schema' ? `schema privileges on ${g.schema} for ${g.grantee}` : `${g.objectKind === 'sequence' ? 'sequence' : 'privileges on'} ${g.schema}.${g.name} for ${g.grantee}`;
    const entry = groups.get(object) ?? { g, privileges: new Map<string, string[]>() };
    const cols = entry.privileges.get(g.privilege) ?? [];
    if (g.column !== undefined) cols.push(g.column);
    entry.privileges.set(g.privilege, cols);
    groups.set(object, entry);
  }
  const out: [string, string[]][] = [];
  for (const [object, { g, privileges }] of groups) {
    const target = g.objectKind === 'schema' ? `SCHEMA ${ident(g.schema)}` : g.objectKind === 'sequence' ? `SEQUENCE ${qualified(g.schema, g.name)}` : `TABLE ${qualified(g.schema, g.name)}`;
    const dir = verb === 'GRANT' ? 'TO' : 'FROM';
    const who = grantee(g.grantee);
    const sql = [...privileges].map(([p, cols]) => `${verb} ${p}${cols.length > 0 ? ` (${cols.sort().map(ident).join(', ')})` : ''} ON ${target} ${dir} ${who}`);
    out.push([object, sql]);
  }
  return out;
}

/** The row-security policies of one persona on one table: one for reads, and per write command for readwrite. */
export function policySpecs(persona: Persona, t: { table: TableName; rows?: string; writeRows?: string }): PolicySpec[] {
  if (t.rows === undefined) return [];
  const base = `${PERSONA_PREFIX}${persona.id}`;
  const specs: PolicySpec[] = [{ table: t.table, name: base, command: 'SELECT', role: persona.owner, using: t.rows }];
  if (persona.access === 'readwrite') {
    const write = t.writeRows;
    if (write === undefined) throw new Error(`internal: no write check compiled for ${t.table.schema}.${t.table.name} of readwrite persona ${persona.id}`);
    specs.push({ table: t.table, name: `${base}_insert`, command: 'INSERT', role: persona.owner, withCheck: write });
    // UPDATE: the frozen check in WITH CHECK alone stops every updated row (it is evaluated for each new row);
    // in USING as well it would only be one more lookup per statement. DELETE has no WITH CHECK: it keeps it.
    specs.push({ table: t.table, name: `${base}_update`, command: 'UPDATE', role: persona.owner, using: t.rows, withCheck: write });
    specs.push({ table: t.table, name: `${base}_delete`, command: 'DELETE', role: persona.owner, using: write });
  }
  return specs;
}

/** What the password of a login role must become, if anything, and what to record about it. */
function passwordFor(
  role: DesiredRole,
  actual: CatalogRole | undefined,
  applied: Readonly<Record<string, { desired: string; rendered: string }>>,
  scram: (password: string) => string,
): { set?: string; record?: AppliedRecord } {
  const wish = role.password;
  if (!wish) return {};
  const key = PASSWORD_KEY_PREFIX + role.name;
  const known = actual?.passwordVerifier ?? (actual ? applied[key]?.rendered : undefined);
  let current: string | undefined;
  if (known !== undefined && (wish.kind === 'plaintext' ? scramMatches(wish.plaintext, known) : wish.verifier === known)) current = known;
  const set = current === undefined ? (wish.kind === 'plaintext' ? scram(wish.plaintext) : wish.verifier) : undefined;
  const verifier = (current ?? set) as string;
  return { ...(set === undefined ? {} : { set }), record: { object: key, desired: 'scram', render: { kind: 'value', value: verifier } } };
}
