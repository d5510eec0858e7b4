// Migration bookkeeping. `schema_migrations` is golang-migrate's own table (one row: version, dirty), so a
// registry migrated by the Go tool is picked up as it is; `tenantctl_migrations` adds what it lacks.
import { ident } from '../pg/quote.js';
import type { Executor } from '../registry/db.js';
import type { Migration } from './source.js';

export interface RecordedVersion {
  version: number;
  dirty: boolean;
}

export interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
  applied_by: string;
}

export class Bookkeeping {
  constructor(readonly schema: string) {}

  private get versions(): string {
    return `${ident(this.schema)}.schema_migrations`;
  }
  private get applied(): string {
    return `${ident(this.schema)}.tenantctl_migrations`;
  }

  async ensure(db: Executor): Promise<void> {
    await db.unsafe(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`);
    await db.unsafe(`CREATE TABLE IF NOT EXISTS ${this.versions} (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)`);
    await db.unsafe(
      `CREATE TABLE IF NOT EXISTS ${this.applied} (
         version bigint PRIMARY KEY,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         applied_by text NOT NULL DEFAULT current_user)`,
    );
  }

  /** Whether the bookkeeping tables exist; read-only commands never create them. */
  async exists(db: Executor): Promise<{ versions: boolean; applied: boolean }> {
    const rows = (await db.unsafe(`SELECT to_regclass($1) IS NOT NULL AS versions, to_regclass($2) IS NOT NULL AS applied`, [
      this.versions,
      this.applied,
    ])) as unknown as { versions: boolean; applied: boolean }[];
    return rows[0] ?? { versions: false, applied: false };
  }

  async read(db: Executor): Promise<RecordedVersion | undefined> {
    if (!(await this.exists(db)).versions) return undefined;
    const rows = (await db.unsafe(`SELECT version::text AS version, dirty FROM ${this.versions} ORDER BY version DESC LIMIT 1`)) as unknown as {
      version: string;
      dirty: boolean;
    }[];
    const row = rows[0];
    return row ? { version: Number(row.version), dirty: row.dirty } : undefined;
  }

  /** golang-migrate's SetVersion: one row, or none for "no migration". */
  async write(db: Executor, version: number | undefined, dirty: boolean): Promise<void> {
    await db.unsafe(`DELETE FROM ${this.versions}`);
    if (version !== undefined) await db.unsafe(`INSERT INTO ${this.versions} (version, dirty) VALUES ($1, $2)`, [version, dirty]);
  }

  async recordApplied(db: Executor, m: Migration): Promise<void> {
    await db.unsafe(
      `INSERT INTO ${this.applied} (version, name, checksum) VALUES ($1, $2, $3)
       ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum,
         applied_at = now(), applied_by = current_user`,
      [m.version, m.name, m.up.checksum],
    );
  }

  async forgetAbove(db: Executor, version: number): Promise<void> {
    await db.unsafe(`DELETE FROM ${this.applied} WHERE version > $1`, [version]);
  }

  async forget(db: Executor, version: number): Promise<void> {
    await db.unsafe(`DELETE FROM ${this.applied} WHERE version = $1`, [version]);
  }

  async readApplied(db: Executor): Promise<AppliedRow[]> {
    if (!(await this.exists(db)).applied) return [];
    const rows = (await db.unsafe(
      `SELECT version::text AS version, name, checksum, applied_at, applied_by FROM ${this.applied} ORDER BY version`,
    )) as unknown as (Omit<AppliedRow, 'version'> & { version: string })[];
    return rows.map((r) => ({ ...r, version: Number(r.version) }));
  }
}
