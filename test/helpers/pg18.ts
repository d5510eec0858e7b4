import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** PostgreSQL 18 server binaries from the pg18-server optional dependency (linux-x64 only). */
export const PG18_BIN_DIR = fileURLToPath(new URL('../../node_modules/pg18-server/native/bin', import.meta.url));
export const HAVE_PG18 = existsSync(`${PG18_BIN_DIR}/initdb`);
