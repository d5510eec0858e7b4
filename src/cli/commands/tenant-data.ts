// tenant quota/usage/export/import/purge/project/product: registered by tenant.ts.
import type { Command } from 'commander';
import { formatDuration } from '../../pg/advisory-lock.js';
import { purgeTenant } from '../../tenant/purge.js';
import { archiveProject, createProject, listProducts, listProjects, parseConfig, parseExpiry, setProduct } from '../../tenant/projects.js';
import { setQuota, type QuotaChange } from '../../tenant/quota.js';
import { exportTenant, importTenant } from '../../tenant/transfer.js';
import { tenantUsage, type Usage } from '../../tenant/usage.js';
import { listTenants } from '../../tenant/lifecycle.js';
import { CliError } from '../errors.js';
import { colour, err, out } from '../output.js';
import { durationMs, withConnection, type ConnectionFlags } from '../options.js';
import { checkFormat, inTransaction, table, withSql } from './session.js';

interface ColumnFlags extends ConnectionFlags {
  tenantColumn?: string;
}

const TENANT_COLUMN_HELP = "the column holding the tenant's slug (or id, when uuid) in every directly owned table (default: the column the row-security policies in force compare with {user.tenant} / {user.tenant_id})";

function wholeNumber(text: string, flag: string): number | null {
  if (text === 'none') return null;
  if (!/^\d+$/.test(text)) throw new CliError(`${flag} must be a whole number or "none", got "${text}"`);
  return Number(text);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };
function bytes(text: string, flag: string): number | null {
  if (text === 'none') return null;
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(text.trim());
  if (!m) throw new CliError(`${flag} must be a size such as 500MB, 10GB or a number of bytes, or "none", got "${text}"`);
  return Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

export function registerTenantData(tenant: Command): void {
  withConnection(tenant.command('quota <slug>'))
    .description("set a tenant's quotas: connections and statement time are enforced on its logins; rows and storage are reported by usage")
    .option('--max-connections <n>', 'CONNECTION LIMIT of each of its login roles ("none" clears)')
    .option('--statement-timeout <duration>', 'statement_timeout of its logins in this database, e.g. 30s ("none" clears)')
    .option('--max-rows <n>', 'rows across its governed tables, reported by tenant usage ("none" clears)')
    .option('--max-storage <size>', 'bytes of its rows, e.g. 10GB, reported by tenant usage ("none" clears)')
    .addHelpText(
      'after',
      `
With no option, enforces the stored quota again (after an apply reset a login's CONNECTION LIMIT to the
policy file's connection_limit, or after new logins were added).

Example:
  $ tenantctl tenant quota acme --max-connections 20 --statement-timeout 30s --max-rows 1000000 --max-storage 10GB`,
    )
    .action(async (slug: string, flags: ConnectionFlags & { maxConnections?: string; statementTimeout?: string; maxRows?: string; maxStorage?: string }) => {
      const change: QuotaChange = {};
      if (flags.maxConnections !== undefined) change.maxConnections = wholeNumber(flags.maxConnections, '--max-connections');
      if (flags.statementTimeout !== undefined) {
        change.statementTimeoutMs = flags.statementTimeout === 'none' ? null : durationMs(flags.statementTimeout, '--statement-timeout');
        if (change.statementTimeoutMs === 0) throw new CliError('--statement-timeout must be more than 0 (use "none" to clear it)');
      }
      if (flags.maxRows !== undefined) change.maxRows = wholeNumber(flags.maxRows, '--max-rows');
      if (flags.maxStorage !== undefined) change.maxStorageBytes = bytes(flags.maxStorage, '--max-storage');
      const r = await inTransaction(flags, 'tenant quota', (tx) => setQuota(tx, flags.registrySchema, slug, change));
      const q = r.quota;
      out(colour.green(`Quota of tenant ${slug}:`));
      out(`  max connections:    ${q.maxConnections ?? 'none'} per login (enforced: CONNECTION LIMIT)`);
      out(`  statement timeout:  ${q.statementTimeoutMs === null ? 'none' : formatDuration(q.statementTimeoutMs)} (enforced: statement_timeout)`);
      out(`  max rows:           ${q.maxRows ?? 'none'} (reported by tenant usage)`);
      out(`  max storage:        ${q.maxStorageBytes === null ? 'none' : human(q.maxStorageBytes)} (reported by tenant usage)`);
      out(`Enforced on ${r.logins.length} login${r.logins.length === 1 ? '' : 's'}${r.logins.length > 0 ? `: ${r.logins.join(', ')}` : ''}.`);
    });

  withConnection(tenant.command('usage [slug]'))
    .description('rows and bytes per governed table for one tenant (or a summary of every tenant), connections now, against quotas')
    .option('--tenant-column <column>', TENANT_COLUMN_HELP)
    .option('--format <format>', 'text or json', 'text')
    .option('--exit-code', 'exit 2 when a quota is exceeded or a login drifted from it')
    .addHelpText('after', '\nNeeds a role that bypasses row security (superuser or BYPASSRLS).\n\nExamples:\n  $ tenantctl tenant usage acme --format json\n  $ tenantctl tenant usage --exit-code      # every tenant; 2 when one is over quota')
    .action(async (slug: string | undefined, flags: ColumnFlags & { format: string; exitCode?: boolean }) => {
      checkFormat(flags.format);
      const all = await inTransaction(flags, 'tenant usage', async (tx) => {
        const slugs = slug !== undefined ? [slug] : (await listTenants(tx, flags.registrySchema)).map((t) => t.slug);
        const out: Usage[] = [];
        for (const s of slugs) out.push(await tenantUsage(tx, flags.registrySchema, s, flags.tenantColumn));
        return out;
      });
      if (flags.format === 'json') out(JSON.stringify(slug !== undefined ? all[0] : all, null, 2));
      else if (slug === undefined) {
        const rows = all.map((u) => [u.tenant, u.status, String(u.rows), String(u.bytes), String(u.connections), [...u.over, ...u.drift.map((d) => `drift: ${d}`)].join('; ') || '-']);
        for (const line of table(['TENANT', 'STATUS', 'ROWS', 'BYTES', 'CONNECTIONS', 'OVER QUOTA'], rows)) out(line);
      } else {
        const u = all[0] as Usage;
        out(`Usage of tenant ${u.tenant} (status ${u.status})`);
        for (const line of table(['TABLE', 'ROWS', 'BYTES', 'OWNED'], u.tables.map((t) => [t.table, String(t.rows), String(t.bytes), t.scope]))) out(`  ${line}`);
        out(`  total: ${u.rows} rows, ${u.bytes} bytes (${human(u.bytes)})${u.quota.maxRows !== null ? `; max rows ${u.quota.maxRows}` : ''}${u.quota.maxStorageBytes !== null ? `; max storage ${human(u.quota.maxStorageBytes)}` : ''}`);
        out(`  connections now: ${u.connections}${u.quota.maxConnections !== null ? ` (limit ${u.quota.maxConnections} per login, ${u.logins.length} login${u.logins.length === 1 ? '' : 's'})` : ''}`);
        for (const o of u.over) out(colour.red(`  over quota: ${o}`));
        for (const d of u.drift) out(colour.yellow(`  drift: ${d} (run \`tenantctl tenant quota ${u.tenant}\` to enforce it again)`));
        if (u.unscoped.length > 0) out(`  not owned by any tenant: ${u.unscoped.join(', ')}`);
      }
      if (flags.exitCode && all.some((u) => u.over.length > 0 || u.drift.length > 0)) process.exitCode = 2;
    });

  withConnection(tenant.command('purge <slug>'))
    .description("GDPR erasure: delete every governed row of the tenant, its principals rows and login roles, in one transaction")
    .option('--confirm', 'really delete (without it: only report what would be deleted)')
    .option('--tenant-column <column>', TENANT_COLUMN_HELP)
    .addHelpText(
      'after',
      `
Children are deleted before parents (foreign keys read from the catalog); tables without a tenant column are
reached through their foreign keys (order_items through orders). The registry row stays, status archived; the
tenant's audit rows stay with tenant_id NULL. Re-running is safe. Needs a superuser or BYPASSRLS role.

Examples:
  $ tenantctl tenant purge acme             # report only
  $ tenantctl tenant purge acme --confirm`,
    )
    .action(async (slug: string, flags: ColumnFlags & { confirm?: boolean }) => {
      const r = await inTransaction(flags, 'tenant purge', (tx) =>
        purgeTenant(tx, flags.registrySchema, slug, { confirm: Boolean(flags.confirm), ...(flags.tenantColumn !== undefined ? { tenantColumn: flags.tenantColumn } : {}) }),
      );
      const total = r.tables.reduce((a, t) => a + t.rows, 0);
      const verb = r.purged ? 'Deleted' : 'Would delete';
      if (!r.purged && flags.confirm) {
        out(`Tenant ${slug} is already purged: nothing left to delete.`);
        return;
      }
      for (const t of r.tables) out(`  ${t.table}: ${t.rows} row${t.rows === 1 ? '' : 's'}`);
      out(`  logins: ${r.logins.length === 0 ? 'none' : r.logins.join(', ')}`);
      out(`  audit rows detached (tenant_id set to NULL): ${r.auditRows}`);
      if (r.purged) out(colour.yellow(`${verb} ${total} rows and ${r.logins.length} login${r.logins.length === 1 ? '' : 's'} of tenant ${slug}; it is archived.`));
      else out(`${verb} ${total} rows and ${r.logins.length} login${r.logins.length === 1 ? '' : 's'} of tenant ${slug}. Nothing was changed: pass --confirm to purge.`);
    });

  withConnection(tenant.command('export <slug>'))
    .description('write every governed row of the tenant to stdout: COPY framing, with a manifest of tables, row counts and checksums')
    .option('--tenant-column <column>', TENANT_COLUMN_HELP)
    .addHelpText('after', '\nOne consistent snapshot (REPEATABLE READ). Needs a superuser or BYPASSRLS role.\n\nExample:\n  $ tenantctl tenant export acme > acme.tenant')
    .action(async (slug: string, flags: ColumnFlags) => {
      const m = await withSql(flags, 'tenant export', (sql) =>
        sql.begin('ISOLATION LEVEL REPEATABLE READ', (tx) => exportTenant(tx, flags.registrySchema, slug, process.stdout, flags.tenantColumn)),
      );
      err(`Exported ${m.rows} rows of ${m.tables.length} tables of tenant ${slug} (sha256 ${m.sha256}).`);
    });

  withConnection(tenant.command('import <slug>'))
    .description('load a tenant export from stdin in one transaction, after checking its manifest, checksums, tenant, tables and columns')
    .option('--dry-run', 'validate and load, then roll back')
    .option('--tenant-column <column>', TENANT_COLUMN_HELP)
    .addHelpText('after', '\nThe tenant must exist in the registry with the same id and own no rows yet.\n\nExample:\n  $ tenantctl tenant import acme --dry-run < acme.tenant\n  $ tenantctl tenant import acme < acme.tenant')
    .action(async (slug: string, flags: ColumnFlags & { dryRun?: boolean }) => {
      const stream = await readAll(process.stdin);
      const dryRun = Boolean(flags.dryRun);
      const ROLLBACK = Symbol('dry run');
      let report: Awaited<ReturnType<typeof importTenant>> | undefined;
      await withSql(flags, 'tenant import', (sql) =>
        sql
          .begin(async (tx) => {
            report = await importTenant(tx, flags.registrySchema, slug, stream, { dryRun, ...(flags.tenantColumn !== undefined ? { tenantColumn: flags.tenantColumn } : {}) });
            if (dryRun) throw ROLLBACK;
          })
          .catch((e: unknown) => {
            if (e !== ROLLBACK) throw e;
          }),
      );
      if (!report) return;
      for (const t of report.tables) out(`  ${t.table}: ${t.rows} row${t.rows === 1 ? '' : 's'}`);
      if (dryRun) out(colour.yellow(`Dry run: the stream is valid and ${report.rows} rows loaded into ${report.tables.length} tables, then rolled back. Nothing was changed.`));
      else out(colour.green(`Imported ${report.rows} rows into ${report.tables.length} tables of tenant ${slug}.`));
    });

  const project = tenant
    .command('project')
    .description("a tenant's projects (optional sub-tenancy)")
    .addHelpText('after', '\nExamples:\n  $ tenantctl tenant project create acme web --name "Web shop"\n  $ tenantctl tenant project list acme\n  $ tenantctl tenant project archive acme web');
  withConnection(project.command('create <tenant> <slug>'))
    .description('create a project of a tenant')
    .requiredOption('--name <name>', 'display name')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant project create acme web --name "Web shop"')
    .action(async (tenantSlug: string, slug: string, flags: ConnectionFlags & { name: string }) => {
      const p = await inTransaction(flags, 'tenant project create', (tx) => createProject(tx, flags.registrySchema, tenantSlug, slug, flags.name));
      out(colour.green(`Created project ${p.slug} (${p.id}) of tenant ${tenantSlug}.`));
    });
  withConnection(project.command('list <tenant>'))
    .description("list a tenant's projects")
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant project list acme')
    .action(async (tenantSlug: string, flags: ConnectionFlags & { format: string }) => {
      checkFormat(flags.format);
      const rows = await withSql(flags, 'tenant project list', (sql) => listProjects(sql, flags.registrySchema, tenantSlug));
      if (flags.format === 'json') out(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) out(`No projects for tenant ${tenantSlug}.`);
      else for (const line of table(['SLUG', 'STATUS', 'ID', 'NAME'], rows.map((p) => [p.slug, p.status, p.id, p.name]))) out(line);
    });
  withConnection(project.command('archive <tenant> <slug>'))
    .description('archive a project')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant project archive acme web')
    .action(async (tenantSlug: string, slug: string, flags: ConnectionFlags) => {
      const changed = await inTransaction(flags, 'tenant project archive', (tx) => archiveProject(tx, flags.registrySchema, tenantSlug, slug));
      out(changed ? colour.yellow(`Archived project ${slug} of tenant ${tenantSlug}.`) : `Project ${slug} of tenant ${tenantSlug} is already archived; nothing changed.`);
    });

  const product = tenant
    .command('product')
    .description("a tenant's products: entitlements with JSON config and expiry")
    .addHelpText('after', '\nExamples:\n  $ tenantctl tenant product enable acme crm --config \'{"max_seats": 25}\' --expires 2027-01-01\n  $ tenantctl tenant product list acme\n  $ tenantctl tenant product disable acme crm');
  withConnection(product.command('enable <tenant> <product>'))
    .description('enable a product for a tenant (config and expiry replace the stored ones when given)')
    .option('--config <json>', 'a JSON object of product settings')
    .option('--expires <when>', 'ISO date or time, or "never"')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant product enable acme crm --config \'{"max_seats": 25}\' --expires 2027-01-01')
    .action(async (tenantSlug: string, name: string, flags: ConnectionFlags & { config?: string; expires?: string }) => {
      const config = parseConfig(flags.config);
      const expires = parseExpiry(flags.expires);
      const r = await inTransaction(flags, 'tenant product enable', (tx) =>
        setProduct(tx, flags.registrySchema, tenantSlug, name, true, { ...(config !== undefined ? { config } : {}), ...(expires !== undefined ? { expires } : {}) }),
      );
      out(r.changed ? colour.green(`Enabled product ${name} for tenant ${tenantSlug}${r.row.expires_at ? ` until ${r.row.expires_at.toISOString()}` : ''}.`) : `Product ${name} of tenant ${tenantSlug} is already enabled as asked; nothing changed.`);
    });
  withConnection(product.command('disable <tenant> <product>'))
    .description('disable a product for a tenant (its config is kept)')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant product disable acme crm')
    .action(async (tenantSlug: string, name: string, flags: ConnectionFlags) => {
      const r = await inTransaction(flags, 'tenant product disable', (tx) => setProduct(tx, flags.registrySchema, tenantSlug, name, false));
      out(r.changed ? colour.yellow(`Disabled product ${name} for tenant ${tenantSlug}.`) : `Product ${name} of tenant ${tenantSlug} is already disabled; nothing changed.`);
    });
  withConnection(product.command('list <tenant>'))
    .description("list a tenant's products")
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl tenant product list acme --format json')
    .action(async (tenantSlug: string, flags: ConnectionFlags & { format: string }) => {
      checkFormat(flags.format);
      const rows = await withSql(flags, 'tenant product list', (sql) => listProducts(sql, flags.registrySchema, tenantSlug));
      if (flags.format === 'json') out(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) out(`No products for tenant ${tenantSlug}.`);
      else
        for (const line of table(
          ['PRODUCT', 'STATE', 'EXPIRES', 'CONFIG'],
          rows.map((p) => [p.product, !p.enabled ? 'disabled' : p.expired ? 'expired' : 'enabled', p.expires_at ? p.expires_at.toISOString() : 'never', JSON.stringify(p.config)]),
        ))
          out(line);
    });
}
