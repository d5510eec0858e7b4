// Session-level advisory locks with a deadline, and the pid of whoever holds the lock when we give up.
import { crc32 } from 'node:zlib';
import type { TransactionSql } from 'postgres';
import type { Sql } from './connect.js';

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
  constructor(
    message: string,
    readonly holderPid: number | undefined,
  ) {
    super(message);
  }
}

/**
 * golang-migrate's key for its postgres driver (database/util.go GenerateAdvisoryLockId): crc32 of
 * "schema\0table\0database" times a salt, as an unsigned 32-bit number. Using the same key makes
 * tenantctl and the Go tool wait for each other on the same registry.
 */
export function migrateLockKey(database: string, schema: string, table = 'schema_migrations'): bigint {
  const sum = crc32(Buffer.from([schema, table, database].join('\u0000'), 'utf8'));
  return BigInt(Math.imul(sum, 1486364155) >>> 0);
}

export interface LockOptions {
  timeoutMs: number;
  /** 'transaction': pg_try_advisory_xact_lock, released at commit or rollback (no release function needed). */
  scope?: 'session' | 'transaction';
  /** Describes what the lock protects, for the error message. */
  what: string;
  pollMs?: number;
}

/**
 * Take `pg_advisory_lock(key)` on the connection behind `sql` (which must have max: 1, so that the lock and
 * the work that follows share one session). Polls pg_try_advisory_lock until the deadline.
 */
export async function acquireAdvisoryLock(sql: Sql | TransactionSql, key: bigint, options: LockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + options.timeoutMs;
  const poll = options.pollMs ?? 100;
  const xact = options.scope === 'transaction';
  for (;;) {
    const [row] = xact
      ? await sql<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${key.toString()}::bigint) AS locked`
      : await sql<{ locked: boolean }[]>`SELECT pg_try_advisory_lock(${key.toString()}::bigint) AS locked`;
    if (row?.locked) {
      if (xact) return async () => {};
      return async () => {
        await sql`SELECT pg_advisory_unlock(${key.toString()}::bigint)`;
      };
    }
    if (Date.now() >= deadline) {
      const holder = await lockHolder(sql, key);
      const who = holder
        ? `backend pid ${holder.pid}${holder.application ? ` (${holder.application}` + (holder.user ? `, user ${holder.user})` : ')') : ''}`
        : 'another session';
      throw new LockTimeoutError(
        `${options.what} is locked by ${who}; gave up after ${formatDuration(options.timeoutMs)} (--lock-timeout)`,
        holder?.pid,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(1, deadline - Date.now()))));
  }
}

async function lockHolder(sql: Sql | TransactionSql, key: bigint): Promise<{ pid: number; application: string; user: string } | undefined> {
  const classid = Number(key >> 32n);
  const objid = Number(key & 0xffffffffn);
  const [row] = await sql<{ pid: number; application: string; user: string }[]>`
    SELECT l.pid, coalesce(a.application_name, '') AS application, coalesce(a.usename::text, '') AS user
      FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = ${classid}::oid AND l.objid = ${objid}::oid AND l.objsubid = 1
     LIMIT 1`;
  return row;
}

/** The key of `tenantctl apply` in one database: applies of different files serialise. */
export function applyLockKey(database: string): bigint {
  return BigInt(Math.imul(crc32(Buffer.from(`tenantctl apply\u0000${database}`, 'utf8')), 1486364155) >>> 0) | (1n << 32n);
}

/** Parse `15s`, `500ms`, `2m`, or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}"; expected e.g. 500ms, 15s or 2m`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000);
}

export function formatDuration(ms: number): string {
  return ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
