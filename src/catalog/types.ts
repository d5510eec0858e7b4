// What the live database holds, as far as tenantctl cares: read by src/catalog/read.ts in a constant number of
// queries (one per object kind), consumed by the pure compile and plan stages. Plain immutable data.

export interface CatalogColumn {
  readonly name: string;
  /** format_type(atttypid, atttypmod), e.g. `text`, `numeric(10,2)`, `uuid`. */
  readonly type: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  /** attidentity / attgenerated non-empty. */
  readonly identity: boolean;
  readonly generated: boolean;
  /** Attribute number, for ordering as the table declares its columns. */
  readonly attnum: number;
}

export interface CatalogTable {
  readonly schema: string;
  readonly name: string;
  /** r = table, p = partitioned table, v = view, m = materialized view, f = foreign table. */
  readonly kind: 'r' | 'p' | 'v' | 'm' | 'f';
  readonly owner: string;
  readonly rlsEnabled: boolean;
  readonly rlsForced: boolean;
  /** For a partition: its parent as { schema, name }. */
  readonly partitionOf?: { readonly schema: string; readonly name: string };
  /** In attnum order; dropped columns left out. */
  readonly columns: readonly CatalogColumn[];
  /** Sequences that column defaults call nextval() on (schema-qualified, quoted as regclass prints them). */
  readonly defaultSequences: readonly string[];
  readonly comment?: string;
}

export interface CatalogRole {
  readonly name: string;
  readonly login: boolean;
  readonly superuser: boolean;
  readonly bypassRls: boolean;
  readonly createRole: boolean;
  readonly inherit: boolean;
  readonly connectionLimit: number;
  /** Roles this role is a direct member of. */
  readonly memberOf: readonly string[];
  /** Role-level settings from pg_db_role_setting for the current database or all databases: `name=value`. */
  readonly settings: readonly string[];
  /** The stored password is a SCRAM verifier equal to this, when readable (superuser); undefined otherwise. */
  readonly passwordVerifier?: string;
  readonly comment?: string;
}

export interface CatalogPolicy {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** r = SELECT, a = INSERT, w = UPDATE, d = DELETE, * = ALL */
  readonly command: 'r' | 'a' | 'w' | 'd' | '*';
  readonly permissive: boolean;
  /** Role names; `public` for PUBLIC. */
  readonly roles: readonly string[];
  /** pg_get_expr(polqual, polrelid), or undefined. */
  readonly using?: string;
  /** pg_get_expr(polwithcheck, polrelid), or undefined. */
  readonly withCheck?: string;
}

export interface CatalogView {
  readonly schema: string;
  readonly name: string;
  readonly owner: string;
  /** pg_get_viewdef(oid, true). */
  readonly definition: string;
  /** reloptions, e.g. ['security_barrier=true']. */
  readonly options: readonly string[];
  readonly columns: readonly string[];
  readonly comment?: string;
}

export interface CatalogSchema {
  readonly name: string;
  readonly owner: string;
  readonly comment?: string;
}

/**
 * One privilege from aclexplode over relacl / attacl / nspacl. The catalog holds them grouped (CatalogGrantSet);
 * expandGrants (src/catalog/grants.ts) lists them one by one.
 */
export interface CatalogGrant {
  readonly objectKind: 'table' | 'column' | 'schema' | 'sequence';
  readonly schema: string;
  /** Table/view/sequence name; for a schema grant, the schema name again. */
  readonly name: string;
  /** For column grants. */
  readonly column?: string;
  /** Grantee role name, or `public`. */
  readonly grantee: string;
  readonly grantor: string;
  /** SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE, CREATE. */
  readonly privilege: string;
  readonly grantable: boolean;
}

/**
 * The privileges that one grantor gave one grantee on one object, as the catalog query groups them: one ACL
 * entry of a table, view, sequence or schema, or the column ACL entries of one table with their columns. Kept
 * grouped, not one object per privilege and column: at 500 tables and 4 personas that is 7,500 sets instead of
 * 50,000 grants, which were most of the mapping's time and of its garbage, and the plan compares whole sets.
 */
export interface CatalogGrantSet {
  readonly objectKind: CatalogGrant['objectKind'];
  readonly schema: string;
  /** Table/view/sequence name; for a schema grant, the schema name again. */
  readonly name: string;
  /** Grantee role name, or `public`. */
  readonly grantee: string;
  readonly grantor: string;
  /** In (privilege, grantable) order. */
  readonly privileges: readonly CatalogPrivilege[];
}

export interface CatalogPrivilege {
  /** SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE, CREATE. */
  readonly privilege: string;
  readonly grantable: boolean;
  /** Column privileges (objectKind `column`): the columns, in code-unit order. Absent for the other kinds. */
  readonly columns?: readonly string[];
}

/** A row of tenantctl's principals table (sql/runtime.sql). */
export interface CatalogPrincipal {
  readonly role: string;
  readonly kind: 'user' | 'app';
  readonly tenant?: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly context: Readonly<Record<string, { setting: string; type: string }>>;
}

/** A tenant in the registry. */
export interface CatalogTenant {
  readonly id: string;
  readonly slug: string;
  readonly status: 'demo' | 'trial' | 'active' | 'frozen' | 'archived';
}

export interface CatalogState {
  readonly serverVersionNum: number;
  readonly database: string;
  readonly currentUser: string;
  /** Ordinary, partitioned, views, matviews and foreign tables in the governed schemas (and the persona schemas). */
  readonly tables: readonly CatalogTable[];
  readonly roles: readonly CatalogRole[];
  readonly policies: readonly CatalogPolicy[];
  readonly views: readonly CatalogView[];
  readonly schemas: readonly CatalogSchema[];
  /** In (object kind, schema, name, grantee, grantor) order. */
  readonly grants: readonly CatalogGrantSet[];
  /** Undefined when tenantctl's runtime schema is not installed. */
  readonly runtime?: {
    readonly principals: readonly CatalogPrincipal[];
    /** tenantctl.applied: object key -> { desired hash, catalog rendering at apply time, and for policies and
     *  views the fingerprint (oid:xmin) of the catalog row whose node tree that rendering was made from }. The key `runtime` holds the hash
     *  of the installed sql/runtime.sql and, as its rendering, the `state` right after that apply. */
    readonly applied: Readonly<Record<string, { readonly desired: string; readonly rendered: string; readonly fingerprint?: string }>>;
    /** The runtime schema's objects as one JSON text (RUNTIME_STATE_SQL, parsed by src/plan/runtime.ts). */
    readonly state?: string;
  };
  /** Undefined when the registry migrations have not run. */
  readonly registry?: { readonly schema: string; readonly version: number; readonly tenants: readonly CatalogTenant[] };
}

/**
 * The key of the tenantctl.applied record that holds the governed schemas of the last apply (a JSON array, in
 * file order): plan reads the catalog for those while the policy file is still being checked (src/apply/session.ts).
 */
export const RECORDED_SCHEMAS_KEY = 'schemas';
