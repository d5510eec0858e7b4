// What `tenantctl lint` reports, and the few catalog facts it needs beyond the CatalogState (src/lint/facts.ts).
import type { CatalogState } from '../catalog/types.js';

export type Level = 'error' | 'warning' | 'info';

export interface Finding {
  readonly level: Level;
  /** The check's id, e.g. `rls-not-forced` (docs/lint.md lists them all). */
  readonly check: string;
  /** The object concerned: `schema.table`, `schema.table policy name`, a role, a function signature, ... */
  readonly object: string;
  readonly why: string;
  readonly fix: string;
}

/** A valid, non-partial index and its first key column (undefined for an expression). */
export interface IndexFact {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly leading?: string;
}

/** A SECURITY DEFINER function outside the system schemas. */
export interface FunctionFact {
  readonly schema: string;
  readonly name: string;
  /** pg_get_function_identity_arguments. */
  readonly args: string;
  readonly owner: string;
  /** proconfig, e.g. ['search_path=pg_catalog, pg_temp']. */
  readonly config: readonly string[];
  /** Roles holding EXECUTE (`public` for PUBLIC), defaults included. */
  readonly executors: readonly string[];
}

/** One schema's privileges (defaults included) for the schemas outside pg_* and information_schema. */
export interface SchemaAclFact {
  readonly schema: string;
  readonly owner: string;
  /** `grantee:PRIVILEGE`, grantee `public` for PUBLIC, e.g. `public:USAGE`. */
  readonly privileges: readonly string[];
}

export interface LintFacts {
  /** The governed schemas the checks look at. */
  readonly governedSchemas: readonly string[];
  /** Where they came from: the policy file's `schemas`, or the catalog (row-security tables, plus public). */
  readonly governedFrom: 'policies' | 'catalog';
  /** current_setting('server_version'), for display. */
  readonly serverVersion: string;
  /** Database privileges PUBLIC holds: CONNECT, TEMPORARY, CREATE (defaults included). */
  readonly databasePublic: readonly string[];
  readonly indexes: readonly IndexFact[];
  readonly securityDefinerFunctions: readonly FunctionFact[];
  readonly schemaAcls: readonly SchemaAclFact[];
  /**
   * Memberships that give neither SET nor INHERIT (PostgreSQL 16+: the ADMIN-only grant a CREATEROLE role receives on
   * every role it creates). They let the member manage the role, not act as it; empty before 16.
   */
  readonly adminOnlyMemberships: readonly { readonly member: string; readonly role: string }[];
}

/** What the policy file (--policies) says, when one is given. */
export interface FileFacts {
  readonly path: string;
  /** Users and apps the file lists: data-plane logins. */
  readonly principals: readonly string[];
  /** True when every user and app is `access: read`. */
  readonly readOnly: boolean;
}

export interface LintInput {
  readonly catalog: CatalogState;
  readonly facts: LintFacts;
  readonly file?: FileFacts;
}

export const LEVEL_ORDER: Readonly<Record<Level, number>> = { error: 0, warning: 1, info: 2 };
