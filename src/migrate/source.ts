// A folder of migrations in golang-migrate's format: NNNNNN_name.up.sql and NNNNNN_name.down.sql.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MigrationFile {
  readonly path: string;
  readonly sql: string;
  /** sha256 of the file's bytes, hex. */
  readonly checksum: string;
  /** The file starts with `-- tenantctl:no-transaction`: run statement by statement, outside a transaction. */
  readonly noTransaction: boolean;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: MigrationFile;
  readonly down?: MigrationFile;
}

export class MigrationSourceError extends Error {
  override name = 'MigrationSourceError';
}

const FILE = /^(\d+)_([A-Za-z0-9_.-]+)\.(up|down)\.sql$/;
const NO_TRANSACTION = /^\s*--\s*tenantctl:no-transaction\b/;

/** The registry migrations shipped inside the package, found relative to this file, not the working directory. */
export function packagedMigrationsDir(): string {
  // dist/migrate/source.js and src/migrate/source.ts both sit two levels below the package root.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');
}

export function readMigrationFile(path: string): MigrationFile {
  const bytes = readFileSync(path);
  const sql = bytes.toString('utf8');
  return {
    path,
    sql,
    checksum: createHash('sha256').update(bytes).digest('hex'),
    noTransaction: NO_TRANSACTION.test(sql),
  };
}

/** Every migration in `dir`, sorted by version. Anything malformed is an error naming the file. */
export function loadMigrations(dir: string): Migration[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new MigrationSourceError(`migrations folder ${dir} is not a directory`);
    entries = readdirSync(dir);
  } catch (e) {
    if (e instanceof MigrationSourceError) throw e;
    throw new MigrationSourceError(`migrations folder ${dir} does not exist or cannot be read`);
  }
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const entry of entries.sort()) {
    if (!entry.endsWith('.sql')) continue;
    const m = FILE.exec(entry);
    if (!m) {
      throw new MigrationSourceError(
        `${join(dir, entry)}: not a migration file name; expected NNNNNN_name.up.sql or NNNNNN_name.down.sql`,
      );
    }
    const [, digits, name, direction] = m as unknown as [string, string, string, 'up' | 'down'];
    const version = Number(digits);
    if (!Number.isSafeInteger(version)) throw new MigrationSourceError(`${join(dir, entry)}: version ${digits} is too large`);
    const slot = byVersion.get(version) ?? { name };
    if (slot.name !== name) {
      throw new MigrationSourceError(`${join(dir, entry)}: version ${version} is also used by "${slot.name}"`);
    }
    if (slot[direction] !== undefined) {
      throw new MigrationSourceError(`${join(dir, entry)}: a second ${direction} file for version ${version}`);
    }
    slot[direction] = join(dir, entry);
    byVersion.set(version, slot);
  }
  const migrations: Migration[] = [];
  for (const [version, slot] of [...byVersion].sort((a, b) => a[0] - b[0])) {
    if (slot.up === undefined) throw new MigrationSourceError(`${slot.down}: no matching .up.sql file`);
    migrations.push({
      version,
      name: slot.name,
      up: readMigrationFile(slot.up),
      ...(slot.down === undefined ? {} : { down: readMigrationFile(slot.down) }),
    });
  }
  if (migrations.length === 0) throw new MigrationSourceError(`migrations folder ${dir} holds no migrations`);
  return migrations;
}

export function fileLabel(m: Migration, direction: 'up' | 'down'): string {
  return `${String(m.version).padStart(6, '0')}_${m.name}.${direction}.sql`;
}
