/**
 * Lifecycle webhooks' tables (migration 0012): endpoints, the delivery queue, the attempt log and
 * the announcements of time events. The rules (who may, what is sent when) are in
 * src/services/webhooks.ts.
 */
import { sql } from 'kysely';
import type { Db, Store } from './database.js';
import type { WebhookAttemptTable, WebhookDeliveryTable, WebhookEndpointTable } from './schema.js';
import type { Selectable } from 'kysely';

export type EndpointRow = Selectable<WebhookEndpointTable>;
export type DeliveryRow = Selectable<WebhookDeliveryTable>;
export type AttemptRow = Selectable<WebhookAttemptTable>;

export async function insertEndpoint(db: Db, row: EndpointRow): Promise<void> {
  await db.insertInto('webhook_endpoints').values(row).execute();
}

export async function getEndpoint(db: Db, accountId: string, id: string): Promise<EndpointRow | null> {
  const r = await db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return r ?? null;
}

export async function getEndpointById(db: Db, id: string): Promise<EndpointRow | null> {
  return (await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function listEndpoints(db: Db, accountId: string, enabledOnly = false): Promise<EndpointRow[]> {
  let q = db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId);
  if (enabledOnly) q = q.where('enabled', '=', 1);
  return q.orderBy('created_at').orderBy('id').execute();
}

export async function allEndpointSecrets(db: Db): Promise<Array<Pick<EndpointRow, 'id' | 'secret_sealed' | 'updated_at'>>> {
  return db.selectFrom('webhook_endpoints').select(['id', 'secret_sealed', 'updated_at']).execute();
}

export async function updateEndpoint(
  db: Db,
  id: string,
  patch: Partial<Pick<EndpointRow, 'url' | 'description' | 'events' | 'enabled' | 'secret_sealed'>> & { updated_at: number },
): Promise<void> {
  await db.updateTable('webhook_endpoints').set(patch).where('id', '=', id).execute();
}

export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

export async function insertDeliveries(db: Db, rows: DeliveryRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

/**
 * Takes up to `limit` due deliveries for this node until `leaseUntil`. On PostgreSQL the rows are
 * selected `FOR UPDATE SKIP LOCKED` in one transaction with the lease, so two nodes claiming at once
 * take different rows; a node that dies mid-send leaves a lease that runs out, and the delivery is
 * taken again (at least once). SQLite is one node: its transactions run one at a time.
 */
export async function claimDueDeliveries(store: Store, now: number, leaseUntil: number, limit: number): Promise<DeliveryRow[]> {
  return store.transaction(async (tx) => {
    let q = tx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(limit);
    if (store.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const rows = await q.execute();
    if (rows.length === 0) return [];
    await tx.updateTable('webhook_deliveries').set({ lease_until: leaseUntil }).where('id', 'in', rows.map((r) => r.id)).execute();
    return rows.map((r) => ({ ...r, lease_until: leaseUntil }));
  });
}

/** Records an attempt and the delivery's new state, only while this node still holds the lease. */
export async function finishAttempt(
  store: Store,
  d: { id: string; leaseUntil: number },
  attempt: AttemptRow,
  next: { status: 'pending' | 'succeeded' | 'failed'; nextAttemptAt: number; at: number },
): Promise<boolean> {
  return store.transaction(async (tx) => {
    const r = await tx
      .updateTable('webhook_deliveries')
      .set({
        status: next.status,
        attempts: attempt.attempt,
        next_attempt_at: next.nextAttemptAt,
        lease_until: null,
        last_status_code: attempt.status_code,
        last_error: attempt.error,
        updated_at: next.at,
      })
      .where('id', '=', d.id)
      .where('lease_until', '=', d.leaseUntil)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return false;
    await tx.insertInto('webhook_attempts').values(attempt).execute();
    return true;
  });
}

export async function listAttempts(db: Db, endpointId: string, limit: number): Promise<Array<AttemptRow & { event_type: string }>> {
  return db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .selectAll('a')
    .select('d.event_type')
    .where('a.endpoint_id', '=', endpointId)
    .orderBy('a.at', 'desc')
    .orderBy('a.attempt', 'desc')
    .limit(limit)
    .execute();
}

export async function listDeliveries(db: Db, endpointId: string, limit: number): Promise<DeliveryRow[]> {
  return db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Queues a delivery of this endpoint again, now, with a fresh attempt budget; false when there is none. */
export async function requeueDelivery(db: Db, endpointId: string, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, created_at: now, updated_at: now })
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records that (token, event, lead) was announced; false when some node already did. */
export async function claimAnnouncement(db: Db, tokenId: string, event: string, leadMs: number, at: number): Promise<boolean> {
  const r = await db
    .insertInto('webhook_announcements')
    .values({ token_id: tokenId, event, lead_ms: leadMs, at })
    .onConflict((oc) => oc.columns(['token_id', 'event', 'lead_ms']).doNothing())
    .returning('token_id')
    .execute();
  return r.length === 1;
}

export interface SweptToken {
  id: string;
  account_id: string;
  org_id: string;
  project_id: string;
  identifier: string;
  api_key_identifier: string;
  api_key_type: string;
  parent_identifier: string;
  valid_to: number | null;
  last_used_at: number | null;
  created_at: number;
}

const SWEPT = ['t.id', 't.account_id', 't.org_id', 't.project_id', 't.identifier', 't.api_key_identifier', 't.api_key_type', 't.parent_identifier', 't.valid_to', 't.last_used_at', 't.created_at'] as const;

/**
 * Tokens of accounts with an enabled endpoint, not rotated out or revoked, that match `when` and
 * whose (event, lead) is not announced yet. Bounded per sweep.
 */
export async function tokensToAnnounce(
  db: Db,
  event: string,
  leadMs: number,
  when: { validToBefore: number; validToAfter?: number } | { idleSince: number; stillValidAt: number },
  limit: number,
): Promise<SweptToken[]> {
  let q = db
    .selectFrom('tokens as t')
    .select(SWEPT)
    .where('t.scheduled_expire_at', 'is', null)
    .where('t.account_id', 'in', (eb) => eb.selectFrom('webhook_endpoints').select('account_id').where('enabled', '=', 1))
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('webhook_announcements as a').select('a.token_id').whereRef('a.token_id', '=', 't.id').where('a.event', '=', event).where('a.lead_ms', '=', leadMs))),
    );
  if ('idleSince' in when) {
    // An expired token is announced as expired, not as unused.
    q = q
      .where(sql<boolean>`coalesce(t.last_used_at, t.created_at) < ${when.idleSince}`)
      .where((eb) => eb.or([eb('t.valid_to', 'is', null), eb('t.valid_to', '>', when.stillValidAt)]));
  } else {
    q = q.where('t.valid_to', 'is not', null).where('t.valid_to', '<=', when.validToBefore);
    if (when.validToAfter !== undefined) q = q.where('t.valid_to', '>', when.validToAfter);
  }
  return (await q.limit(limit).execute()) as SweptToken[];
}

/** Drops the log and finished deliveries older than `before`, and announcements of tokens long gone. */
export async function pruneWebhooks(db: Db, before: number): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('status', '!=', 'pending').where('updated_at', '<', before).execute();
  await db.deleteFrom('webhook_attempts').where('at', '<', before).execute();
  await db
    .deleteFrom('webhook_announcements')
    .where('at', '<', before)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('tokens').select('id').whereRef('tokens.id', '=', 'webhook_announcements.token_id'))))
    .execute();
}
