// DesiredState: what the database should hold for one policy file. Produced by compile (pure), compared with
// CatalogState by plan (pure). Names here are final PostgreSQL names; SQL fragments are final SQL text.
import type { Diagnostic } from '../policy/diagnostic.js';

export interface TableName {
  readonly schema: string;
  readonly name: string;
}

export type PasswordWish =
  /** A plaintext from the environment or `value:`: its verifier is computed client-side when it must change. */
  | { readonly kind: 'plaintext'; readonly plaintext: string }
  /** A SCRAM verifier written in the file. */
  | { readonly kind: 'verifier'; readonly verifier: string };

export type RoleKind = 'user' | 'app' | 'group' | 'persona-owner' | 'persona-reader';

export interface DesiredRole {
  readonly name: string;
  readonly kind: RoleKind;
  readonly login: boolean;
  /** -1: no limit. */
  readonly connectionLimit: number;
  readonly password?: PasswordWish;
  /** Roles it is a member of (all managed by tenantctl). */
  readonly memberOf: readonly string[];
  /** `ALTER ROLE ... SET search_path = ...` value, already quoted as SQL (users and apps). */
  readonly searchPath?: string;
  /** Written as COMMENT ON ROLE; starts with MANAGED_MARKER. */
  readonly comment: string;
}

export interface ViewColumn {
  readonly name: string;
  /** Compiled mask expression; undefined for a plain column. */
  readonly mask?: string;
}

/** One governed table as one persona sees it. */
export interface PersonaTable {
  readonly table: TableName;
  /** Columns of the persona's view, in the table's order. */
  readonly columns: readonly ViewColumn[];
  /** Compiled row predicate (guard AND filters); undefined: no policy, so PostgreSQL shows zero rows. */
  readonly rows?: string;
  /**
   * readwrite: the compiled write check (INSERT/UPDATE WITH CHECK, DELETE USING): the rows predicate that also
   * raises for a frozen tenant (see compile.ts).
   */
  readonly writeRows?: string;
  /** Columns the view owner may SELECT on this table (view columns and what masks read). */
  readonly ownerSelect: readonly string[];
  /** readwrite: columns the owner may INSERT/UPDATE (plain visible columns). */
  readonly ownerWrite: readonly string[];
  /** Sequences the reader role needs USAGE on for inserts (column defaults call nextval as the querying user). */
  readonly sequences: readonly string[];
}

export interface Persona {
  /** Short content hash: equal access means the same persona. */
  readonly id: string;
  readonly schema: string;
  readonly owner: string;
  readonly reader: string;
  readonly access: 'read' | 'readwrite';
  /** Users and apps of this persona. */
  readonly members: readonly string[];
  /** Policies that shaped it (for comments and plan output). */
  readonly policies: readonly string[];
  /** Governed tables not denied to it. */
  readonly tables: readonly PersonaTable[];
  /** Columns on other governed tables that its row filters read in subqueries: the owner needs SELECT. */
  readonly referenced: readonly { readonly table: TableName; readonly columns: readonly string[] }[];
}

export interface DesiredPrincipal {
  readonly role: string;
  readonly kind: 'user' | 'app';
  readonly tenant: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly context: Readonly<Record<string, { readonly setting: string; readonly type: string }>>;
}

export interface DesiredState {
  readonly registrySchema: string;
  /** Governed schemas in file order: the search_path under which expressions are compiled. */
  readonly schemas: readonly string[];
  /** sql/runtime.sql with the registry schema filled in, and its hash. */
  readonly runtime: { readonly sql: string; readonly hash: string };
  /** Every governed table and partition: ENABLE and FORCE ROW LEVEL SECURITY. */
  readonly governedTables: readonly TableName[];
  readonly roles: readonly DesiredRole[];
  readonly personas: readonly Persona[];
  readonly principals: readonly DesiredPrincipal[];
}

export interface CompileResult {
  readonly desired?: DesiredState;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
}

export const MANAGED_MARKER = 'managed by tenantctl';
export const PERSONA_PREFIX = 'tenantctl_';
