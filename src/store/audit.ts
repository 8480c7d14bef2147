import type { Db } from './database.js';
import type { AuditEvent } from '../domain/model.js';
import type { AuditEventRow } from './schema.js';

const toEvent = (r: AuditEventRow): AuditEvent => ({
  id: r.id,
  accountId: r.account_id,
  orgId: r.org_id === '' ? null : r.org_id,
  projectId: r.project_id === '' ? null : r.project_id,
  at: r.at,
  actorType: r.actor_type,
  actorId: r.actor_id,
  action: r.action,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  outcome: r.outcome as AuditEvent['outcome'],
  details: JSON.parse(r.details) as Record<string, unknown>,
  requestId: r.request_id,
});

export async function insertAuditEvent(db: Db, e: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      id: e.id,
      account_id: e.accountId,
      org_id: e.orgId ?? '',
      project_id: e.projectId ?? '',
      at: e.at,
      actor_type: e.actorType,
      actor_id: e.actorId,
      action: e.action,
      resource_type: e.resourceType,
      resource_id: e.resourceId,
      outcome: e.outcome,
      details: JSON.stringify(e.details),
      request_id: e.requestId,
    })
    .execute();
}

export interface AuditFilter {
  accountId: string;
  actorId?: string | undefined;
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  /** Keyset cursor: events strictly older than this (at, id). */
  before?: { at: number; id: string } | undefined;
  limit: number;
}

/** Newest first, paged by a keyset cursor so that a page stays stable while events are written. */
export async function listAuditEvents(db: Db, f: AuditFilter): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll().where('account_id', '=', f.accountId);
  if (f.actorId) q = q.where('actor_id', '=', f.actorId);
  if (f.action) q = q.where('action', '=', f.action);
  if (f.resourceType) q = q.where('resource_type', '=', f.resourceType);
  if (f.resourceId) q = q.where('resource_id', '=', f.resourceId);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<=', f.to);
  if (f.before) {
    const b = f.before;
    q = q.where((eb) => eb.or([eb('at', '<', b.at), eb.and([eb('at', '=', b.at), eb('id', '<', b.id)])]));
  }
  const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  return rows.map(toEvent);
}
