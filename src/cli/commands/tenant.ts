// tenantctl tenant ...: the tenant registry's lifecycle, quotas, usage, export/import, purge, projects and products.
import type { Command } from 'commander';
import type { TenantKind, TenantStatus } from '../../registry/types.js';
import { STATUSES } from '../../tenant/common.js';
import { changeStatus, createTenant, listTenants, showTenant, type StatusChange } from '../../tenant/lifecycle.js';
import { CliError } from '../errors.js';
import { colour, out } from '../output.js';
import { withConnection, type ConnectionFlags } from '../options.js';
import { checkFormat, inTransaction, table, withSql } from './session.js';
import { registerTenantData } from './tenant-data.js';

interface FormatFlags extends ConnectionFlags {
  format: string;
}

function iso(d: Date | null | undefined): string {
  return d ? d.toISOString() : '-';
}

export function registerTenant(program: Command): void {
  const tenant = program
    .command('tenant')
    .description('manage tenants in the registry: lifecycle, quotas, usage, export/import, purge, projects and products')
    .addHelpText(
      'after',
      `
Status is enforced by the database at once, with no DDL: a frozen tenant's users read but cannot write,
an archived tenant's users see nothing.

Examples:
  $ tenantctl tenant create initech --name "Initech" --plan pro --status active
  $ tenantctl tenant list --format json
  $ tenantctl tenant freeze initech
  $ tenantctl tenant usage initech`,
    );

  withConnection(tenant.command('create <slug>'))
    .description('register a tenant (no lock on any governed table)')
    .requiredOption('--name <name>', 'display name')
    .option('--plan <plan>', 'plan name (registry default: starter)')
    .option('--status <status>', 'trial, active or demo (registry default: trial)')
    .option('--kind <kind>', 'customer or demo (registry default: customer)')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant create initech --name "Initech" --plan pro --status active')
    .action(async (slug: string, flags: ConnectionFlags & { name: string; plan?: string; status?: string; kind?: string }) => {
      const t = await inTransaction(flags, 'tenant create', (tx) =>
        createTenant(tx, flags.registrySchema, {
          slug,
          name: flags.name,
          ...(flags.plan !== undefined ? { plan: flags.plan } : {}),
          ...(flags.status !== undefined ? { status: flags.status as TenantStatus } : {}),
          ...(flags.kind !== undefined ? { kind: flags.kind as TenantKind } : {}),
        }),
      );
      out(colour.green(`Created tenant ${t.slug} (${t.id}), status ${t.status}, kind ${t.kind}, plan ${t.plan}.`));
    });

  withConnection(tenant.command('list'))
    .description('list the tenants of the registry')
    .option('--status <status>', `only tenants with this status (${STATUSES.join(', ')})`)
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant list --status frozen --format json')
    .action(async (flags: FormatFlags & { status?: string }) => {
      checkFormat(flags.format);
      if (flags.status !== undefined && !STATUSES.includes(flags.status as TenantStatus)) {
        throw new CliError(`--status must be one of ${STATUSES.join(', ')}, got "${flags.status}"`);
      }
      const rows = await withSql(flags, 'tenant list', (sql) => listTenants(sql, flags.registrySchema, flags.status as TenantStatus | undefined));
      if (flags.format === 'json') {
        out(JSON.stringify(rows.map((t) => ({ ...t, created_at: iso(t.created_at), updated_at: iso(t.updated_at) })), null, 2));
        return;
      }
      if (rows.length === 0) {
        out('No tenants.');
        return;
      }
      for (const line of table(['SLUG', 'STATUS', 'KIND', 'PLAN', 'ID', 'NAME'], rows.map((t) => [t.slug, t.status, t.kind, t.plan, t.id, t.name]))) out(line);
    });

  withConnection(tenant.command('show <slug>'))
    .description('one tenant: registry row, logins, API keys, projects and products')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant show acme')
    .action(async (slug: string, flags: FormatFlags) => {
      checkFormat(flags.format);
      const t = await withSql(flags, 'tenant show', (sql) => showTenant(sql, flags.registrySchema, slug));
      if (flags.format === 'json') {
        out(JSON.stringify({ ...t, created_at: iso(t.created_at), updated_at: iso(t.updated_at) }, null, 2));
        return;
      }
      out(`Tenant ${t.slug} (${t.id})`);
      out(`  name:      ${t.name}`);
      out(`  status:    ${t.status}`);
      out(`  kind:      ${t.kind}`);
      out(`  plan:      ${t.plan}`);
      out(`  created:   ${iso(t.created_at)}`);
      out(`  updated:   ${iso(t.updated_at)}`);
      out(`  logins:    ${t.logins.length === 0 ? '-' : t.logins.join(', ')}`);
      out(`  api keys:  ${t.apiKeys.live} live, ${t.apiKeys.revoked} revoked`);
      out(`  projects:  ${t.projects.length === 0 ? '-' : t.projects.map((p) => `${p.slug} (${p.status})`).join(', ')}`);
      const q = t.quota;
      const quota = [
        q.maxConnections !== null ? `${q.maxConnections} connections per login` : undefined,
        q.statementTimeoutMs !== null ? `statement timeout ${q.statementTimeoutMs}ms` : undefined,
        q.maxRows !== null ? `${q.maxRows} rows` : undefined,
        q.maxStorageBytes !== null ? `${q.maxStorageBytes} bytes` : undefined,
      ].filter((x) => x !== undefined);
      out(`  quota:     ${quota.length === 0 ? 'none' : quota.join(', ')}`);
      out(`  products:  ${t.products.length === 0 ? '-' : t.products.map((p) => `${p.product} (${p.enabled ? 'enabled' : 'disabled'}${p.expires_at ? `, expires ${iso(p.expires_at)}` : ''})`).join(', ')}`);
    });

  const statusCommand = (change: StatusChange, description: string, done: string): void => {
    withConnection(tenant.command(`${change} <slug>`))
      .description(description)
      .addHelpText('after', `\nExample:\n  $ tenantctl tenant ${change} acme`)
      .action(async (slug: string, flags: ConnectionFlags) => {
        const r = await inTransaction(flags, `tenant ${change}`, (tx) => changeStatus(tx, flags.registrySchema, slug, change));
        if (!r.changed) out(`Tenant ${slug} is already ${r.tenant.status}; nothing changed.`);
        else out(colour.green(`Tenant ${slug}: ${r.from} -> ${r.tenant.status}. ${done}`));
      });
  };
  statusCommand('freeze', "make a tenant read-only at once: its users' writes fail, reads work", 'Writes by its users now fail.');
  statusCommand('unfreeze', 'give a frozen tenant back the status it had before the freeze', 'Its users can write again.');
  statusCommand('archive', "archive a tenant: its users and apps see no rows at all, at once", 'Its users now see nothing.');

  registerTenantData(tenant);
}

