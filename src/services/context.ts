/** What every service needs: the store, the clock, settings and the invalidation bus. */
import { EventEmitter } from 'node:events';
import type { Clock } from '../domain/clock.js';
import type { Actor, AuditEvent } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { Db, Store, Tx } from '../store/database.js';

export interface Limits {
  /** API keys per parent (user or service account) per scope. Harness's default is 5. */
  apiKeysPerParent: number;
  /** Live (not rotated-out) tokens per API key. Harness's default is 5. */
  tokensPerApiKey: number;
  /** Wrong passwords for one email, in a row, before its password sign-in is locked. */
  signInFailures: number;
  /** How long a locked email stays locked (and how long failures are remembered). */
  signInLockoutMs: number;
}

export const DEFAULT_LIMITS: Limits = { apiKeysPerParent: 5, tokensPerApiKey: 5, signInFailures: 10, signInLockoutMs: 15 * 60_000 };

/** Thirty days, Harness's default token lifetime (ApiKey.DEFAULT_TTL_FOR_TOKEN). */
export const DEFAULT_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Something changed that may change a verification answer. Emitted after the transaction commits;
 * the verification cache evicts on it, in process and (through PostgreSQL NOTIFY) on other nodes.
 * `accountId`, when known, is the account the change belongs to (`mutate` in src/services/audit.ts
 * adds it): the invalidation stream (src/services/invalidationStream.ts) sends an event only to that
 * account's subscribers, and one without it to everyone as a flush of everything.
 */
export type Invalidation =
  | { kind: 'token'; tokenIds: string[]; accountId?: string }
  | { kind: 'apiKey'; apiKeyIds: string[]; accountId?: string }
  | { kind: 'principal'; principalId: string; accountId?: string }
  | { kind: 'permissions'; accountId: string }
  | { kind: 'all' };

export class InvalidationBus {
  private readonly emitter = new EventEmitter();
  private txRelay: ((tx: Tx, e: Invalidation) => Promise<void>) | null = null;
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  /** Local listeners: caches in this process. */
  on(fn: (e: Invalidation) => void): () => void {
    this.emitter.on('invalidate', fn);
    return () => this.emitter.off('invalidate', fn);
  }
  /** Publishes to this process and to every relay (other nodes). */
  publish(e: Invalidation): void {
    this.emitter.emit('invalidate', e);
    this.emitter.emit('relay', e);
  }
  /** Delivers an invalidation that came from another node: local listeners only. */
  deliver(e: Invalidation): void {
    this.emitter.emit('invalidate', e);
  }
  onRelay(fn: (e: Invalidation) => void): () => void {
    this.emitter.on('relay', fn);
    return () => this.emitter.off('relay', fn);
  }
  /**
   * A relay that sends inside the mutation's transaction (PostgreSQL NOTIFY is delivered at commit):
   * `mutate` uses it, so a committed change is always announced to the other nodes.
   */
  useTransactionalRelay(fn: (tx: Tx, e: Invalidation) => Promise<void>): void {
    this.txRelay = fn;
  }
  /** Inside a transaction: queue the invalidation for the other nodes; false when there is no such relay. */
  async relayIn(tx: Tx, e: Invalidation): Promise<boolean> {
    if (!this.txRelay) return false;
    await this.txRelay(tx, e);
    return true;
  }
}

export interface ServiceContext {
  store: Store;
  clock: Clock;
  limits: Limits;
  bus: InvalidationBus;
  /** Audit events that could not be written because the database was unreachable, written when it is back. */
  auditOutbox: AuditOutbox;
}

/**
 * Audit events waiting for the database (a refused mutation's failure record, made while the
 * database could not be reached): bounded, written in the order they happened, once the database
 * answers. Past the bound new events are counted as dropped (and said so in the log), never
 * reordered. Successful mutations never pass through here: their event commits with them.
 */
export class AuditOutbox {
  private queue: Array<AuditEvent> = [];
  private flushing: Promise<void> | null = null;
  dropped = 0;
  written = 0;

  constructor(
    private readonly write: AuditWriter,
    readonly maxEvents = 10_000,
    private readonly onDrop: (dropped: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  push(event: AuditEvent): void {
    if (this.queue.length >= this.maxEvents) {
      this.dropped++;
      if (this.dropped === 1) this.onDrop(this.dropped);
      return;
    }
    this.queue.push(event);
  }

  /** Writes what is queued, oldest first, in batches; stops at the first failure and keeps the rest. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, 500);
        try {
          await this.write(batch);
        } catch {
          return;
        }
        this.queue.splice(0, batch.length);
        this.written += batch.length;
      }
    })().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }
}

/** Writes a batch of audit events in one transaction. */
export type AuditWriter = (events: AuditEvent[]) => Promise<void>;

/** Who is calling and under which request: every service method takes one. */
export interface Caller {
  actor: Actor;
  requestId?: string | undefined;
}

export const SYSTEM_CALLER: Caller = { actor: { type: 'SYSTEM', id: 'system' } };

/** The resource a permission check names (Harness's ResourceDTO). */
export interface ResourceRef {
  type: string;
  identifier: string | null;
}

/**
 * The access check, as the services that AccessService itself depends on (audit, scopes) see it:
 * they take it by this interface so that no two service modules import each other.
 */
export interface AccessCheck {
  require(caller: Caller, permission: string, resource: ResourceRef, scope: Scope, db?: Db): Promise<void>;
}
