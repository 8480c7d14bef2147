/**
 * The webhook outbox: an event becomes one queued delivery per enabled endpoint of its account that
 * wants it, inserted in the caller's transaction. `mutate` (services/audit.ts) calls this with the
 * mutation's events, so a rolled-back change queues nothing and a committed one loses nothing; the
 * sweeper (services/webhooks.ts) calls it for time events.
 */
import { newUuid } from '../domain/ids.js';
import { endpointWants, eventPayload, type WebhookEvent, type WebhookEventType } from '../domain/webhooks.js';
import type { Db } from '../store/database.js';
import { insertDeliveries, listEndpoints, type DeliveryRow } from '../store/webhooks.js';
import type { ServiceAccount, Token } from '../domain/model.js';

export async function enqueueWebhookEvents(tx: Db, events: readonly WebhookEvent[], now: number): Promise<number> {
  let queued = 0;
  const byAccount = new Map<string, WebhookEvent[]>();
  for (const e of events) byAccount.set(e.accountId, [...(byAccount.get(e.accountId) ?? []), e]);
  for (const [accountId, list] of byAccount) {
    const endpoints = await listEndpoints(tx, accountId, true);
    if (endpoints.length === 0) continue;
    const rows: DeliveryRow[] = [];
    for (const e of list) {
      const eventId = `evt_${newUuid()}`;
      const payload = eventPayload(eventId, e, now);
      for (const ep of endpoints) {
        if (!endpointWants(JSON.parse(ep.events) as string[], e.type)) continue;
        rows.push({
          id: `msg_${newUuid()}`,
          event_id: eventId,
          endpoint_id: ep.id,
          account_id: accountId,
          event_type: e.type,
          payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          lease_until: null,
          last_status_code: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        });
      }
    }
    await insertDeliveries(tx, rows);
    queued += rows.length;
  }
  return queued;
}

/** What a token event says about its token: never the secret or its digest. */
export function tokenEventData(t: Pick<Token, 'id' | 'scope' | 'identifier' | 'apiKeyIdentifier' | 'apiKeyType' | 'parentIdentifier' | 'validTo'>): Record<string, unknown> {
  return {
    tokenId: t.id,
    identifier: t.identifier,
    apiKeyIdentifier: t.apiKeyIdentifier,
    apiKeyType: t.apiKeyType,
    parentIdentifier: t.parentIdentifier,
    orgIdentifier: t.scope.orgId,
    projectIdentifier: t.scope.projectId,
    validTo: t.validTo,
  };
}

export function tokenEvent(type: WebhookEventType, t: Parameters<typeof tokenEventData>[0], extra: Record<string, unknown> = {}): WebhookEvent {
  return { type, accountId: t.scope.accountId, data: { ...tokenEventData(t), ...extra } };
}

export function serviceAccountDeactivated(sa: ServiceAccount): WebhookEvent {
  return {
    type: 'service_account.deactivated',
    accountId: sa.scope.accountId,
    data: { identifier: sa.identifier, name: sa.name, email: sa.email, orgIdentifier: sa.scope.orgId, projectIdentifier: sa.scope.projectId },
  };
}
