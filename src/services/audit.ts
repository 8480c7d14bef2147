/**
 * Audit. Every mutation goes through `mutate`, which runs it in a transaction and writes its audit
 * event in that same transaction; a failed mutation rolls back and then records its failure in a
 * transaction of its own. No secret is ever passed in `details`.
 */
import { ConflictError, isKeywardError, NotFoundError, UnavailableError } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import type { AuditEvent } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import { isForeignKeyViolation, isUniqueViolation, type Tx } from '../store/database.js';
import { insertAuditEvent, listAuditEvents, type AuditFilter } from '../store/audit.js';
import type { AccessCheck, Caller, Invalidation, ServiceContext } from './context.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import type { WebhookEvent } from '../domain/webhooks.js';
import { enqueueWebhookEvents } from './webhookEvents.js';

export interface MutationMeta {
  action: string;
  resourceType: string;
  /** Known before the mutation runs (update, delete); a create may return it instead. */
  resourceId?: string;
  scope: Scope;
}

export interface MutationOutcome<T> {
  result: T;
  resourceId?: string;
  /** Scope, when only the mutation itself learns it. */
  scope?: Scope;
  details?: Record<string, unknown>;
  /** Published after commit. */
  invalidate?: Invalidation[];
  /** Webhook events, queued in the same transaction (services/webhookEvents.ts). */
  events?: WebhookEvent[];
}

/** Event ids sort by time first, so (at, id) is a stable keyset order. */
function eventId(at: number): string {
  return `${at.toString(36).padStart(9, '0')}-${newUuid()}`;
}

function actorFields(caller: Caller): { actorType: string; actorId: string } {
  return { actorType: caller.actor.type, actorId: caller.actor.id };
}

export async function mutate<T>(
  ctx: ServiceContext,
  caller: Caller,
  meta: MutationMeta,
  fn: (tx: Tx) => Promise<MutationOutcome<T>>,
): Promise<T> {
  let outcome: MutationOutcome<T>;
  let relayed = false;
  try {
    outcome = await ctx.store.transaction(async (tx) => {
      const out = await fn(tx);
      const scope = out.scope ?? meta.scope;
      // Every invalidation names the account it belongs to (the invalidation stream's tenant filter).
      if (out.invalidate) out.invalidate = out.invalidate.map((inv) => withAccount(inv, scope.accountId));
      const at = ctx.clock.now();
      // Announced to the other nodes by the commit itself (PostgreSQL NOTIFY is sent at commit).
      for (const inv of out.invalidate ?? []) relayed = (await ctx.bus.relayIn(tx, inv)) || relayed;
      await insertAuditEvent(tx, {
        id: eventId(at),
        accountId: scope.accountId,
        orgId: scope.orgId,
        projectId: scope.projectId,
        at,
        ...actorFields(caller),
        action: meta.action,
        resourceType: meta.resourceType,
        resourceId: out.resourceId ?? meta.resourceId ?? '',
        outcome: 'success',
        details: out.details ?? {},
        requestId: caller.requestId ?? null,
      });
      if (out.events && out.events.length > 0) await enqueueWebhookEvents(tx, out.events, at);
      return out;
    });
  } catch (thrown) {
    const e = constraintRace(thrown, meta);
    if (isKeywardError(e)) await recordFailure(ctx, caller, meta, e.kind, e.message);
    throw e;
  }
  for (const inv of outcome.invalidate ?? []) relayed ? ctx.bus.deliver(inv) : ctx.bus.publish(inv);
  return outcome.result;
}

function withAccount(inv: Invalidation, accountId: string): Invalidation {
  return inv.kind === 'all' || inv.accountId !== undefined || accountId === '' ? inv : { ...inv, accountId };
}

/**
 * A constraint the database enforced where a service's own check came too late (a concurrent
 * request changed the rows between the check and the write): a unique index refusing a second
 * insert is a conflict, a foreign key naming a row deleted meanwhile is not found. Services check
 * first and lock what they depend on (see ApiKeyService.authorizeOwner), so this is the backstop
 * that keeps any race they missed a 4xx in the protocol's own shape instead of a 500.
 */
function constraintRace(e: unknown, meta: MutationMeta): unknown {
  const what = `${meta.resourceType} [${meta.resourceId ?? ''}]`;
  // The database's error stays the cause, so a caller that looks for the violation itself still finds it.
  if (isUniqueViolation(e)) return Object.assign(new ConflictError(`${what} already exists`, meta.resourceType), { cause: e });
  if (isForeignKeyViolation(e)) return Object.assign(new NotFoundError(`${what}: what it belongs to no longer exists`, meta.resourceType, meta.resourceId ?? ''), { cause: e });
  return e;
}

/**
 * Runs checks a mutation makes before its transaction (slow ones, such as a password comparison);
 * a refusal is recorded as a failed mutation, exactly as if `mutate` had refused it.
 */
export async function audited(ctx: ServiceContext, caller: Caller, meta: MutationMeta, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    if (isKeywardError(e)) await recordFailure(ctx, caller, meta, e.kind, e.message);
    throw e;
  }
}

/**
 * Records a refused mutation. While the database cannot be reached (the refusal itself may say so)
 * the event waits in the bounded outbox and is written, in order, once the database is back.
 */
async function recordFailure(ctx: ServiceContext, caller: Caller, meta: MutationMeta, kind: string, message: string) {
  const at = ctx.clock.now();
  const event = {
    id: eventId(at),
    accountId: meta.scope.accountId,
    orgId: meta.scope.orgId,
    projectId: meta.scope.projectId,
    at,
    ...actorFields(caller),
    action: meta.action,
    resourceType: meta.resourceType,
    resourceId: meta.resourceId ?? '',
    outcome: 'failure' as const,
    details: { error: kind, message },
    requestId: caller.requestId ?? null,
  };
  // Events already waiting go first, so the log keeps its order.
  if (kind === 'unavailable' || ctx.auditOutbox.size > 0) {
    ctx.auditOutbox.push(event);
    return;
  }
  try {
    await ctx.store.transaction((tx) => insertAuditEvent(tx, event));
  } catch (e) {
    if (e instanceof UnavailableError) ctx.auditOutbox.push(event);
    // Otherwise the failure record is best effort: the caller still gets the original error.
  }
}

/**
 * A failed sign-in (console or ZenML password, ZenML API key), in the audit log of every account the
 * credential named. One that names no user or key is not written: it would be in no tenant's log,
 * and anyone could grow the database with it (the request log still shows the 401). The actor is
 * what was tried (the email, or the API key's id), never the password or secret.
 */
export async function recordSignInFailure(
  ctx: ServiceContext,
  e: { accountIds: string[]; actorId: string; method: 'password' | 'api_key' | 'token'; reason: string; client?: string | undefined; ip?: string | null | undefined; userAgent?: string | null | undefined; requestId?: string | undefined },
): Promise<void> {
  if (e.accountIds.length === 0) return;
  const at = ctx.clock.now();
  const details = { method: e.method, reason: e.reason, client: e.client ?? null, ip: e.ip ?? null, userAgent: e.userAgent ? e.userAgent.slice(0, 256) : null };
  try {
    await ctx.store.transaction(async (tx) => {
      for (const accountId of e.accountIds) {
        await insertAuditEvent(tx, {
          id: eventId(at),
          accountId,
          orgId: null,
          projectId: null,
          at,
          actorType: 'ANONYMOUS',
          actorId: e.actorId,
          action: 'session.signin',
          resourceType: 'SESSION',
          resourceId: '',
          outcome: 'failure',
          details,
          requestId: e.requestId ?? null,
        });
      }
    });
  } catch {
    // Best effort, as every failure record: the caller still gets its refusal.
  }
}

/** Reading the audit log needs core_audit_view at account scope. Newest first, keyset-paged. */
export class AuditService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessCheck,
  ) {}

  async list(caller: Caller, filter: AuditFilter): Promise<{ items: AuditEvent[]; nextCursor: { at: number; id: string } | null }> {
    await this.access.require(caller, P.auditView, { type: RESOURCE.audit, identifier: null }, makeScope(filter.accountId));
    const rows = await listAuditEvents(this.ctx.store.db, { ...filter, limit: filter.limit + 1 });
    const items = rows.slice(0, filter.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > filter.limit && last ? { at: last.at, id: last.id } : null };
  }
}
