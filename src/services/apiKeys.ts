/**
 * API keys: owned by a user (personal, account scope) or a service account (its scope); hold tokens.
 * The ownership rule here is shared by keys and tokens: a USER key is managed only by its user; a
 * SERVICE_ACCOUNT key needs core_serviceaccount_manageapikey on that service account at the scope.
 */
import { ConflictError, InvalidArgumentError, LimitExceededError, NotFoundError, PermissionDeniedError } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import type { ApiKey, ApiKeyFlavor, Tags } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope, type Scope } from '../domain/scope.js';
import type { ApiKeyType } from '../domain/tokens.js';
import { checkDescription, checkIdentifier, checkName, checkTags, normalizeTags, validate } from '../domain/validation.js';
import { isUniqueViolation, type Db } from '../store/database.js';
import * as store from '../store/apiKeys.js';
import { getServiceAccount } from '../store/serviceAccounts.js';
import { getUser } from '../store/users.js';
import { tombstoneTokens } from '../store/tokens.js';
import type { ListQuery, ListResult } from '../store/rows.js';
import type { AccessService } from './access.js';
import { tokenEvent } from './webhookEvents.js';
import { mutate } from './audit.js';
import { DEFAULT_TOKEN_TTL_MS, type Caller, type ServiceContext } from './context.js';
import type { PolicyService } from './policies.js';
import { withinLimit } from '../domain/policy.js';
import { assertScopeExists } from './scopes.js';

export const API_KEY_TYPES: readonly ApiKeyType[] = ['USER', 'SERVICE_ACCOUNT'];

export interface KeyOwner {
  scope: Scope;
  type: ApiKeyType;
  parentIdentifier: string;
}

export interface ApiKeyInput {
  identifier: string;
  name: string;
  description?: string | null;
  tags?: Tags | null;
  defaultTimeToExpireToken?: number | null;
}

/** Personal keys live at account scope only: org and project are accepted and dropped (as Harness's newer servers do). */
export function normalizeOwner(owner: KeyOwner): KeyOwner {
  if (!API_KEY_TYPES.includes(owner.type)) throw InvalidArgumentError.field('apiKeyType', 'must be one of USER, SERVICE_ACCOUNT');
  if (owner.type === 'USER') return { ...owner, scope: makeScope(owner.scope.accountId) };
  return owner;
}

export function checkTtl(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) return 'must be a positive number of milliseconds';
  return null;
}

export class ApiKeyService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
    private readonly policies: PolicyService,
  ) {}

  /**
   * Checks that the caller may act on keys of this owner and that the owner exists; returns the
   * owner's internal id. `write` asks for manage rights, otherwise view rights.
   *
   * A write inside a transaction also locks the owner's row until the transaction ends: every
   * change to an owner's keys and tokens (create, rotate, delete) goes through here, so on
   * PostgreSQL they run one after the other per owner. That is what makes the per-owner limits
   * (count, then insert) hold under concurrency, makes a repeated delete find nothing, and keeps a
   * token from being inserted under a key that a concurrent delete just removed.
   */
  async authorizeOwner(db: Db, caller: Caller, owner: KeyOwner, write: boolean): Promise<{ userId: string | null; serviceAccountId: string | null }> {
    const { scope, parentIdentifier } = owner;
    if (owner.type === 'USER') {
      const actor = caller.actor;
      if (actor.type === 'SERVICE_ACCOUNT' || actor.type === 'API_KEY') throw new PermissionDeniedError('No user identifier present in context');
      if (actor.type === 'USER' && actor.id !== parentIdentifier) {
        throw new PermissionDeniedError(`User [${actor.id}] not authenticated to ${write ? 'manage' : 'view'} api keys of user [${parentIdentifier}]`, [
          { permission: write ? P.userManage : P.userView, resourceType: RESOURCE.user, resourceIdentifier: parentIdentifier, scope },
        ]);
      }
      if (actor.type === 'USER' && actor.accountId !== scope.accountId) {
        throw new PermissionDeniedError(`User [${actor.id}] is not authorized to create ApiKey for account: [${scope.accountId}]`);
      }
      // A read by the user themself: their token was verified just now, and deleting or deactivating a user
      // evicts their tokens' cache entries, so the user exists in this account; no read needed.
      if (!write && actor.type === 'USER') return { userId: actor.id, serviceAccountId: null };
      const user = await getUser(db, parentIdentifier, { lock: write });
      if (!user || user.accountId !== scope.accountId) {
        throw new NotFoundError(`User [${parentIdentifier}] does not exist in account [${scope.accountId}]`, 'user', parentIdentifier);
      }
      return { userId: user.id, serviceAccountId: null };
    }
    await this.access.require(
      caller,
      write ? P.serviceAccountManageApiKey : P.serviceAccountView,
      { type: RESOURCE.serviceAccount, identifier: parentIdentifier },
      scope,
      db,
    );
    const sa = await getServiceAccount(db, scope, parentIdentifier, { lock: write });
    if (!sa) {
      throw new NotFoundError(
        `Service account with identifier [${parentIdentifier}] is not found in the given scope accountIdentifier [${scope.accountId}], orgIdentifier [${scope.orgId ?? ''}], projectIdentifier [${scope.projectId ?? ''}]`,
        'serviceaccount',
        parentIdentifier,
      );
    }
    return { userId: null, serviceAccountId: sa.id };
  }

  private validate(input: ApiKeyInput): void {
    validate([
      ['identifier', checkIdentifier(input.identifier)],
      ['name', checkName(input.name)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
      ['defaultTimeToExpireToken', checkTtl(input.defaultTimeToExpireToken)],
    ]);
  }

  async create(caller: Caller, ownerIn: KeyOwner, input: ApiKeyInput, flavor: ApiKeyFlavor = 'harness_ng'): Promise<ApiKey> {
    this.validate(input);
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'apikey.create', resourceType: RESOURCE.apiKey, resourceId: input.identifier, scope: owner.scope }, async (tx) => {
      const key = await this.insert(tx, caller, owner, input, flavor);
      return { result: key, details: { id: key.id, apiKeyType: key.type, parentIdentifier: key.parentIdentifier } };
    });
  }

  /** The create rules, inside a caller's transaction (also used by token creation's auto-created key). */
  async insert(tx: Db, caller: Caller, owner: KeyOwner, input: ApiKeyInput, flavor: ApiKeyFlavor): Promise<ApiKey> {
    await assertScopeExists(tx, owner.scope);
    const parent = await this.authorizeOwner(tx, caller, owner, true);
    // The owner is locked (authorizeOwner), so the count stays true until this transaction ends.
    const limit = (await this.policies.effective(tx, owner.scope)).maxApiKeysPerOwner;
    if (!withinLimit(limit, await store.countApiKeys(tx, owner))) throw new LimitExceededError('Maximum limit has reached', limit as number);
    if (await store.findApiKeyCi(tx, owner, input.identifier)) {
      throw new ConflictError(`Try using different Key name, [${input.identifier}] already exists`, 'apikey', 'identifier');
    }
    const now = this.ctx.clock.now();
    const key: ApiKey = {
      id: newUuid(),
      scope: owner.scope,
      identifier: input.identifier,
      name: input.name,
      description: input.description ?? '',
      tags: normalizeTags(input.tags),
      type: owner.type,
      parentIdentifier: owner.parentIdentifier,
      ...parent,
      defaultTimeToExpireToken: input.defaultTimeToExpireToken ?? DEFAULT_TOKEN_TTL_MS,
      active: true,
      flavor,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await store.insertApiKey(tx, key);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`Try using different Key name, [${input.identifier}] already exists`, 'apikey', 'identifier');
      throw e;
    }
    return key;
  }

  /** Replaces the whole key: name, description, tags, and the default TTL (30 days when omitted). */
  async update(caller: Caller, ownerIn: KeyOwner, input: ApiKeyInput): Promise<ApiKey> {
    this.validate(input);
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'apikey.update', resourceType: RESOURCE.apiKey, resourceId: input.identifier, scope: owner.scope }, async (tx) => {
      await this.authorizeOwner(tx, caller, owner, true);
      const key = await this.mustGet(tx, owner, input.identifier);
      const next: ApiKey = {
        ...key,
        name: input.name,
        description: input.description ?? '',
        tags: normalizeTags(input.tags),
        defaultTimeToExpireToken: input.defaultTimeToExpireToken ?? DEFAULT_TOKEN_TTL_MS,
        updatedAt: this.ctx.clock.now(),
      };
      await store.updateApiKey(tx, next);
      return { result: next };
    });
  }

  async setActive(caller: Caller, ownerIn: KeyOwner, identifier: string, active: boolean): Promise<ApiKey> {
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: active ? 'apikey.activate' : 'apikey.deactivate', resourceType: RESOURCE.apiKey, resourceId: identifier, scope: owner.scope }, async (tx) => {
      await this.authorizeOwner(tx, caller, owner, true);
      const key = await this.mustGet(tx, owner, identifier);
      const next = { ...key, active, updatedAt: this.ctx.clock.now() };
      await store.updateApiKey(tx, next);
      return { result: next, invalidate: [{ kind: 'apiKey', apiKeyIds: [key.id] }] };
    });
  }

  /** Deletes the key and every token under it. */
  async delete(caller: Caller, ownerIn: KeyOwner, identifier: string): Promise<ApiKey> {
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'apikey.delete', resourceType: RESOURCE.apiKey, resourceId: identifier, scope: owner.scope }, async (tx) => {
      await this.authorizeOwner(tx, caller, owner, true);
      const key = await this.mustGet(tx, owner, identifier);
      const tokens = await tombstoneTokens(tx, { apiKeyIds: [key.id] }, this.ctx.clock.now());
      await store.deleteApiKey(tx, key.id);
      return {
        result: key,
        details: { id: key.id, tokensDeleted: tokens.length },
        invalidate: [{ kind: 'apiKey', apiKeyIds: [key.id] }, { kind: 'token', tokenIds: tokens.map((t) => t.id) }],
        events: tokens.map((t) => tokenEvent('token.deleted', t)),
      };
    });
  }

  async get(caller: Caller, ownerIn: KeyOwner, identifier: string): Promise<ApiKey & { tokensCount: number }> {
    const owner = normalizeOwner(ownerIn);
    const db = this.ctx.store.db;
    await this.authorizeOwner(db, caller, owner, false);
    const key = await store.getApiKeyWithTokenCount(this.ctx.store, owner, identifier);
    if (!key) throw this.notFound(owner, identifier);
    return key;
  }

  async list(caller: Caller, ownerIn: KeyOwner, q: ListQuery): Promise<ListResult<ApiKey & { tokensCount: number }>> {
    const owner = normalizeOwner(ownerIn);
    const db = this.ctx.store.db;
    await this.authorizeOwner(db, caller, owner, false);
    return store.listApiKeys(db, owner, q);
  }

  async mustGet(db: Db, owner: KeyOwner, identifier: string): Promise<ApiKey> {
    const key = await store.getApiKey(db, owner, identifier);
    if (!key) throw this.notFound(owner, identifier);
    return key;
  }

  notFound(owner: KeyOwner, identifier: string): NotFoundError {
    const s = owner.scope;
    return new NotFoundError(
      `API key with identifier [${identifier}] does not exist in account [${s.accountId}], org [${s.orgId ?? ''}], project [${s.projectId ?? ''}] for apiKeyType [${owner.type}], parentIdentifier [${owner.parentIdentifier}]`,
      'apikey',
      identifier,
    );
  }
}
