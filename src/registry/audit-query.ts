// Reading the audit log back: `tenantctl audit [--tenant] [--action] [--since] [--limit]`.
import { sql as raw } from 'kysely';
import { registry, run, type Executor } from './db.js';

export interface AuditFilter {
  /** Rows of this tenant id. */
  tenantId?: string;
  /** An exact action (`tenant.freeze`) or a prefix ending in `.` or `.*` (`tenant.`, `apikey.*`). */
  action?: string;
  since?: Date;
  limit?: number;
}

export interface AuditRecord {
  id: string;
  created_at: Date;
  tenant_id: string | null;
  tenant_slug: string | null;
  actor_id: string | null;
  actor_name: string | null;
  actor_type: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  metadata: unknown;
  source_ip: string | null;
}

/** Newest first. */
export async function readAudit(db: Executor, schema: string, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  let q = registry(schema)
    .selectFrom('audit_log as a')
    .leftJoin('tenants as t', 't.id', 'a.tenant_id')
    .select([
      raw<string>`a.id::text`.as('id'),
      'a.created_at',
      'a.tenant_id',
      't.slug as tenant_slug',
      'a.actor_id',
      'a.actor_name',
      'a.actor_type',
      'a.action',
      'a.target_type',
      'a.target_id',
      'a.target_name',
      'a.metadata',
      raw<string | null>`host(a.source_ip)`.as('source_ip'),
    ])
    .orderBy('a.created_at', 'desc')
    .orderBy('a.id', 'desc');
  if (filter.tenantId !== undefined) q = q.where('a.tenant_id', '=', filter.tenantId);
  if (filter.action !== undefined) {
    const prefix = filter.action.endsWith('.*') ? filter.action.slice(0, -1) : filter.action.endsWith('.') ? filter.action : undefined;
    if (prefix !== undefined) q = q.where(raw<boolean>`left(a.action, ${prefix.length}) = ${prefix}`);
    else q = q.where('a.action', '=', filter.action);
  }
  if (filter.since !== undefined) q = q.where('a.created_at', '>=', filter.since);
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  const rows = (await run(db, q)) as AuditRecord[];
  return rows.map((r) => ({ ...r, metadata: typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata }));
}

/** `24h`, `30m`, `7d`, `2w`, `90s` before `now`, or an ISO 8601 date/time. */
export function parseSince(text: string, now = new Date()): Date {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(text.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(m[1]) * unit * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const d = new Date(text.trim());
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new Error(`--since must be a duration such as 30m, 24h, 7d or 2w, or an ISO date such as 2026-01-31, got "${text}"`);
}
