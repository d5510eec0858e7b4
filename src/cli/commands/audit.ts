// tenantctl audit: read the registry's audit_log.
import type { Command } from 'commander';
import { parseSince, readAudit } from '../../registry/audit-query.js';
import { getTenant } from '../../tenant/common.js';
import { CliError } from '../errors.js';
import { out } from '../output.js';
import { positiveInteger, withConnection, type ConnectionFlags } from '../options.js';
import { checkFormat, table, withSql } from './session.js';

interface AuditFlags extends ConnectionFlags {
  tenant?: string;
  action?: string;
  since?: string;
  limit: string;
  format: string;
}

export function registerAudit(program: Command): void {
  withConnection(program.command('audit'))
    .description('show audit-log rows, newest first (every state change tenantctl makes writes one)')
    .option('--tenant <slug>', 'only rows of this tenant')
    .option('--action <action>', 'only this action (tenant.freeze), or a prefix ending in . or .* (tenant.*)')
    .option('--since <when>', 'only rows newer than a duration (30m, 24h, 7d) or an ISO date')
    .option('--limit <n>', 'at most N rows', '100')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Examples:
  $ tenantctl audit --since 24h
  $ tenantctl audit --tenant acme --action 'tenant.*' --format json`,
    )
    .action(async (flags: AuditFlags) => {
      checkFormat(flags.format);
      const limit = positiveInteger(flags.limit, '--limit');
      let since: Date | undefined;
      if (flags.since !== undefined) {
        try {
          since = parseSince(flags.since);
        } catch (e) {
          throw new CliError((e as Error).message);
        }
      }
      const rows = await withSql(flags, 'audit', async (sql) => {
        const tenantId = flags.tenant === undefined ? undefined : (await getTenant(sql, flags.registrySchema, flags.tenant)).id;
        return readAudit(sql, flags.registrySchema, {
          ...(tenantId !== undefined ? { tenantId } : {}),
          ...(flags.action !== undefined ? { action: flags.action } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
      });
      if (flags.format === 'json') {
        out(JSON.stringify(rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() })), null, 2));
        return;
      }
      if (rows.length === 0) {
        out('No audit rows.');
        return;
      }
      const lines = table(
        ['TIME', 'ACTION', 'TENANT', 'TARGET', 'ACTOR', 'METADATA'],
        rows.map((r) => [
          r.created_at.toISOString(),
          r.action,
          r.tenant_slug ?? '-',
          `${r.target_type ?? '-'}:${r.target_name ?? r.target_id ?? '-'}`,
          `${r.actor_id ?? '-'}${r.actor_name ? ` (${r.actor_name})` : ''}`,
          JSON.stringify(r.metadata),
        ]),
      );
      for (const line of lines) out(line);
    });
}
