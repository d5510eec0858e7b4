import { sql as raw } from 'kysely';
import { userInfo } from 'node:os';
import { ident } from '../pg/quote.js';
import { registry, run, type Executor } from './db.js';

export type AuditAction =
  | 'migrate.up' | 'migrate.down' | 'migrate.force' | 'policy.apply'
  | 'tenant.create' | 'tenant.freeze' | 'tenant.unfreeze' | 'tenant.archive' | 'tenant.quota'
  | 'tenant.export' | 'tenant.import' | 'tenant.purge' | 'apikey.create' | 'apikey.revoke'
  | 'tenant.project.create' | 'tenant.project.archive' | 'tenant.product.enable' | 'tenant.product.disable';

export interface AuditEntry {
  action: AuditAction;
  targetType: string;
  targetId?: string;
  targetName?: string;
  tenantId?: string | null;
  projectId?: string | null;
  /** user | service | system (default system). */
  actorType?: string;
  /** Counts and hashes, never secrets. */
  metadata?: Record<string, unknown>;
}

/** Who runs tenantctl: the OS user, recorded next to the database role (current_user). */
function actorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

/** Insert one audit_log row in the caller's transaction. */
export async function recordAudit(db: Executor, schema: string, entry: AuditEntry): Promise<void> {
  await run(
    db,
    registry(schema)
      .insertInto('audit_log')
      .values({
        tenant_id: entry.tenantId ?? null,
        project_id: entry.projectId ?? null,
        actor_id: raw<string>`current_user`,
        actor_name: actorName(),
        actor_type: entry.actorType ?? 'system',
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId ?? null,
        target_name: entry.targetName ?? null,
        metadata: raw<string>`${JSON.stringify({ tool: 'tenantctl', ...entry.metadata })}::text::jsonb`,
        // The client address as the server sees this connection (NULL over a Unix socket).
        source_ip: raw<string>`inet_client_addr()`,
        user_agent: 'tenantctl',
      }),
  );
}

/** True when the registry's audit_log exists (the registry is migrated), seen from this transaction. */
export async function auditLogExists(db: Executor, schema: string): Promise<boolean> {
  const rows = (await db.unsafe(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${ident(schema)}.audit_log`])) as unknown as {
    present: boolean;
  }[];
  return rows[0]?.present === true;
}
