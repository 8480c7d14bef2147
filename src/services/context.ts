/** What every service needs: the store, the clock, settings and the invalidation bus. */
import { EventEmitter } from 'node:events';
import type { Clock } from '../domain/clock.js';
import type { Actor } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { Db, Store } from '../store/database.js';

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
 */
export type Invalidation =
  | { kind: 'token'; tokenIds: string[] }
  | { kind: 'apiKey'; apiKeyIds: string[] }
  | { kind: 'principal'; principalId: string }
  | { kind: 'permissions'; accountId: string }
  | { kind: 'all' };

export class InvalidationBus {
  private readonly emitter = new EventEmitter();
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
}

export interface ServiceContext {
  store: Store;
  clock: Clock;
  limits: Limits;
  bus: InvalidationBus;
}

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
