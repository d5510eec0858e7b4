import type { Command } from 'commander';
import { connect, describeTarget, type Sql } from '../../pg/connect.js';
import { LockTimeoutError } from '../../pg/advisory-lock.js';
import { createMigration } from '../../migrate/create.js';
import { MigrationError, Migrator, type StatusRow } from '../../migrate/runner.js';
import { Bookkeeping } from '../../migrate/store.js';
import { fileLabel, loadMigrations, MigrationSourceError, packagedMigrationsDir, type Migration } from '../../migrate/source.js';
import { CliError } from '../errors.js';
import { confirm } from '../prompt.js';
import { colour, err, out } from '../output.js';
import { durationMs, lockTimeoutOption, positiveInteger, withConnection, type ConnectionFlags } from '../options.js';

interface MigrateFlags extends ConnectionFlags {
  dir?: string;
  lockTimeout: string;
}

function migrationsOf(flags: MigrateFlags): Migration[] {
  try {
    return loadMigrations(flags.dir ?? packagedMigrationsDir());
  } catch (e) {
    if (e instanceof MigrationSourceError) throw new CliError(e.message);
    throw e;
  }
}

/** Open one session (advisory locks are per session), run `work`, always close. */
async function withMigrator<T>(flags: MigrateFlags, work: (m: Migrator, sql: Sql) => Promise<T>): Promise<T> {
  const migrations = migrationsOf(flags);
  const sql = connect({ databaseUrl: flags.databaseUrl, max: 1, applicationName: 'tenantctl migrate' });
  try {
    const migrator = new Migrator({
      sql,
      schema: flags.registrySchema,
      migrations,
      lockTimeoutMs: durationMs(flags.lockTimeout, '--lock-timeout'),
      log: (line) => out(line),
    });
    return await work(migrator, sql);
  } catch (e) {
    if (e instanceof MigrationError || e instanceof LockTimeoutError) throw new CliError(e.message);
    throw e;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function common(cmd: Command): Command {
  return withConnection(cmd)
    .option('--dir <dir>', 'run the migrations in DIR instead of the registry migrations shipped with tenantctl')
    .addOption(lockTimeoutOption('15s'));
}

export function registerMigrate(program: Command): void {
  const migrate = program
    .command('migrate')
    .description('apply, roll back and inspect the tenant-registry migrations')
    .addHelpText(
      'after',
      `
The registry lives in its own schema (default tenant_registry). Bookkeeping is golang-migrate's
schema_migrations table, so a registry migrated by the Go tool is picked up as it is.

Examples:
  $ tenantctl migrate up --database-url postgres://admin@localhost/app
  $ tenantctl migrate down --yes
  $ tenantctl migrate status --exit-code`,
    );

  common(migrate.command('up [N]'))
    .description('apply all pending registry migrations, or the next N')
    .addHelpText('after', '\nExample:\n  $ tenantctl migrate up            # everything pending\n  $ tenantctl migrate up 1          # only the next one')
    .action(async (n: string | undefined, flags: MigrateFlags) => {
      const limit = positiveInteger(n, 'N');
      await withMigrator(flags, async (migrator, sql) => {
        const applied = await migrator.up(limit);
        const now = await migrator.version();
        if (applied.length === 0) out(`No pending migrations; ${describeTarget(sql)} schema ${flags.registrySchema} is at version ${now?.version ?? 'none'}.`);
        else out(colour.green(`Migrated up to version ${now?.version} (${applied.length} applied).`));
      });
    });

  common(migrate.command('down [N]'))
    .description('roll back the last N migrations (default 1), or all with --all')
    .option('--all', 'roll back every applied migration')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExample:\n  $ tenantctl migrate down --yes    # roll back the newest migration\n  $ tenantctl migrate down --all --yes')
    .action(async (n: string | undefined, flags: MigrateFlags & { all?: boolean; yes?: boolean }) => {
      if (flags.all && n !== undefined) throw new CliError('give either N or --all, not both');
      const count: number | 'all' = flags.all ? 'all' : (positiveInteger(n, 'N') ?? 1);
      await withMigrator(flags, async (migrator, sql) => {
        const current = await migrator.version();
        if (current === undefined) {
          out('Nothing to roll back: no migration is applied.');
          return;
        }
        const what = count === 'all' ? 'every applied migration' : `${count} migration${count === 1 ? '' : 's'}`;
        if (!flags.yes) {
          if (!process.stdin.isTTY) {
            throw new CliError(`refusing to roll back ${what} without confirmation: standard input is not a terminal; pass --yes`);
          }
          const ok = await confirm(`Roll back ${what} of schema ${flags.registrySchema} on ${describeTarget(sql)}? Down migrations drop tables and their data.`);
          if (!ok) throw new CliError('rollback cancelled; nothing was changed');
        }
        const done = await migrator.down(count);
        const now = await migrator.version();
        out(colour.yellow(`Rolled back ${done.length} migration${done.length === 1 ? '' : 's'}; now at version ${now?.version ?? 'none'}.`));
      });
    });

  withConnection(migrate.command('version'))
    .description('print the applied version: "N" or "N (dirty)"; "no migration" and exit 1 when none')
    .addHelpText('after', '\nExample:\n  $ tenantctl migrate version\n  1')
    .action(async (flags: ConnectionFlags) => {
      const sql = connect({ databaseUrl: flags.databaseUrl, max: 1, applicationName: 'tenantctl migrate' });
      try {
        const v = await new Bookkeeping(flags.registrySchema).read(sql);
        if (v === undefined) {
          out('no migration');
          process.exitCode = 1;
        } else out(v.dirty ? `${v.version} (dirty)` : String(v.version));
      } finally {
        await sql.end({ timeout: 5 });
      }
    });

  common(migrate.command('force <V>'))
    .description('set the recorded version to V and clear dirty, running nothing (0: no migration)')
    .addHelpText('after', '\nExample:\n  $ tenantctl migrate force 1       # after repairing a failed no-transaction migration by hand')
    .action(async (v: string, flags: MigrateFlags) => {
      if (!/^\d+$/.test(v)) throw new CliError(`V must be a version number (0 for none), got "${v}"`);
      await withMigrator(flags, async (migrator) => {
        await migrator.force(Number(v));
        out(`Forced version ${Number(v) === 0 ? 'none' : v}; dirty cleared. Nothing was run.`);
      });
    });

  migrate
    .command('create <NAME>')
    .description('write the next migrations/NNNNNN_name.up.sql and .down.sql')
    .option('--dir <dir>', 'folder of migrations', 'migrations')
    .addHelpText('after', '\nExample:\n  $ tenantctl migrate create add_tenant_region --dir db/migrations')
    .action((name: string, flags: { dir: string }) => {
      try {
        const { up, down } = createMigration(flags.dir, name);
        out(`Created ${up}`);
        out(`Created ${down}`);
      } catch (e) {
        if (e instanceof MigrationSourceError) throw new CliError(e.message);
        throw e;
      }
    });

  common(migrate.command('status'))
    .description('list each migration as applied, pending or edited after it was applied (checksum)')
    .option('--exit-code', 'exit 2 when a migration is pending, edited, missing or dirty')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  $ tenantctl migrate status --exit-code || echo "registry needs attention"')
    .action(async (flags: MigrateFlags & { exitCode?: boolean; format: string }) => {
      if (flags.format !== 'text' && flags.format !== 'json') throw new CliError(`--format must be text or json, got "${flags.format}"`);
      await withMigrator(flags, async (migrator) => {
        const { current, rows } = await migrator.status();
        if (flags.format === 'json') {
          out(JSON.stringify({ schema: flags.registrySchema, version: current?.version ?? null, dirty: current?.dirty ?? false, migrations: rows }, null, 2));
        } else printStatus(rows, current?.version, migrationsOf(flags));
        if (flags.exitCode && rows.some((r) => r.state !== 'applied')) process.exitCode = 2;
      });
    });
}

const STATE_TEXT: Record<StatusRow['state'], string> = {
  applied: 'applied',
  pending: 'pending',
  edited: 'EDITED after it was applied (checksum differs)',
  unrecorded: 'applied (no checksum recorded: set by force or by golang-migrate)',
  missing: 'applied, but its file is missing from the folder',
  dirty: 'DIRTY (failed half-way)',
};

function printStatus(rows: StatusRow[], version: number | undefined, migrations: Migration[]): void {
  out(`Registry version: ${version ?? 'none'}`);
  for (const r of rows) {
    const m = migrations.find((x) => x.version === r.version);
    const label = m ? fileLabel(m, 'up').replace(/\.up\.sql$/, '') : `${String(r.version).padStart(6, '0')}_${r.name}`;
    const when = r.appliedAt ? `  ${r.appliedAt.toISOString()} by ${r.appliedBy}` : '';
    const text = STATE_TEXT[r.state];
    const painted = r.state === 'applied' ? colour.green(text) : r.state === 'pending' ? colour.yellow(text) : colour.red(text);
    out(`  ${label}  ${painted}${when}`);
  }
  if (rows.some((r) => r.state === 'edited')) err('warning: an applied migration was edited; write a new migration instead of changing an applied one');
}
