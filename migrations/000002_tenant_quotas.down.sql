DROP TABLE tenant_quotas;
