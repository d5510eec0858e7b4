-- Removes everything 000001_tenant_registry.up.sql created, children before parents, without CASCADE so
-- that an object someone else made to depend on the registry stops the rollback instead of vanishing.

DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE tenant_idp_config;
DROP TABLE tenant_products;
DROP TABLE tenant_projects;
DROP TABLE tenants;

DROP FUNCTION touch_updated_at();

DROP TYPE tenant_project_status;
DROP TYPE idp_kind;
DROP TYPE tenant_kind;
DROP TYPE tenant_status;
