// Read the live catalog into a CatalogState in a constant number of queries: one for the cheap checks, one per
// object kind (tables with their columns, roles, policies, views, schemas, grants), plus two for tenantctl's
// runtime tables (principals, applied records) and one for the registry when those exist. Never a query per
// object: the governed schemas are one bound name[] parameter, and per-object lists (columns, memberships,
// settings, ...) are aggregated in SQL.
//
// Pass a transaction (REPEATABLE READ) to read one consistent snapshot; with a pool the queries run concurrently.
//
// Every statement returns its rows, and every list inside a row, in a fixed order (ORDER BY a unique key): the
// same catalog reads the same, whatever plans the server chose. The converged record's fingerprint
// (./fingerprint.ts) hashes these results as they come; without the order, an ANALYZE of the catalogs (which
// autovacuum runs soon after a large apply) changed the plans, the order of the rows, and so the fingerprint.
//
// pg_get_expr() and pg_get_viewdef() qualify a name only when it is not visible on the session's search_path,
// so renderings depend on it: callers that compare renderings across sessions should pin search_path first
// (e.g. SET LOCAL in their transaction). readCatalog itself changes no session state.

import type postgres from 'postgres';
import { ident } from '../pg/quote.js';
import {
  mapGrants,
  mapPolicies,
  mapRegistry,
  mapRoles,
  mapRuntime,
  mapSchemas,
  mapTables,
  mapViews,
  type AppliedRow,
  type GrantRow,
  type MetaRow,
  type PolicyRow,
  type RegistryRow,
  type RoleRow,
  type RuntimeRow,
  type SchemaRow,
  type TableRow,
  type ViewRow,
} from './map.js';
import { RECORDED_SCHEMAS_KEY, type CatalogState } from './types.js';

export interface ReadCatalogOptions {
  /** The governed schemas (where the application's tables live). */
  readonly schemas: readonly string[];
  /** The tenant registry's schema (default tenant_registry). */
  readonly registrySchema: string;
}

/** Schemas whose name starts with this hold tenantctl's per-persona views. */
export const PERSONA_SCHEMA_PREFIX = 'tenantctl_';
/** tenantctl's runtime schema (sql/runtime.sql). */
export const RUNTIME_SCHEMA = 'tenantctl';

export type Executor = Pick<postgres.Sql, 'unsafe'> | Pick<postgres.TransactionSql, 'unsafe'>;

// Every query below binds the governed schemas as $1 (name[]).
const GOVERNED = (n: string): string => `${n}.nspname = ANY($1::name[])`;
const PERSONA = (n: string): string => `left(${n}.nspname, ${PERSONA_SCHEMA_PREFIX.length}) = '${PERSONA_SCHEMA_PREFIX}'`;
/** A partition (at any depth) whose partition root lives in a governed schema, wherever the partition lives. */
const PARTITION_OF_GOVERNED = (c: string): string =>
  `(${c}.relispartition AND EXISTS (SELECT 1 FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE rc.oid = pg_catalog.pg_partition_root(${c}.oid) AND ${GOVERNED('rn')}))`;
/** Relations tenantctl reads: governed schemas, persona schemas, and partitions of governed tables. */
const IN_SCOPE = (c: string, n: string): string => `(${GOVERNED(n)} OR ${PERSONA(n)} OR ${PARTITION_OF_GOVERNED(c)})`;
/**
 * obj_description() and shobj_description() as sub-selects: those are SQL functions that are not inlined, a
 * call each per row (2,500 relations and 1,000 roles: about 60 ms of the server's time).
 */
const DESCRIPTION = (oid: string, catalog: string): string =>
  `(SELECT d.description FROM pg_catalog.pg_description d WHERE d.objoid = ${oid} AND d.classoid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND d.objsubid = 0)`;
const SHARED_DESCRIPTION = (oid: string, catalog: string): string =>
  `(SELECT d.description FROM pg_catalog.pg_shdescription d WHERE d.objoid = ${oid} AND d.classoid = 'pg_catalog.${catalog}'::pg_catalog.regclass)`;
const ROLE_NAME = (oid: string): string => `CASE WHEN ${oid} = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(${oid})::text END`;

export const META_SQL = `
SELECT pg_catalog.current_setting('server_version_num')::int AS server_version_num,
       pg_catalog.current_database()::text AS database,
       current_user::text AS current_user_name,
       pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS can_read_authid,
       pg_catalog.to_regclass('${RUNTIME_SCHEMA}.principals') IS NOT NULL AS has_principals,
       pg_catalog.to_regclass('${RUNTIME_SCHEMA}.applied') IS NOT NULL AS has_applied,
       EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = pg_catalog.to_regclass('${RUNTIME_SCHEMA}.applied') AND a.attname = 'fingerprint' AND NOT a.attisdropped) AS has_fingerprint,
       pg_catalog.to_regclass($1) IS NOT NULL AS has_registry_tenants,
       pg_catalog.to_regclass($2) IS NOT NULL AS has_registry_versions`;

// default_sequences: the dependencies of each default of the table (pg_depend by (classid, objid), one index probe
// per default). OFFSET 0 keeps that lateral subquery a per-default lookup: flattened, the planner (with the
// catalog's stale statistics after a large apply) scanned every pg_attrdef dependency of the database for every
// table, 4 s at 2,500 relations.
// columns: one JSON array per column (RawColumn), not an object: json_build_object spent half of this
// query's time (40 of 80 ms at 2,500 relations and 17,500 columns) on the keys.
export const TABLES_SQL = `
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       c.relkind::text AS kind,
       pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       pn.nspname::text AS parent_schema,
       pc.relname::text AS parent_name,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                 a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
                 a.attidentity <> '', a.attgenerated <> '', a.attnum) ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       pg_catalog.to_json(ARRAY(
         SELECT DISTINCT pg_catalog.format('%I.%I', sn.nspname, s.relname) AS sequence
           FROM pg_catalog.pg_attrdef ad
          CROSS JOIN LATERAL (SELECT d.refobjid FROM pg_catalog.pg_depend d
                               WHERE d.classid = 'pg_catalog.pg_attrdef'::regclass AND d.objid = ad.oid
                                 AND d.refclassid = 'pg_catalog.pg_class'::regclass
                              OFFSET 0) d
           JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
           JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
          WHERE ad.adrelid = c.oid
          ORDER BY 1)) AS default_sequences,
       ${DESCRIPTION('c.oid', 'pg_class')} AS comment
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
  LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
  LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND ${IN_SCOPE('c', 'n')}
 ORDER BY n.nspname, c.relname`;

/** All roles but the predefined pg_* ones; the password verifier only when pg_authid is readable. */
function rolesSql(fromAuthid: boolean): string {
  const roles = fromAuthid ? 'pg_catalog.pg_authid' : 'pg_catalog.pg_roles';
  return `
SELECT r.rolname::text AS name,
       r.rolcanlogin AS login,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypass_rls,
       r.rolcreaterole AS create_role,
       r.rolinherit AS inherit,
       r.rolconnlimit AS connection_limit,
       COALESCE(mm.member_of, '[]') AS member_of,
       pg_catalog.to_json(ARRAY(
         SELECT u.x
           FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS u(x, i)
          WHERE s.setrole = r.oid
            AND s.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()))
          ORDER BY s.setdatabase, u.i)) AS settings,
       ${SHARED_DESCRIPTION('r.oid', 'pg_authid')} AS comment,
       ${fromAuthid ? 'r.rolpassword' : 'NULL::text'} AS password_verifier
  FROM ${roles} r
  -- Every membership in one pass: as a sub-select per role, the planner (on the catalog's statistics of before
  -- a large apply) scanned all of pg_auth_members for each role, 90 ms at 1,000 logins.
  LEFT JOIN (SELECT m.member, pg_catalog.json_agg(DISTINCT g.rolname::text) AS member_of
               FROM pg_catalog.pg_auth_members m JOIN ${roles} g ON g.oid = m.roleid
              GROUP BY m.member) mm ON mm.member = r.oid
 WHERE left(r.rolname, 3) <> 'pg_'
 ORDER BY r.rolname`;
}

// Policies and views: PostgreSQL stores them as node trees, and rendering those back to SQL (pg_get_expr,
// pg_get_viewdef) was most of the server's time in a no-op plan (0.2 s for 5,000 policies and 2,000 views).
// apply records, with the rendering of each object it wrote, a fingerprint of the catalog row that holds the
// tree (`fingerprint` of tenantctl.applied); while the row is unchanged its rendering is the recorded one, so
// the catalog returns that, and renders only the objects whose row differs (a hand edit, an object apply did
// not write, an older apply that recorded no fingerprint or another kind of fingerprint). Each row also
// returns the fingerprint of the row as it is now, for apply to record. The record is looked up by its key as
// src/plan/render.ts spells it.
//
// The fingerprint is the row's version: its oid and xmin. Nothing changes a stored tree without writing a new
// version of its row (ALTER POLICY, CREATE OR REPLACE VIEW, DROP and CREATE all do, with the writing
// transaction's id as xmin; a new object has a new oid), so an unchanged (oid, xmin) is an unchanged tree. It
// replaces an md5 of the tree's text: 16 MB of trees at 500 tables (5,000 policies, 2,000 views), detoasted
// and hashed in every plan, 60 ms of the server's time, where the row version costs nothing. A new row
// version with an equal tree (a restore, an ALTER that rewrote the same expression) only makes the object
// rendered and compared again.
const POLICY_FINGERPRINT = `p.oid::text || ':' || p.xmin::text`;
const VIEW_FINGERPRINT = `rw.oid::text || ':' || rw.xmin::text`;
/**
 * The recorded rendering (as json) of the object of key `key` when its fingerprint is still `f.fingerprint`.
 * The key is built from `name` columns, whose collation is "C": in the column's own collation, so that the
 * lookup is a probe of the primary key (else a scan of tenantctl.applied per object: seconds).
 */
const RECORDED = (key: string): string => `
  LEFT JOIN LATERAL (SELECT x.rendered::json AS r FROM ${RUNTIME_SCHEMA}.applied x
                      WHERE x.object = (${key}) COLLATE "default" AND x.fingerprint = f.fingerprint OFFSET 0) AS rec ON true`;
// OFFSET 0: computed once per row, not once per reference.
const FINGERPRINT = (expr: string): string => `
 CROSS JOIN LATERAL (SELECT ${expr} AS fingerprint OFFSET 0) AS f`;

/** With `recorded` (tenantctl.applied has fingerprints), unchanged policies are not rendered again. */
export function policiesSql(recorded: boolean): string {
  const rendered = (expr: string, field: string): string =>
    recorded ? `CASE WHEN rec.r IS NULL THEN pg_catalog.pg_get_expr(${expr}, p.polrelid) ELSE rec.r ->> '${field}' END` : `pg_catalog.pg_get_expr(${expr}, p.polrelid)`;
  return `
SELECT n.nspname::text AS schema,
       c.relname::text AS "table",
       p.polname::text AS name,
       p.polcmd::text AS command,
       p.polpermissive AS permissive,
       pg_catalog.to_json(ARRAY(SELECT ${ROLE_NAME('r')} FROM pg_catalog.unnest(p.polroles) AS r)) AS roles,
       ${rendered('p.polqual', 'using')} AS "using",
       ${rendered('p.polwithcheck', 'withCheck')} AS with_check,
       f.fingerprint
  FROM pg_catalog.pg_policy p
  JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace${FINGERPRINT(POLICY_FINGERPRINT)}${
    recorded ? RECORDED(`'policy ' || n.nspname::text || '.' || c.relname::text || ' ' || p.polname::text`) : ''
  }
 WHERE ${GOVERNED('n')} OR ${PARTITION_OF_GOVERNED('c')}
 ORDER BY n.nspname, c.relname, p.polname`;
}

/** With `recorded` (tenantctl.applied has fingerprints), unchanged views are not rendered again. */
export function viewsSql(recorded: boolean): string {
  return `
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
       ${recorded ? `CASE WHEN rec.r IS NULL THEN pg_catalog.pg_get_viewdef(c.oid, true) ELSE rec.r ->> 'definition' END` : 'pg_catalog.pg_get_viewdef(c.oid, true)'} AS definition,
       pg_catalog.to_json(COALESCE(c.reloptions, '{}'::text[])) AS options,
       pg_catalog.to_json(ARRAY(
         SELECT a.attname::text FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)) AS columns,
       ${DESCRIPTION('c.oid', 'pg_class')} AS comment,
       f.fingerprint
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = c.oid AND rw.rulename = '_RETURN'${FINGERPRINT(VIEW_FINGERPRINT)}${
    recorded ? RECORDED(`'view ' || n.nspname::text || '.' || c.relname::text`) : ''
  }
 WHERE c.relkind = 'v' AND (${GOVERNED('n')} OR ${PERSONA('n')})
 ORDER BY n.nspname, c.relname`;
}

/** $2: the registry schema. */
export const SCHEMAS_SQL = `
SELECT n.nspname::text AS name,
       pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner,
       ${DESCRIPTION('n.oid', 'pg_namespace')} AS comment
  FROM pg_catalog.pg_namespace n
 WHERE ${GOVERNED('n')} OR ${PERSONA('n')} OR n.nspname = '${RUNTIME_SCHEMA}' OR n.nspname = $2::name
 ORDER BY n.nspname`;

/** One row per ACL entry (object, grantee, grantor): its privileges as a JSON array of [privilege, grantable]. */
const ACL_ENTRIES = (acl: string): string => `
  CROSS JOIN LATERAL (
    SELECT ${ROLE_NAME('a.grantee')} AS grantee, ${ROLE_NAME('a.grantor')} AS grantor,
           pg_catalog.json_agg(pg_catalog.json_build_array(a.privilege_type, a.is_grantable) ORDER BY a.privilege_type, a.is_grantable) AS privileges
      FROM pg_catalog.aclexplode(${acl}) AS a
     GROUP BY a.grantee, a.grantor) AS g`;

/**
 * $2: the registry schema (its tables' grants: data-plane logins must hold none).
 * Explicit ACLs only: a NULL acl means the built-in defaults, which are not synthesized. Aggregated per object,
 * grantee and grantor (column grants: per table, grantee and grantor, each privilege with its columns), the
 * CatalogGrantSets mapGrants makes of them: at 500 tables and 4 personas, 50,000 privilege rows were 8,000
 * aggregated rows, and most of the catalog read's time in the client was spent parsing the former.
 */
export const GRANTS_SQL = `
SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS object_kind, n.nspname::text AS schema, c.relname::text AS name,
       g.grantee, g.grantor, g.privileges
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace${ACL_ENTRIES('c.relacl')}
 WHERE c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND (${IN_SCOPE('c', 'n')} OR n.nspname = '${RUNTIME_SCHEMA}' OR n.nspname = $2::name)
UNION ALL
SELECT 'column', n.nspname::text, c.relname::text, g.grantee, g.grantor, g.privileges
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (
    SELECT ${ROLE_NAME('x.grantee')} AS grantee, ${ROLE_NAME('x.grantor')} AS grantor,
           pg_catalog.json_agg(pg_catalog.json_build_array(x.privilege_type, x.is_grantable, x.columns) ORDER BY x.privilege_type, x.is_grantable) AS privileges
      FROM (SELECT a.grantee, a.grantor, a.privilege_type, a.is_grantable, pg_catalog.json_agg(att.attname::text ORDER BY att.attnum) AS columns
              FROM pg_catalog.pg_attribute att
             CROSS JOIN LATERAL pg_catalog.aclexplode(att.attacl) AS a
             WHERE att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL
             GROUP BY a.grantee, a.grantor, a.privilege_type, a.is_grantable) AS x
     GROUP BY x.grantee, x.grantor) AS g
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND (${IN_SCOPE('c', 'n')} OR n.nspname = '${RUNTIME_SCHEMA}' OR n.nspname = $2::name)
UNION ALL
SELECT 'schema', n.nspname::text, n.nspname::text, g.grantee, g.grantor, g.privileges
  FROM pg_catalog.pg_namespace n${ACL_ENTRIES('n.nspacl')}
 WHERE n.nspacl IS NOT NULL AND (${GOVERNED('n')} OR ${PERSONA('n')} OR n.nspname = '${RUNTIME_SCHEMA}' OR n.nspname = $2::name)
 ORDER BY 1, 2, 3, 4, 5`;

/**
 * The privileges an ACL gives, as a sorted JSON array of [grantee, privilege, grantable]: a NULL acl as the
 * built-in defaults it stands for (acldefault of the object type and owner), so that an explicit ACL with the
 * same privileges renders alike; the grantor left out (who granted does not change who may do what).
 */
const RUNTIME_ACL = (acl: string, type: string, owner: string): string =>
  `COALESCE((SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_array(${ROLE_NAME('x.grantee')}, x.privilege_type, x.is_grantable))
     FROM pg_catalog.aclexplode(COALESCE(${acl}, pg_catalog.acldefault(${type}, ${owner}))) AS x), '[]')`;

/**
 * tenantctl's runtime schema as it is (src/plan/runtime.ts reads it): the schema's owner and privileges; every
 * relation in it with its owner, row security, privileges (table and column), policies and triggers; every
 * function with its owner, privileges and definition; and the server's major version, whose deparser wrote
 * the definitions. One JSON text, built in a fixed order, so that two reads
 * of an unchanged schema are the same text: apply records it, and plan reports any difference as drift
 * (the lookups that every row policy calls live here; so does the principals table they read).
 */
export const RUNTIME_STATE_SQL = `
(SELECT pg_catalog.json_build_object(
   'major', pg_catalog.current_setting('server_version_num')::int / 10000,
   'owner', pg_catalog.pg_get_userbyid(n.nspowner)::text,
   'acl', ${RUNTIME_ACL('n.nspacl', "'n'", 'n.nspowner')},
   'relations', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
       'name', c.relname::text, 'kind', c.relkind::text, 'owner', pg_catalog.pg_get_userbyid(c.relowner)::text,
       'rls', c.relrowsecurity, 'force', c.relforcerowsecurity, 'acl', ${RUNTIME_ACL('c.relacl', "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\"", 'c.relowner')},
       'columns', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(a.attname::text, ${RUNTIME_ACL('a.attacl', "'c'", 'c.relowner')}) ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL), '[]'),
       'policies', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                     'name', p.polname::text, 'command', p.polcmd::text, 'permissive', p.polpermissive,
                     'roles', pg_catalog.to_json(ARRAY(SELECT ${ROLE_NAME('r')} FROM pg_catalog.unnest(p.polroles) AS r ORDER BY 1)),
                     'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'withCheck', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)) ORDER BY p.polname)
                   FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), '[]'),
       'triggers', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(t.tgname::text, pg_catalog.pg_get_triggerdef(t.oid)) ORDER BY t.tgname)
                   FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '[]'))
     ORDER BY c.relname)
     FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')), '[]'),
   'functions', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
       'name', f.proname::text, 'arguments', f.args, 'kind', f.prokind::text, 'owner', pg_catalog.pg_get_userbyid(f.proowner)::text,
       'acl', ${RUNTIME_ACL('f.proacl', "'f'", 'f.proowner')},
       'definition', CASE WHEN f.prokind IN ('f', 'p') THEN pg_catalog.pg_get_functiondef(f.oid) END)
     ORDER BY f.proname, f.args COLLATE "C")
     FROM (SELECT pr.*, pg_catalog.pg_get_function_identity_arguments(pr.oid) AS args FROM pg_catalog.pg_proc pr WHERE pr.pronamespace = n.oid) AS f), '[]'))::text
   FROM pg_catalog.pg_namespace n WHERE n.nspname = '${RUNTIME_SCHEMA}')`;

const PRINCIPALS_SQL = `
SELECT (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                 'role', p.role::text, 'kind', p.kind, 'tenant', p.tenant, 'attributes', p.attributes, 'context', p.context) ORDER BY p.role)
          FROM ${RUNTIME_SCHEMA}.principals p) AS principals,
       ${RUNTIME_STATE_SQL} AS runtime_state`;

/**
 * tenantctl.applied as rows, not one JSON value: two records per login and one per policy and view (9,000 at
 * 500 tables and 1,000 logins, 2 MB of text); escaping all of it into JSON cost the server 40 ms.
 */
function appliedSql(hasFingerprint: boolean): string {
  return `SELECT x.object, x.desired, x.rendered, ${hasFingerprint ? 'x.fingerprint' : 'NULL::text AS fingerprint'} FROM ${RUNTIME_SCHEMA}.applied x ORDER BY x.object`;
}

function registrySql(schema: string): string {
  const s = ident(schema);
  return `
SELECT (SELECT v.version::text FROM ${s}.schema_migrations v ORDER BY v.version DESC LIMIT 1) AS version,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('id', t.id::text, 'slug', t.slug, 'status', t.status::text) ORDER BY t.slug)
          FROM ${s}.tenants t) AS tenants`;
}

/**
 * A text[]/name[] parameter as an array literal ({"a","b"}): what postgres.js sends for a JS array when it has
 * read the server's array types at connect (fetch_types), here without depending on it.
 */
export function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((x) => `"${x.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

export async function query<R>(sql: Executor, text: string, params: unknown[]): Promise<R[]> {
  const rows = await (sql as Pick<postgres.Sql, 'unsafe'>).unsafe(text, params as postgres.ParameterOrJSON<never>[]);
  return rows as unknown as R[];
}

/** One statement of the catalog read, with its parameters. */
export interface CatalogQuery {
  readonly text: string;
  readonly params: readonly unknown[];
}

/**
 * The statements of a catalog read after META_SQL, by what they read; absent where there is nothing to read (no
 * runtime, no registry). readCatalog runs these, and catalogFingerprint (./fingerprint.ts) hashes what these
 * return: one list, so that the fingerprint covers exactly what a plan reads.
 */
export interface CatalogQueries {
  readonly principals?: CatalogQuery;
  readonly applied?: CatalogQuery;
  readonly grants: CatalogQuery;
  readonly tables: CatalogQuery;
  readonly roles: CatalogQuery;
  readonly schemas: CatalogQuery;
  readonly registry?: CatalogQuery;
  readonly views: CatalogQuery;
  readonly policies: CatalogQuery;
}

/** The first statement of a catalog read: versions, identity, and which of tenantctl's tables exist. */
export async function readMeta(sql: Executor, registrySchema: string): Promise<MetaRow> {
  const reg = ident(registrySchema);
  const [meta] = await query<MetaRow>(sql, META_SQL, [`${reg}.tenants`, `${reg}.schema_migrations`]);
  if (meta === undefined) throw new Error('catalog read returned no row');
  return meta;
}

export function catalogQueries(meta: MetaRow, options: ReadCatalogOptions): CatalogQueries {
  const { registrySchema } = options;
  const schemas = [arrayLiteral(options.schemas)];
  return {
    ...(meta.has_principals ? { principals: { text: PRINCIPALS_SQL, params: [] } } : {}),
    ...(meta.has_principals && meta.has_applied ? { applied: { text: appliedSql(meta.has_fingerprint), params: [] } } : {}),
    grants: { text: GRANTS_SQL, params: [...schemas, registrySchema] },
    tables: { text: TABLES_SQL, params: schemas },
    roles: { text: rolesSql(meta.can_read_authid), params: [] },
    schemas: { text: SCHEMAS_SQL, params: [...schemas, registrySchema] },
    ...(meta.has_registry_tenants && meta.has_registry_versions ? { registry: { text: registrySql(registrySchema), params: [] } } : {}),
    views: { text: viewsSql(meta.has_fingerprint), params: schemas },
    policies: { text: policiesSql(meta.has_fingerprint), params: schemas },
  };
}

export async function readCatalog(
  sql: postgres.Sql | postgres.TransactionSql,
  options: ReadCatalogOptions,
): Promise<CatalogState> {
  const { registrySchema } = options;
  const meta = await readMeta(sql, registrySchema);
  const q = catalogQueries(meta, options);
  const run = <R>(c: CatalogQuery): Promise<R[]> => query<R>(sql, c.text, [...c.params]);

  // On one connection the server runs the queries one after the other, in this order, while the client parses
  // the results that have arrived: the ones that are cheap for the server and dear to parse (the runtime's
  // principals and applied records, the grants) first, the ones the server spends its time on (deparsing
  // policies and views) last. Each result is mapped as soon as it arrives, while the server is still busy with
  // the later ones (the grants and the applied records take 0.1 s to map at 500 tables).
  const principals = q.principals ? run<Pick<RuntimeRow, 'principals' | 'runtime_state'>>(q.principals) : Promise.resolve(undefined);
  const applied = q.applied ? run<AppliedRow>(q.applied) : Promise.resolve([]);
  const [runtime, grants, tables, roles, schemaStates, registry, views, policies] = await Promise.all([
    Promise.all([principals, applied]).then(([p, a]) => (p?.[0] ? mapRuntime({ principals: p[0].principals, applied: a, runtime_state: p[0].runtime_state }) : undefined)),
    run<GrantRow>(q.grants).then(mapGrants),
    run<TableRow>(q.tables).then(mapTables),
    run<RoleRow>(q.roles).then(mapRoles),
    run<SchemaRow>(q.schemas).then(mapSchemas),
    q.registry ? run<RegistryRow>(q.registry).then((rows) => (rows[0] !== undefined ? mapRegistry(registrySchema, rows[0]) : undefined)) : Promise.resolve(undefined),
    run<ViewRow>(q.views).then(mapViews),
    run<PolicyRow>(q.policies).then(mapPolicies),
  ]);

  return {
    serverVersionNum: meta.server_version_num,
    database: meta.database,
    currentUser: meta.current_user_name,
    tables,
    roles,
    policies,
    views,
    schemas: schemaStates,
    grants,
    ...(runtime !== undefined ? { runtime } : {}),
    ...(registry !== undefined ? { registry } : {}),
  };
}

/** What readRenderedObjects returns: the policies and views, and the fingerprint of each one's stored tree. */
export interface RenderedObjects extends Pick<CatalogState, 'policies' | 'views'> {
  /** By `schema\u0000table\u0000name`. */
  readonly policyFingerprints: ReadonlyMap<string, string>;
  /** By `schema\u0000name`. */
  readonly viewFingerprints: ReadonlyMap<string, string>;
  /** The runtime schema as RUNTIME_STATE_SQL renders it; undefined when it is not installed. */
  readonly runtimeState?: string;
}

/**
 * Only the policies and views of the catalog (as readCatalog maps them), with their fingerprints, and the runtime
 * schema's state: what apply needs to record right after writing them, without reading roles, tables and grants
 * a second time. Needs tenantctl.applied with its fingerprint column (apply has installed the current runtime
 * by then).
 */
export async function readRenderedObjects(sql: postgres.Sql | postgres.TransactionSql, schemas: readonly string[]): Promise<RenderedObjects> {
  const params = [arrayLiteral(schemas)];
  const [policies, views, [runtime]] = await Promise.all([
    query<PolicyRow>(sql, policiesSql(true), params),
    query<ViewRow>(sql, viewsSql(true), params),
    query<{ state: string | null }>(sql, `SELECT ${RUNTIME_STATE_SQL} AS state`, []),
  ]);
  return {
    ...(runtime?.state ? { runtimeState: runtime.state } : {}),
    policies: mapPolicies(policies),
    views: mapViews(views),
    policyFingerprints: new Map(policies.map((p) => [`${p.schema}\u0000${p.table}\u0000${p.name}`, p.fingerprint] as const)),
    viewFingerprints: new Map(views.map((v) => [`${v.schema}\u0000${v.name}`, v.fingerprint] as const)),
  };
}

/**
 * The governed schemas the last apply recorded (RECORDED_SCHEMAS_KEY), or undefined when there is no such
 * record or it is not a list of names. A guess, not a fact: a caller that reads the catalog for these schemas
 * before it knows the file's must compare the two lists and read again when they differ.
 */
export async function readRecordedSchemas(sql: Executor): Promise<string[] | undefined> {
  const [exists] = await query<{ has_applied: boolean }>(sql, `SELECT pg_catalog.to_regclass('${RUNTIME_SCHEMA}.applied') IS NOT NULL AS has_applied`, []);
  if (!exists?.has_applied) return undefined;
  const [row] = await query<{ rendered: string }>(sql, `SELECT x.rendered FROM ${RUNTIME_SCHEMA}.applied x WHERE x.object = $1`, [RECORDED_SCHEMAS_KEY]);
  if (row === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(row.rendered);
    return Array.isArray(value) && value.length > 0 && value.every((s) => typeof s === 'string') ? (value as string[]) : undefined;
  } catch {
    return undefined;
  }
}
