// Row types of the tenant registry (migrations/000001_tenant_registry.up.sql), for typed kysely queries.
import type { ColumnType, Generated } from 'kysely';

export type TenantStatus = 'demo' | 'trial' | 'active' | 'frozen' | 'archived';
export type TenantKind = 'customer' | 'demo';
export type IdpKind = 'oidc' | 'saml';
export type TenantProjectStatus = 'active' | 'archived';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>;
  kind: ColumnType<TenantKind, TenantKind | undefined, TenantKind>;
  plan: ColumnType<string, string | undefined, string>;
  erp_customer_id: string | null;
  stripe_cust_id: string | null;
  trial_ends_at: Date | null;
  contract_start: Date | null;
  contract_end: Date | null;
  sales_owner: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantProjectsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  slug: string;
  status: ColumnType<TenantProjectStatus, TenantProjectStatus | undefined, TenantProjectStatus>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantProductsTable {
  tenant_id: string;
  product: string;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  config: Json;
  expires_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantIdpConfigTable {
  id: Generated<string>;
  tenant_id: string;
  type: IdpKind;
  metadata: Json;
  verified: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  product: string | null;
  name: string;
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  hash: string;
  prefix: string;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  tenant_id: string | null;
  project_id: string | null;
  actor_id: string | null;
  actor_name: string | null;
  actor_type: string | null;
  action: string;
  target_id: string | null;
  target_type: string | null;
  target_name: string | null;
  product: string | null;
  metadata: Json;
  source_ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
}

/** migrations/000002_tenant_quotas.up.sql: NULL means no quota. */
export interface TenantQuotasTable {
  tenant_id: string;
  max_connections: number | null;
  statement_timeout_ms: string | null;
  max_rows: string | null;
  max_storage_bytes: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RegistryDatabase {
  tenants: TenantsTable;
  tenant_projects: TenantProjectsTable;
  tenant_products: TenantProductsTable;
  tenant_idp_config: TenantIdpConfigTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  tenant_quotas: TenantQuotasTable;
}

export const REGISTRY_TABLES = ['tenants', 'tenant_projects', 'tenant_products', 'tenant_idp_config', 'api_keys', 'audit_log', 'tenant_quotas'] as const;
export const REGISTRY_ENUMS = ['tenant_status', 'tenant_kind', 'idp_kind', 'tenant_project_status'] as const;
export const DEFAULT_REGISTRY_SCHEMA = 'tenant_registry';
