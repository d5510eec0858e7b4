// Fresh databases on the run's shared server (see global-setup.ts).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { ident } from '../../src/pg/quote.js';

export interface TestDatabase {
  readonly name: string;
  /** Superuser URL of this database. */
  readonly url: string;
  /** A superuser connection to this database. */
  readonly sql: postgres.Sql;
  /** URL of this database for another login (password authentication over TCP, as psql does). */
  urlFor(user: string, password: string): string;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return inject('pgAdminUrl');
}

export async function freshDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${ident(name)}`);
  } finally {
    await admin.end();
  }
  return openDatabase(name);
}

/** `url` with another user and password (both percent-encoded). */
export function userUrl(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** A TestDatabase for a database that already exists on the run's server (dropped by drop()). */
export function openDatabase(name: string): TestDatabase {
  const url = withDatabase(adminUrl(), name);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  return {
    name,
    url,
    sql,
    urlFor: (user, password) => userUrl(url, user, password),
    drop: async () => {
      await sql.end();
      const a = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}
