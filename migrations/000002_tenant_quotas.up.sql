-- tenantctl: per-tenant quotas (`tenantctl tenant quota`). Runs with search_path set to the registry schema.
-- max_connections and statement_timeout_ms are enforced by PostgreSQL on the tenant's login roles
-- (CONNECTION LIMIT, ALTER ROLE ... IN DATABASE ... SET statement_timeout); max_rows and max_storage_bytes are
-- only measured and reported by `tenantctl tenant usage`. NULL means no quota.

CREATE TABLE tenant_quotas (
    tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    max_connections INTEGER CHECK (max_connections >= 0),
    statement_timeout_ms BIGINT CHECK (statement_timeout_ms > 0),
    max_rows BIGINT CHECK (max_rows >= 0),
    max_storage_bytes BIGINT CHECK (max_storage_bytes >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TRIGGER tenant_quotas_touch_updated_at
    BEFORE UPDATE ON tenant_quotas
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
