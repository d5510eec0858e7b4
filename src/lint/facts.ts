// The facts `tenantctl lint` needs beyond the CatalogState, read in a constant number of queries (never one per
// object): the governed-schema candidates and database privileges (one query), then indexes, SECURITY DEFINER
// functions, schema privileges and (PostgreSQL 16+) ADMIN-only memberships (one query each). Materialized views and foreign tables are already in
// CatalogState.tables; the server version is CatalogState.serverVersionNum.
//
// runLint() reads everything in one REPEATABLE READ READ ONLY transaction with search_path pinned to pg_catalog, so
// pg_get_expr() schema-qualifies every relation a policy reads.
import type postgres from 'postgres';
import { readCatalog, PERSONA_SCHEMA_PREFIX, RUNTIME_SCHEMA } from '../catalog/read.js';
import { loadSqlParser } from '../policy/pg-parser.js';
import { dataPlaneRoles, lint } from './checks.js';
import type { FileFacts, Finding, FunctionFact, IndexFact, LintFacts, LintInput, SchemaAclFact } from './types.js';

type Executor = Pick<postgres.TransactionSql, 'unsafe'>;

const ROLE_NAME = (oid: string): string => `CASE WHEN ${oid} = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(${oid})::text END`;
const USER_SCHEMA = (n: string): string => `(${n}.nspname NOT LIKE 'pg\\_%' AND ${n}.nspname <> 'information_schema')`;

/** $1: the registry schema. Schemas holding a table with row security, other than tenantctl's own. */
export const META_SQL = `
SELECT pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num,
       pg_catalog.to_json(ARRAY(
         SELECT DISTINCT n.nspname::text
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND ${USER_SCHEMA('n')}
            AND n.nspname <> '${RUNTIME_SCHEMA}' AND n.nspname <> $1::name
            AND left(n.nspname, ${PERSONA_SCHEMA_PREFIX.length}) <> '${PERSONA_SCHEMA_PREFIX}'
          ORDER BY 1)) AS rls_schemas,
       EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public') AS has_public,
       pg_catalog.to_json(ARRAY(
         SELECT a.privilege_type::text
           FROM pg_catalog.pg_database d
          CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
          WHERE d.datname = pg_catalog.current_database() AND a.grantee = 0
          ORDER BY 1)) AS database_public`;

/** $1: the governed schemas. Valid, non-partial indexes of their tables, with the first key column. */
export const INDEXES_SQL = `
SELECT n.nspname::text AS schema, c.relname::text AS "table", i.relname::text AS name, a.attname::text AS leading
  FROM pg_catalog.pg_index x
  JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0] AND x.indkey[0] <> 0
 WHERE n.nspname = ANY($1::name[]) AND x.indisvalid AND x.indpred IS NULL`;

export const FUNCTIONS_SQL = `
SELECT n.nspname::text AS schema, p.proname::text AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
       pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
       pg_catalog.to_json(COALESCE(p.proconfig, '{}'::text[])) AS config,
       pg_catalog.to_json(ARRAY(
         SELECT ${ROLE_NAME('a.grantee')}
           FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS a
          WHERE a.privilege_type = 'EXECUTE' ORDER BY 1)) AS executors
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prosecdef AND ${USER_SCHEMA('n')}`;

export const SCHEMA_ACLS_SQL = `
SELECT n.nspname::text AS schema, pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner,
       pg_catalog.to_json(ARRAY(
         SELECT ${ROLE_NAME('a.grantee')} || ':' || a.privilege_type
           FROM pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) AS a ORDER BY 1)) AS privileges
  FROM pg_catalog.pg_namespace n
 WHERE ${USER_SCHEMA('n')}`;

/** PostgreSQL 16+: memberships with neither SET nor INHERIT (only ADMIN). */
export const ADMIN_ONLY_MEMBERSHIPS_SQL = `
SELECT pg_catalog.pg_get_userbyid(m.member)::text AS member, pg_catalog.pg_get_userbyid(m.roleid)::text AS role
  FROM pg_catalog.pg_auth_members m
 WHERE NOT m.set_option AND NOT m.inherit_option`;

async function rows<R>(sql: Executor, text: string, params: unknown[] = []): Promise<R[]> {
  return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as R[];
}

export interface LintOptions {
  readonly registrySchema: string;
  /** The policy file's governed schemas and principals (--policies). */
  readonly file?: FileFacts & { readonly schemas: readonly string[] };
}

export interface LintResult {
  readonly database: string;
  readonly facts: LintFacts;
  readonly dataPlaneRoles: readonly string[];
  readonly findings: readonly Finding[];
}

/** Read the catalog and the lint facts in one snapshot, then run every check. */
export async function runLint(sql: postgres.Sql, options: LintOptions): Promise<LintResult> {
  await loadSqlParser();
  const input = await sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    // No JIT: the catalog's queries are estimated dear and run cheap (see pinSearchPath in src/apply/session.ts).
    await Promise.all([tx.unsafe('SET LOCAL search_path = pg_catalog'), tx.unsafe('SET LOCAL jit = off')]);
    const [meta] = await rows<{ server_version: string; server_version_num: number; rls_schemas: string[]; has_public: boolean; database_public: string[] }>(tx, META_SQL, [options.registrySchema]);
    if (meta === undefined) throw new Error('lint: the catalog query returned no row');
    const governedSchemas = options.file
      ? [...options.file.schemas]
      : [...new Set([...(meta.has_public ? ['public'] : []), ...meta.rls_schemas])].sort();
    const catalog = await readCatalog(tx, { schemas: governedSchemas, registrySchema: options.registrySchema });
    const [indexes, functions, acls, adminOnly] = await Promise.all([
      rows<{ schema: string; table: string; name: string; leading: string | null }>(tx, INDEXES_SQL, [governedSchemas]),
      rows<FunctionFact>(tx, FUNCTIONS_SQL),
      rows<SchemaAclFact>(tx, SCHEMA_ACLS_SQL),
      meta.server_version_num >= 160000 ? rows<{ member: string; role: string }>(tx, ADMIN_ONLY_MEMBERSHIPS_SQL) : Promise.resolve([]),
    ]);
    const facts: LintFacts = {
      governedSchemas,
      governedFrom: options.file ? 'policies' : 'catalog',
      serverVersion: meta.server_version,
      databasePublic: meta.database_public,
      indexes: indexes.map((i): IndexFact => ({ schema: i.schema, table: i.table, name: i.name, ...(i.leading === null ? {} : { leading: i.leading }) })),
      securityDefinerFunctions: functions,
      schemaAcls: acls,
      adminOnlyMemberships: adminOnly,
    };
    const result: LintInput = { catalog, facts, ...(options.file ? { file: { path: options.file.path, principals: options.file.principals, readOnly: options.file.readOnly } } : {}) };
    return result;
  });
  return { database: input.catalog.database, facts: input.facts, dataPlaneRoles: dataPlaneRoles(input), findings: lint(input) };
}
