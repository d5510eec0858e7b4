// tenant quota/usage/export/import/purge/project/product: registered by tenant.ts.
import type { Command } from 'commander';

export function registerTenantData(_tenant: Command): void {}
