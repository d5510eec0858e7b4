// tenantctl apikey create|list|revoke|verify.
import type { Command } from 'commander';
import { createKey, listKeys, revokeKey, verifyKey } from '../../apikey/keys.js';
import { requireRegistry } from '../../tenant/common.js';
import { CliError } from '../errors.js';
import { colour, deliver, err, out } from '../output.js';
import { withConnection, type ConnectionFlags } from '../options.js';
import { checkFormat, inTransaction, table, withSql } from './session.js';

function iso(d: Date | null): string {
  return d ? d.toISOString() : '-';
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function registerApikey(program: Command): void {
  const apikey = program
    .command('apikey')
    .description('API keys of tenants: shown once, stored as an argon2id hash and a prefix')
    .addHelpText(
      'after',
      `
Examples:
  $ tenantctl apikey create --tenant acme --name ci --scopes read,write > key.txt
  $ tenantctl apikey list --tenant acme
  $ tenantctl apikey verify "$(cat key.txt)" && echo valid
  $ tenantctl apikey revoke 4f1c...`,
    );

  withConnection(apikey.command('create'))
    .description('create a key; prints it once on stdout (tk_<prefix>_<secret>), details on stderr')
    .requiredOption('--tenant <slug>', 'the tenant the key belongs to')
    .requiredOption('--name <name>', 'a label, unique per tenant')
    .option('--scopes <list>', 'comma-separated scopes, e.g. read,write')
    .option('--product <product>', 'restrict the key to one product (default: all products)')
    .option('--format <format>', 'text (the key alone on stdout) or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl apikey create --tenant acme --name ci --scopes orders:read > key.txt')
    .action(async (flags: ConnectionFlags & { tenant: string; name: string; scopes?: string; product?: string; format: string }) => {
      checkFormat(flags.format);
      const scopes = flags.scopes === undefined ? [] : flags.scopes.split(',').map((s) => s.trim()).filter((s) => s !== '');
      // The key is written before the COMMIT, so that when stdout fails nothing is created, rather than a key that
      // nobody has: a pipe whose reader died (EPIPE) fails here; any other failure (`> key.txt` on a full disk)
      // ends the run from bin/tenantctl before the COMMIT, and the server rolls the transaction back.
      const k = await inTransaction(flags, 'apikey create', async (tx) => {
        const created = await createKey(tx, flags.registrySchema, { tenant: flags.tenant, name: flags.name, scopes, ...(flags.product !== undefined ? { product: flags.product } : {}) });
        await deliver(flags.format === 'json' ? JSON.stringify(created, null, 2) : created.key).catch((e: NodeJS.ErrnoException) => {
          throw new CliError(`the key could not be written to stdout (${e.code ?? e.message}): nothing was created`);
        });
        return created;
      });
      if (flags.format === 'json') return;
      err(colour.green(`Created API key ${k.id} "${k.name}" for tenant ${k.tenant} (prefix ${k.prefix}). It is shown only once: store it now.`));
    });

  withConnection(apikey.command('list'))
    .description("list a tenant's keys (never the secrets)")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--active', 'leave out revoked keys')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl apikey list --tenant acme --format json')
    .action(async (flags: ConnectionFlags & { tenant: string; active?: boolean; format: string }) => {
      checkFormat(flags.format);
      const keys = await withSql(flags, 'apikey list', (sql) => listKeys(sql, flags.registrySchema, flags.tenant, !flags.active));
      if (flags.format === 'json') {
        out(JSON.stringify(keys, null, 2));
        return;
      }
      if (keys.length === 0) {
        out(`No API keys for tenant ${flags.tenant}.`);
        return;
      }
      const rows = keys.map((k) => [k.id, k.name, `tk_${k.prefix}_…`, k.product ?? '*', k.scopes.join(',') || '-', iso(k.created_at), iso(k.last_used_at), k.revoked_at ? `revoked ${iso(k.revoked_at)}` : 'live']);
      for (const line of table(['ID', 'NAME', 'PREFIX', 'PRODUCT', 'SCOPES', 'CREATED', 'LAST USED', 'STATE'], rows)) out(line);
    });

  withConnection(apikey.command('revoke <id>'))
    .description('revoke a key by its id (apikey list shows it); verify fails for it at once')
    .addHelpText('after', '\nExample:\n  $ tenantctl apikey revoke 0b6c5d0e-1f1e-4a55-9d7e-3c2b1a0f9e8d')
    .action(async (id: string, flags: ConnectionFlags) => {
      const r = await inTransaction(flags, 'apikey revoke', (tx) => revokeKey(tx, flags.registrySchema, id));
      if (r.changed) out(colour.yellow(`Revoked API key ${id} "${r.name}" of tenant ${r.tenant}.`));
      else out(`API key ${id} "${r.name}" of tenant ${r.tenant} was already revoked; nothing changed.`);
    });

  withConnection(apikey.command('verify <key>'))
    .description('exit 0 when KEY is a live key (records last_used_at), 1 otherwise; "-" reads the key from stdin')
    .option('--product <product>', 'also require the key to be valid for this product')
    .addHelpText('after', "\nExamples:\n  $ tenantctl apikey verify tk_ab12cd34_... && echo valid\n  $ tenantctl apikey verify - < key.txt   # keeps the key out of the process list")
    .action(async (key: string, flags: ConnectionFlags & { product?: string }) => {
      const text = key === '-' ? await readStdin() : key;
      const r = await withSql(flags, 'apikey verify', async (sql) => {
        await requireRegistry(sql, flags.registrySchema);
        return verifyKey(sql, flags.registrySchema, text, flags.product);
      });
      if (r.valid) {
        out(`valid: API key ${r.id} "${r.name}" of tenant ${r.tenant}${r.scopes && r.scopes.length > 0 ? `, scopes ${r.scopes.join(',')}` : ''}`);
        return;
      }
      err('invalid API key');
      process.exitCode = 1;
    });
}
