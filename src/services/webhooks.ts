/**
 * Lifecycle webhooks (docs/webhooks.md): an account's endpoints (managed with core_account_edit,
 * read with core_account_view), the delivery of queued events (`WebhookDispatcher`) and the sweep
 * that raises time events (`WebhookSweeper`). Events of mutations are queued by `mutate` itself
 * (services/webhookEvents.ts).
 */
import { Webhook } from 'standardwebhooks';
import { InvalidArgumentError, NotFoundError } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import type { Keyring } from '../domain/masterKey.js';
import { P } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import {
  checkWebhookUrl,
  DEFAULT_EXPIRING_LEADS_MS,
  DEFAULT_RETRY,
  DEFAULT_UNUSED_AFTER_MS,
  newWebhookSecret,
  nextAttemptAt,
  WEBHOOK_EVENTS,
  type RetryPolicy,
  type WebhookEventType,
} from '../domain/webhooks.js';
import type { Store } from '../store/database.js';
import * as store from '../store/webhooks.js';
import type { AccessCheck, Caller, ServiceContext } from './context.js';
import { mutate } from './audit.js';
import { enqueueWebhookEvents, tokenEvent } from './webhookEvents.js';
import { sendWebhook, type SendOptions } from './webhookSender.js';
import { rowScope } from '../store/rows.js';
import type { ApiKeyType } from '../domain/tokens.js';

export interface WebhookEndpoint {
  id: string;
  accountId: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface EndpointInput {
  url: string;
  description?: string | undefined;
  events?: string[] | undefined;
  enabled?: boolean | undefined;
}

export interface DeliveryAttempt {
  deliveryId: string;
  eventType: string;
  attempt: number;
  at: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

const MAX_ENDPOINTS_PER_ACCOUNT = 20;
const RESOURCE_WEBHOOK = 'WEBHOOK';

function toEndpoint(r: store.EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    accountId: r.account_id,
    url: r.url,
    description: r.description,
    events: JSON.parse(r.events) as WebhookEventType[],
    enabled: r.enabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The additional data bound into an endpoint's sealed secret, so a sealed value cannot be moved to another row. */
const secretAad = (endpointId: string) => `webhook_endpoint:${endpointId}`;

function checkInput(input: EndpointInput): { url: string; description: string; events: WebhookEventType[] } {
  const violations: Array<{ field: string; message: string }> = [];
  const urlProblem = typeof input.url === 'string' ? checkWebhookUrl(input.url) : 'is required';
  if (urlProblem) violations.push({ field: 'url', message: urlProblem });
  const description = input.description ?? '';
  if (description.length > 1024) violations.push({ field: 'description', message: 'must be at most 1024 characters' });
  const events = [...new Set(input.events ?? [])];
  const unknown = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) violations.push({ field: 'events', message: `unknown event ${unknown.join(', ')}; known: ${WEBHOOK_EVENTS.join(', ')}` });
  if (violations.length > 0) throw new InvalidArgumentError(violations.map((v) => `${v.field}: ${v.message}`).join(', '), violations);
  return { url: input.url, description, events: events as WebhookEventType[] };
}

export class WebhookService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessCheck,
    private readonly keyring: () => Keyring,
  ) {}

  private async canManage(caller: Caller, accountId: string): Promise<void> {
    await this.access.require(caller, P.accountEdit, { type: RESOURCE_WEBHOOK, identifier: null }, makeScope(accountId));
  }

  private async canView(caller: Caller, accountId: string): Promise<void> {
    await this.access.require(caller, P.accountView, { type: RESOURCE_WEBHOOK, identifier: null }, makeScope(accountId));
  }

  private async mustGet(accountId: string, id: string): Promise<store.EndpointRow> {
    const r = await store.getEndpoint(this.ctx.store.db, accountId, id);
    if (!r) throw new NotFoundError(`Webhook endpoint [${id}] does not exist in account [${accountId}]`, RESOURCE_WEBHOOK, id);
    return r;
  }

  /** Creates an endpoint; its signing secret is returned here (and by `rotateSecret`) only. */
  async create(caller: Caller, accountId: string, input: EndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const clean = checkInput(input);
    await this.canManage(caller, accountId);
    const id = `we_${newUuid()}`;
    const secret = newWebhookSecret();
    const sealed = this.keyring().seal(secret, secretAad(id));
    return mutate(this.ctx, caller, { action: 'webhook.create', resourceType: RESOURCE_WEBHOOK, resourceId: id, scope: makeScope(accountId) }, async (tx) => {
      const existing = await store.listEndpoints(tx, accountId);
      if (existing.length >= MAX_ENDPOINTS_PER_ACCOUNT) throw InvalidArgumentError.field('url', `an account has at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints`);
      const now = this.ctx.clock.now();
      const row: store.EndpointRow = {
        id,
        account_id: accountId,
        url: clean.url,
        description: clean.description,
        events: JSON.stringify(clean.events),
        enabled: input.enabled === false ? 0 : 1,
        secret_sealed: sealed,
        created_at: now,
        updated_at: now,
      };
      await store.insertEndpoint(tx, row);
      return { result: { endpoint: toEndpoint(row), secret }, details: { url: clean.url, events: clean.events } };
    });
  }

  async list(caller: Caller, accountId: string): Promise<WebhookEndpoint[]> {
    await this.canView(caller, accountId);
    return (await store.listEndpoints(this.ctx.store.db, accountId)).map(toEndpoint);
  }

  async get(caller: Caller, accountId: string, id: string): Promise<WebhookEndpoint> {
    await this.canView(caller, accountId);
    return toEndpoint(await this.mustGet(accountId, id));
  }

  async update(caller: Caller, accountId: string, id: string, input: Partial<EndpointInput>): Promise<WebhookEndpoint> {
    await this.canManage(caller, accountId);
    const current = toEndpoint(await this.mustGet(accountId, id));
    const clean = checkInput({ url: input.url ?? current.url, description: input.description ?? current.description, events: input.events ?? current.events });
    return mutate(this.ctx, caller, { action: 'webhook.update', resourceType: RESOURCE_WEBHOOK, resourceId: id, scope: makeScope(accountId) }, async (tx) => {
      const now = this.ctx.clock.now();
      const enabled = input.enabled ?? current.enabled;
      await store.updateEndpoint(tx, id, { url: clean.url, description: clean.description, events: JSON.stringify(clean.events), enabled: enabled ? 1 : 0, updated_at: now });
      return { result: { ...current, ...clean, enabled, updatedAt: now }, details: { url: clean.url, events: clean.events, enabled } };
    });
  }

  async delete(caller: Caller, accountId: string, id: string): Promise<void> {
    await this.canManage(caller, accountId);
    await this.mustGet(accountId, id);
    await mutate(this.ctx, caller, { action: 'webhook.delete', resourceType: RESOURCE_WEBHOOK, resourceId: id, scope: makeScope(accountId) }, async (tx) => {
      await store.deleteEndpoint(tx, id); // its deliveries and their attempts follow by cascade
      return { result: undefined };
    });
  }

  /** A new signing secret, returned once; deliveries from now on are signed with it. */
  async rotateSecret(caller: Caller, accountId: string, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    await this.canManage(caller, accountId);
    const current = toEndpoint(await this.mustGet(accountId, id));
    const secret = newWebhookSecret();
    const sealed = this.keyring().seal(secret, secretAad(id));
    return mutate(this.ctx, caller, { action: 'webhook.rotate_secret', resourceType: RESOURCE_WEBHOOK, resourceId: id, scope: makeScope(accountId) }, async (tx) => {
      const now = this.ctx.clock.now();
      await store.updateEndpoint(tx, id, { secret_sealed: sealed, updated_at: now });
      return { result: { endpoint: { ...current, updatedAt: now }, secret } };
    });
  }

  /** The endpoint's last attempts, newest first. */
  async attempts(caller: Caller, accountId: string, id: string, limit: number): Promise<DeliveryAttempt[]> {
    await this.canView(caller, accountId);
    await this.mustGet(accountId, id);
    return (await store.listAttempts(this.ctx.store.db, id, limit)).map((a) => ({
      deliveryId: a.delivery_id,
      eventType: a.event_type,
      attempt: a.attempt,
      at: a.at,
      statusCode: a.status_code,
      durationMs: a.duration_ms,
      error: a.error,
      responseExcerpt: a.response_excerpt,
    }));
  }

  /** The endpoint's last deliveries (one per event), newest first. */
  async deliveries(caller: Caller, accountId: string, id: string, limit: number): Promise<Delivery[]> {
    await this.canView(caller, accountId);
    await this.mustGet(accountId, id);
    return (await store.listDeliveries(this.ctx.store.db, id, limit)).map((d) => ({
      id: d.id,
      eventId: d.event_id,
      eventType: d.event_type,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.next_attempt_at,
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      createdAt: d.created_at,
      updatedAt: d.updated_at,
    }));
  }

  /** Queues a delivery again, at once, with the same `webhook-id` (receivers deduplicate on it). */
  async replay(caller: Caller, accountId: string, endpointId: string, deliveryId: string): Promise<void> {
    await this.canManage(caller, accountId);
    await this.mustGet(accountId, endpointId);
    await mutate(this.ctx, caller, { action: 'webhook.replay', resourceType: RESOURCE_WEBHOOK, resourceId: endpointId, scope: makeScope(accountId) }, async (tx) => {
      if (!(await store.requeueDelivery(tx, endpointId, deliveryId, this.ctx.clock.now()))) {
        throw new NotFoundError(`Delivery [${deliveryId}] does not exist for webhook endpoint [${endpointId}]`, 'WEBHOOK_DELIVERY', deliveryId);
      }
      return { result: undefined, details: { deliveryId } };
    });
  }

  /** Master-key rotation: re-seals every endpoint secret sealed under an older key (docs/security.md). */
  async reseal(): Promise<{ resealed: number; total: number }> {
    const ring = this.keyring();
    return this.ctx.store.transaction(async (tx) => {
      const rows = await store.allEndpointSecrets(tx);
      let resealed = 0;
      for (const r of rows) {
        if (!ring.isStale(r.secret_sealed)) continue;
        const sealed = ring.seal(ring.open(r.secret_sealed, secretAad(r.id)), secretAad(r.id));
        await store.updateEndpoint(tx, r.id, { secret_sealed: sealed, updated_at: r.updated_at });
        resealed++;
      }
      return { resealed, total: rows.length };
    });
  }

  /** The signing secret, opened for a send. Never logged, never returned by a read. */
  openSecret(row: store.EndpointRow): string {
    return this.keyring().open(row.secret_sealed, secretAad(row.id));
  }
}

export interface DispatcherOptions extends SendOptions {
  retry: RetryPolicy;
  /** How long a claimed delivery is this node's; past it another node may take it. */
  leaseMs: number;
  /** Deliveries claimed per round (sent concurrently). */
  batch: number;
}

export const DEFAULT_DISPATCHER: DispatcherOptions = { retry: DEFAULT_RETRY, leaseMs: 60_000, batch: 10, timeoutMs: 10_000, allowPrivate: true };

/** Sends due deliveries: claim (with a lease), sign, POST, record the attempt, schedule a retry or finish. */
export class WebhookDispatcher {
  constructor(
    private readonly storeRef: Store,
    private readonly ctx: ServiceContext,
    private readonly webhooks: WebhookService,
    private readonly opts: DispatcherOptions,
  ) {}

  private running: Promise<number> | null = null;

  /** One round; returns how many deliveries were attempted. Rounds never overlap on a node. */
  async runOnce(): Promise<number> {
    if (this.stopped) return 0;
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Rounds back to back while they find a full batch (at most `maxRounds`): a backlog is not held to one batch per interval. */
  async drain(maxRounds = 100): Promise<number> {
    let sent = 0;
    for (let i = 0; i < maxRounds; i++) {
      const n = await this.runOnce();
      sent += n;
      if (n < this.opts.batch) break;
    }
    return sent;
  }

  private stopped = false;

  /** No more rounds; waits for the one in progress (before the store closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async round(): Promise<number> {
    const now = this.ctx.clock.now();
    const leaseUntil = now + this.opts.leaseMs + Math.floor(Math.random() * 1000);
    const due = await store.claimDueDeliveries(this.storeRef, now, leaseUntil, this.opts.batch);
    await Promise.all(due.map((d) => this.attempt(d, leaseUntil)));
    return due.length;
  }

  private async attempt(d: store.DeliveryRow, leaseUntil: number): Promise<void> {
    const endpoint = await store.getEndpointById(this.storeRef.db, d.endpoint_id);
    const attemptNo = d.attempts + 1;
    let result: { statusCode: number | null; durationMs: number; error: string | null; excerpt: string | null };
    if (!endpoint) return;
    if (endpoint.enabled !== 1) {
      result = { statusCode: null, durationMs: 0, error: 'endpoint disabled', excerpt: null };
    } else {
      let secret: string | null = null;
      try {
        secret = this.webhooks.openSecret(endpoint);
      } catch (e) {
        result = { statusCode: null, durationMs: 0, error: `signing secret unavailable: ${(e as Error).message}`, excerpt: null };
      }
      if (secret !== null) {
        // Wall-clock time, not the service clock: receivers compare it with their own clock to refuse replays.
        const sentAt = new Date();
        const signature = new Webhook(secret).sign(d.id, sentAt, d.payload);
        result = await sendWebhook(
          endpoint.url,
          { 'webhook-id': d.id, 'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)), 'webhook-signature': signature },
          d.payload,
          this.opts,
        );
      }
    }
    const r = result!;
    const now = this.ctx.clock.now();
    const ok = r.error === null;
    const retryAt = ok ? null : nextAttemptAt(this.opts.retry, attemptNo, d.created_at, now);
    await store.finishAttempt(
      this.storeRef,
      { id: d.id, leaseUntil },
      {
        id: newUuid(),
        delivery_id: d.id,
        endpoint_id: d.endpoint_id,
        attempt: attemptNo,
        at: now,
        status_code: r.statusCode,
        duration_ms: r.durationMs,
        error: r.error === null ? null : r.error.slice(0, 512),
        response_excerpt: r.excerpt,
      },
      { status: ok ? 'succeeded' : retryAt === null ? 'failed' : 'pending', nextAttemptAt: retryAt ?? now, at: now },
    );
  }
}

export interface SweeperOptions {
  expiringLeadsMs: number[];
  unusedAfterMs: number;
  /** Tokens announced per event kind per sweep. */
  batch: number;
}

export const DEFAULT_SWEEPER: SweeperOptions = { expiringLeadsMs: DEFAULT_EXPIRING_LEADS_MS, unusedAfterMs: DEFAULT_UNUSED_AFTER_MS, batch: 500 };

/**
 * Time events: token.expiring (once per lead time), token.expired and token.unused (once each). Each
 * is claimed by inserting its (token, event, lead) row in the transaction that queues it: of several
 * nodes sweeping at once one inserts and the others find the row and skip, so nothing is sent twice.
 */
export class WebhookSweeper {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly opts: SweeperOptions,
  ) {}

  async runOnce(): Promise<number> {
    const now = this.ctx.clock.now();
    let queued = 0;
    const leads = [...this.opts.expiringLeadsMs].sort((a, b) => a - b);
    for (const [i, lead] of leads.entries()) {
      // A lead is announced while the end is between the next shorter lead and it: a token made 2 days
      // before its end gets no 7-day notice, and its 1-day notice when that is due.
      const after = now + (i === 0 ? 0 : leads[i - 1]!);
      queued += await this.announce('token.expiring', lead, { validToBefore: now + lead, validToAfter: after }, now, (t) => ({ leadMs: lead, expiresAt: t.valid_to }));
    }
    queued += await this.announce('token.expired', 0, { validToBefore: now }, now, (t) => ({ expiredAt: t.valid_to }));
    if (this.opts.unusedAfterMs > 0) {
      queued += await this.announce('token.unused', this.opts.unusedAfterMs, { idleSince: now - this.opts.unusedAfterMs, stillValidAt: now }, now, (t) => ({ lastUsedAt: t.last_used_at, unusedForMs: this.opts.unusedAfterMs }));
    }
    return queued;
  }

  private async announce(
    event: WebhookEventType,
    leadMs: number,
    when: Parameters<typeof store.tokensToAnnounce>[3],
    now: number,
    extra: (t: store.SweptToken) => Record<string, unknown>,
  ): Promise<number> {
    const due = await store.tokensToAnnounce(this.ctx.store.db, event, leadMs, when, this.opts.batch);
    let queued = 0;
    for (const t of due) {
      queued += await this.ctx.store.transaction(async (tx) => {
        if (!(await store.claimAnnouncement(tx, t.id, event, leadMs, now))) return 0;
        const token = {
          id: t.id,
          scope: rowScope(t),
          identifier: t.identifier,
          apiKeyIdentifier: t.api_key_identifier,
          apiKeyType: t.api_key_type as ApiKeyType,
          parentIdentifier: t.parent_identifier,
          validTo: t.valid_to,
        };
        return enqueueWebhookEvents(tx, [tokenEvent(event, token, extra(t))], now);
      });
    }
    return queued;
  }
}
