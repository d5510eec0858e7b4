// The registry migration runner: golang-migrate's semantics (one version row, a dirty flag), with each
// migration and its bookkeeping in one transaction, a session advisory lock, and an audit row.
import { parse } from 'libpg-query';
import { acquireAdvisoryLock, migrateLockKey } from '../pg/advisory-lock.js';
import type { Sql } from '../pg/connect.js';
import { isServerError, describeServerError, lineAndColumn } from '../pg/errors.js';
import { ident } from '../pg/quote.js';
import { auditLogExists, recordAudit } from '../registry/audit.js';
import type { Executor } from '../registry/db.js';
import { fileLabel, type Migration, type MigrationFile } from './source.js';
import { Bookkeeping, type RecordedVersion } from './store.js';

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigratorOptions {
  /** A connection with max: 1, so the advisory lock and the migrations share one session. */
  sql: Sql;
  schema: string;
  migrations: readonly Migration[];
  lockTimeoutMs: number;
  log?: (line: string) => void;
}

export interface Applied {
  migration: Migration;
  direction: 'up' | 'down';
  ms: number;
}

export type MigrationState = 'applied' | 'pending' | 'edited' | 'unrecorded' | 'missing' | 'dirty';

export interface StatusRow {
  version: number;
  name: string;
  state: MigrationState;
  appliedAt?: Date;
  appliedBy?: string;
}

export class Migrator {
  private readonly store: Bookkeeping;
  private readonly log: (line: string) => void;

  constructor(private readonly options: MigratorOptions) {
    this.store = new Bookkeeping(options.schema);
    this.log = options.log ?? (() => {});
  }

  private get sql(): Sql {
    return this.options.sql;
  }

  async version(): Promise<RecordedVersion | undefined> {
    return this.store.read(this.sql);
  }

  /** Apply all pending migrations, or the next `limit`. */
  async up(limit?: number): Promise<Applied[]> {
    return this.locked(async () => {
      const current = await this.checkedVersion();
      const pending = this.options.migrations.filter((m) => current === undefined || m.version > current.version);
      const batch = limit === undefined ? pending : pending.slice(0, limit);
      const done: Applied[] = [];
      for (const m of batch) done.push(await this.step(m, 'up', m.version));
      return done;
    });
  }

  /** Roll back `count` migrations (all when 'all'), newest first. */
  async down(count: number | 'all'): Promise<Applied[]> {
    return this.locked(async () => {
      const done: Applied[] = [];
      for (let i = 0; count === 'all' || i < count; i++) {
        const current = await this.checkedVersion();
        if (current === undefined) break;
        const index = this.options.migrations.findIndex((m) => m.version === current.version);
        const m = this.options.migrations[index] as Migration;
        const previous = index > 0 ? this.options.migrations[index - 1]?.version : undefined;
        done.push(await this.step(m, 'down', previous));
      }
      return done;
    });
  }

  /** Set the recorded version and clear dirty, running nothing (golang-migrate's force). 0 means none. */
  async force(version: number): Promise<void> {
    await this.locked(async () => {
      await this.store.ensure(this.sql);
      await this.sql.begin(async (tx) => {
        const before = await this.store.read(tx);
        await this.store.write(tx, version === 0 ? undefined : version, false);
        await this.store.forgetAbove(tx, version);
        await this.audit(tx, 'migrate.force', version, this.options.migrations.find((m) => m.version === version)?.name, {
          from: before ? before.version : null,
          from_dirty: before?.dirty ?? false,
        });
      });
    });
  }

  async status(): Promise<{ current: RecordedVersion | undefined; rows: StatusRow[] }> {
    const current = await this.store.read(this.sql);
    const applied = new Map((await this.store.readApplied(this.sql)).map((r) => [r.version, r]));
    const rows: StatusRow[] = [];
    for (const m of this.options.migrations) {
      const record = applied.get(m.version);
      const isApplied = current !== undefined && m.version <= current.version;
      let state: MigrationState;
      if (current?.dirty && m.version === current.version) state = 'dirty';
      else if (!isApplied) state = 'pending';
      else if (!record) state = 'unrecorded';
      else if (record.checksum !== m.up.checksum) state = 'edited';
      else state = 'applied';
      rows.push({
        version: m.version,
        name: m.name,
        state,
        ...(record && isApplied ? { appliedAt: record.applied_at, appliedBy: record.applied_by } : {}),
      });
      applied.delete(m.version);
    }
    for (const r of applied.values()) {
      if (current !== undefined && r.version <= current.version) {
        rows.push({ version: r.version, name: r.name, state: 'missing', appliedAt: r.applied_at, appliedBy: r.applied_by });
      }
    }
    rows.sort((a, b) => a.version - b.version);
    return { current, rows };
  }

  // -------------------------------------------------------------------------------------------------------

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const [db] = await this.sql<{ name: string }[]>`SELECT current_database() AS name`;
    const release = await acquireAdvisoryLock(this.sql, migrateLockKey(db?.name ?? '', this.options.schema), {
      timeoutMs: this.options.lockTimeoutMs,
      what: `the migration lock of schema "${this.options.schema}"`,
    });
    try {
      return await work();
    } finally {
      await release().catch(() => {});
    }
  }

  /** The recorded version, after checking it is clean and known to this folder of migrations. */
  private async checkedVersion(): Promise<RecordedVersion | undefined> {
    await this.store.ensure(this.sql);
    const current = await this.store.read(this.sql);
    if (current === undefined) return undefined;
    if (current.dirty) {
      throw new MigrationError(
        `the registry is dirty at version ${current.version}: a migration failed half-way. ` +
          `Inspect the database, repair it by hand, then run \`tenantctl migrate force ${current.version}\` ` +
          `(if the migration's changes are all there) or \`tenantctl migrate force <previous version>\`.`,
      );
    }
    if (!this.options.migrations.some((m) => m.version === current.version)) {
      throw new MigrationError(
        `the registry is at version ${current.version}, which is not in the migrations folder ` +
          `(known versions: ${this.options.migrations.map((m) => m.version).join(', ')})`,
      );
    }
    return current;
  }

  private async step(m: Migration, direction: 'up' | 'down', newVersion: number | undefined): Promise<Applied> {
    const file = direction === 'up' ? m.up : m.down;
    const label = fileLabel(m, direction);
    if (!file) throw new MigrationError(`no down migration for version ${m.version} (${fileLabel(m, 'down')} is missing)`);
    const started = Date.now();
    const finish = async (tx: Executor): Promise<void> => {
      await this.store.write(tx, newVersion, false);
      if (direction === 'up') await this.store.recordApplied(tx, m);
      else await this.store.forget(tx, m.version);
      await this.audit(tx, direction === 'up' ? 'migrate.up' : 'migrate.down', m.version, m.name, {
        file: label,
        checksum: file.checksum,
        to_version: newVersion ?? null,
      });
    };
    if (file.noTransaction) {
      await this.runOutsideTransaction(m, file, label);
      await this.sql.begin(finish);
    } else {
      await this.sql
        .begin(async (tx) => {
          await tx.unsafe(`SET LOCAL search_path TO ${ident(this.options.schema)}, public`);
          await tx.unsafe(file.sql);
          await finish(tx);
        })
        .catch((e: unknown) => {
          throw this.failure(e, label, file, `nothing was applied; the version stays at ${this.versionText(m, direction)}`);
        });
    }
    const ms = Date.now() - started;
    this.log(`${direction === 'up' ? 'applied' : 'rolled back'} ${label} (${ms} ms)`);
    return { migration: m, direction, ms };
  }

  /** `-- tenantctl:no-transaction`: golang-migrate's dirty flag around statements run one at a time. */
  private async runOutsideTransaction(m: Migration, file: MigrationFile, label: string): Promise<void> {
    let statements: Statement[];
    try {
      statements = await splitStatements(file.sql);
    } catch (e) {
      throw new MigrationError(`${label}: ${(e as Error).message}; nothing was applied`);
    }
    await this.store.write(this.sql, m.version, true);
    try {
      await this.sql.unsafe(`SET search_path TO ${ident(this.options.schema)}, public`);
      for (const statement of statements) {
        await this.sql.unsafe(statement.text).catch((e: unknown) => {
          throw this.failure(
            e,
            label,
            file,
            `the registry is now dirty at version ${m.version}; repair it, then run \`tenantctl migrate force\``,
            statement,
          );
        });
      }
    } finally {
      await this.sql.unsafe('RESET search_path').catch(() => {});
    }
  }

  private versionText(m: Migration, direction: 'up' | 'down'): string {
    if (direction === 'down') return String(m.version);
    const index = this.options.migrations.indexOf(m);
    const previous = index > 0 ? this.options.migrations[index - 1] : undefined;
    return previous ? String(previous.version) : 'none';
  }

  /** The server's error with the file name and line: of the error position, else of the failing statement. */
  private failure(e: unknown, label: string, file: MigrationFile, consequence: string, statement?: Statement): Error {
    if (!isServerError(e)) return e instanceof Error ? e : new Error(String(e));
    const text = statement?.text ?? file.sql;
    const firstLine = statement?.line ?? 1;
    const line = e.position ? firstLine - 1 + lineAndColumn(text, Number(e.position)).line : statement?.line;
    const where = line === undefined ? '' : `:${line}`;
    return new MigrationError(`${label}${where}: ${describeServerError(e)}\n${consequence}`);
  }

  private async audit(
    tx: Executor,
    action: 'migrate.up' | 'migrate.down' | 'migrate.force',
    version: number,
    name: string | undefined,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    // "once the registry exists": the first up creates audit_log, the last down removes it.
    if (!(await auditLogExists(tx, this.options.schema))) return;
    await recordAudit(tx, this.options.schema, {
      action,
      targetType: 'migration',
      targetId: String(version),
      ...(name === undefined ? {} : { targetName: name }),
      metadata: { version, ...metadata },
    });
  }
}

export interface Statement {
  text: string;
  /** 1-based line in the script where the statement's text starts. */
  line: number;
}

/** Split a script into statements with the real PostgreSQL parser (statement locations are byte offsets). */
export async function splitStatements(script: string): Promise<Statement[]> {
  const result = (await parse(script)) as { stmts?: { stmt_location?: number; stmt_len?: number }[] };
  const bytes = Buffer.from(script, 'utf8');
  const statements: Statement[] = [];
  for (const s of result.stmts ?? []) {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len ? start + s.stmt_len : bytes.length;
    const raw = bytes.subarray(start, end).toString('utf8');
    // The parser's location includes the comments and blank lines before a statement: skip them.
    const leading = /^(?:\s|--[^\n]*(?:\n|$))*/.exec(raw)?.[0].length ?? 0;
    const text = raw.slice(leading).trim();
    if (text.length === 0) continue;
    const before = bytes.subarray(0, start).toString('utf8') + raw.slice(0, leading);
    statements.push({ text, line: before.split('\n').length });
  }
  return statements;
}
