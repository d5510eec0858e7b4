// apply never queues behind a long query (lock_timeout, bounded retries, then a clear failure that changed
// nothing), and two applies on one database serialise on an advisory lock.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLockKey } from '../../src/pg/advisory-lock.js';
import type { TestDatabase } from '../helpers/db.js';
import { applyFile, DEMO_POLICIES, demoDatabase } from '../helpers/demo.js';

let db: TestDatabase;
beforeAll(async () => (db = await demoDatabase('locks')));
afterAll(async () => db.drop());

async function policiesOnCustomers(): Promise<number> {
  const [row] = await db.sql`SELECT count(*)::int AS n FROM pg_policy WHERE polrelid = 'public.customers'::regclass`;
  return row?.['n'] as number;
}

describe('apply and locks', () => {
  it('a long query holding a lock on a governed table: bounded retries, then a failure that changed nothing', async () => {
    const reader = postgres(db.url, { max: 1, onnotice: () => {} });
    let release = (): void => {};
    const released = new Promise<void>((r) => (release = r));
    let locked = (): void => {};
    const holding = new Promise<void>((r) => (locked = r));
    try {
      const held = reader.begin(async (tx) => {
        await tx`SELECT count(*) FROM public.customers`; // holds ACCESS SHARE until the transaction ends
        locked();
        await released;
      });
      await holding;
      const r = await applyFile(db, DEMO_POLICIES, '--lock-timeout', '200ms', '--attempts', '2');
      release();
      await held;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('a table lock was not granted within the lock timeout (attempt 1 of 2); retrying');
      expect(r.stderr).toMatch(/error: canceling statement due to lock timeout after 2 attempts \(--lock-timeout 200ms\): a long-running query holds a lock on a governed table\. Nothing was changed/);
      expect(await policiesOnCustomers()).toBe(0);
      const [rls] = await db.sql`SELECT relrowsecurity FROM pg_class WHERE oid = 'public.customers'::regclass`;
      expect(rls?.['relrowsecurity']).toBe(false);
    } finally {
      release();
      await reader.end();
    }
  }, 60_000);

  it('a second apply waits for the advisory lock and gives up naming the holder', async () => {
    const holder = postgres(db.url, { max: 1, onnotice: () => {} });
    let release = (): void => {};
    const released = new Promise<void>((r) => (release = r));
    let locked = (pid: number): void => void pid;
    const holding = new Promise<number>((r) => (locked = r));
    try {
      const held = holder.begin(async (tx) => {
        const [row] = await tx`SELECT pg_advisory_xact_lock(${applyLockKey(db.name).toString()}::bigint), pg_backend_pid() AS pid`;
        locked(row?.['pid'] as number);
        await released;
      });
      const pid = await holding;
      const r = await applyFile(db, DEMO_POLICIES, '--lock-timeout', '300ms');
      release();
      await held;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: tenantctl apply on this database is locked by backend pid ${pid}`);
      expect(await policiesOnCustomers()).toBe(0);
      // Once the holder is gone, the same apply goes through.
      const ok = await applyFile(db, DEMO_POLICIES);
      expect(ok.code).toBe(0);
      expect(await policiesOnCustomers()).toBe(1);
    } finally {
      release();
      await holder.end();
    }
  }, 60_000);
});
