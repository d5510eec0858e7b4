import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMigrations, MigrationSourceError } from './source.js';

/** Write the next NNNNNN_name.up.sql / .down.sql pair in `dir` (golang-migrate's `create -seq -digits 6`). */
export function createMigration(dir: string, rawName: string): { up: string; down: string; version: number } {
  const name = rawName.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (!/^[a-z0-9][a-z0-9_]*$/.test(name)) {
    throw new MigrationSourceError(`invalid migration name "${rawName}": use letters, digits and underscores`);
  }
  mkdirSync(dir, { recursive: true });
  let last = 0;
  try {
    const existing = loadMigrations(dir);
    last = existing[existing.length - 1]?.version ?? 0;
  } catch (e) {
    if (!(e instanceof MigrationSourceError && e.message.endsWith('holds no migrations'))) throw e;
  }
  const version = last + 1;
  const base = `${String(version).padStart(6, '0')}_${name}`;
  const up = join(dir, `${base}.up.sql`);
  const down = join(dir, `${base}.down.sql`);
  for (const path of [up, down]) if (existsSync(path)) throw new MigrationSourceError(`${path} already exists`);
  writeFileSync(up, `-- ${base}: what this migration does and why.\n-- Runs in one transaction with its bookkeeping. Start the file with\n-- "-- tenantctl:no-transaction" for statements such as CREATE INDEX CONCURRENTLY.\n\n`);
  writeFileSync(down, `-- Undo ${base}.up.sql.\n\n`);
  return { up, down, version };
}
