/**
 * Audit. Every mutation goes through `mutate`, which runs it in a transaction and writes its audit
 * event in that same transaction; a failed mutation rolls back and then records its failure in a
 * transaction of its own. No secret is ever passed in `details`.
 */
import { isKeywardError, UnavailableError } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import type { AuditEvent } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { Tx } from '../store/database.js';
import { insertAuditEvent, listAuditEvents, type AuditFilter } from '../store/audit.js';
import type { AccessCheck, Caller, Invalidation, ServiceContext } from './context.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';

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
      return out;
    });
  } catch (e) {
    if (isKeywardError(e)) await recordFailure(ctx, caller, meta, e.kind, e.message);
    throw e;
  }
  for (const inv of outcome.invalidate ?? []) relayed ? ctx.bus.deliver(inv) : ctx.bus.publish(inv);
  return outcome.result;
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
