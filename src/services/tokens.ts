/**
 * Tokens: the secret credentials under an API key. The plain token is returned by the call that
 * makes it (create, rotate) and never again; only its SHA-256 digest is stored.
 */
import { ConflictError, InvalidArgumentError, LimitExceededError, NotFoundError, PermissionDeniedError, PreconditionFailedError } from '../domain/errors.js';
import { newTokenId, randomLetters } from '../domain/ids.js';
import { UNUSED_TOKEN, type ApiKey, type Tags, type Token } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { digestHex, encodeZenmlKey, generateNgToken, generateZenmlSecret } from '../domain/tokens.js';
import { checkDescription, checkIdentifier, checkName, checkTags, normalizeTags, validate } from '../domain/validation.js';
import { isUniqueViolation, type Db } from '../store/database.js';
import { getApiKey } from '../store/apiKeys.js';
import * as store from '../store/tokens.js';
import type { ListQuery, ListResult } from '../store/rows.js';
import type { AccessService } from './access.js';
import { normalizeOwner, type ApiKeyService, type KeyOwner } from './apiKeys.js';
import { mutate } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import type { PolicyService } from './policies.js';
import { graceViolation, latestEnd, lifetimeViolation, withinLimit, type EffectivePolicy } from '../domain/policy.js';
import { tokenEvent } from './webhookEvents.js';

export interface TokenInput {
  identifier: string;
  name: string;
  apiKeyIdentifier: string;
  description?: string | null;
  tags?: Tags | null;
  validFrom?: number | null;
  validTo?: number | null;
}

export interface IssuedToken {
  token: Token;
  /** The plain token. Shown once: never stored, never logged, never returned again. */
  secret: string;
}

function checkTime(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return 'must be a time in epoch milliseconds';
  return null;
}

export class TokenService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
    private readonly apiKeys: ApiKeyService,
    private readonly policies: PolicyService,
  ) {}

  private validate(input: TokenInput): void {
    validate([
      ['identifier', checkIdentifier(input.identifier)],
      ['name', checkName(input.name)],
      ['apiKeyIdentifier', checkIdentifier(input.apiKeyIdentifier)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
      ['validFrom', checkTime(input.validFrom)],
      ['validTo', checkTime(input.validTo)],
    ]);
  }

  /** Harness's window rules: validTo not in the past, validFrom not after validTo. */
  private checkWindow(validFrom: number, validTo: number | null, now: number): void {
    if (validTo !== null && validTo < now) {
      throw new InvalidArgumentError("Token's validTo cannot be set before current time", [{ field: 'validTo', message: 'cannot be before the current time' }]);
    }
    if (validTo !== null && validFrom > validTo) {
      throw new InvalidArgumentError('validFrom time cannot be after validTo time', [{ field: 'validFrom', message: 'cannot be after validTo' }]);
    }
  }

  /**
   * Creates a token under the key. With `autoCreateKey`, a missing key is created as Harness does
   * (`<id>_auto`, "Auto Generated API key", default lifetime).
   */
  async create(caller: Caller, ownerIn: KeyOwner, input: TokenInput, opts: { autoCreateKey?: boolean } = {}): Promise<IssuedToken> {
    this.validate(input);
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'token.create', resourceType: RESOURCE.token, resourceId: input.identifier, scope: owner.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, owner, true);
      let key = await getApiKey(tx, owner, input.apiKeyIdentifier);
      if (!key && opts.autoCreateKey) {
        key = await this.apiKeys.insert(tx, caller, owner, { identifier: input.apiKeyIdentifier, name: `${input.apiKeyIdentifier}_auto`, description: 'Auto Generated API key' }, 'harness_ng');
      }
      if (!key) throw this.apiKeys.notFound(owner, input.apiKeyIdentifier);
      // undefined: a new token's window comes from the input or the key's default (null would mean "never expires").
      const issued = await this.insert(tx, key, input, undefined);
      return {
        result: issued,
        resourceId: issued.token.identifier,
        details: { id: issued.token.id, apiKeyIdentifier: key.identifier, validTo: issued.token.validTo },
        events: [tokenEvent('token.created', issued.token)],
      };
    });
  }

  /**
   * Inserts a token under `key` inside the caller's transaction. `keepValidTo` is rotation's
   * inherited expiry. The policy at the key's scope (src/services/policies.ts) limits the key's
   * live tokens and the token's lifetime: an end asked for beyond the lifetime is refused, a
   * default end (the key's default lifetime, or rotation's inherited one) is shortened to fit.
   */
  async insert(tx: Db, key: ApiKey, input: TokenInput, keepValidTo: number | null | undefined): Promise<IssuedToken> {
    const now = this.ctx.clock.now();
    const policy = await this.policies.effective(tx, key.scope);
    const limit = policy.maxTokensPerApiKey;
    if (limit !== 'unlimited' && !withinLimit(limit, await store.countLiveTokensOfKey(tx, key.id, limit))) throw new LimitExceededError('Maximum limit has reached', limit);
    if (await store.findTokenOfKeyCi(tx, key, input.identifier)) {
      throw new ConflictError(`Try using different token name, [${input.identifier}] already exists`, 'token', 'identifier');
    }
    const validFrom = input.validFrom ?? now;
    const validTo = this.endOf(policy, key, validFrom, now, input.validTo, keepValidTo);
    if (keepValidTo === undefined) this.checkWindow(validFrom, validTo, now);
    const broken = lifetimeViolation(policy, now, validTo, key.flavor === 'zenml' ? 'A ZenML API key (ZenML keys have no end date)' : 'The token');
    if (broken) throw broken;
    const { id, secret } = this.mint(key);
    const token: Token = {
      id,
      apiKeyId: key.id,
      scope: key.scope,
      identifier: input.identifier,
      name: input.name,
      description: input.description ?? '',
      tags: normalizeTags(input.tags),
      apiKeyType: key.type,
      parentIdentifier: key.parentIdentifier,
      apiKeyIdentifier: key.identifier,
      format: key.flavor,
      validFrom,
      validTo,
      ...UNUSED_TOKEN,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await store.insertToken(tx, token, digestHex(secret.digestInput));
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`Try using different token name, [${input.identifier}] already exists`, 'token', 'identifier');
      throw e;
    }
    return { token, secret: secret.plain };
  }

  /** A new token's end: asked for, inherited (rotation) or the key's default; a default never exceeds the policy's lifetime. */
  private endOf(policy: EffectivePolicy, key: ApiKey, validFrom: number, now: number, asked: number | null | undefined, keepValidTo: number | null | undefined): number | null {
    if (keepValidTo === undefined && asked !== undefined && asked !== null) return asked;
    const fallback = keepValidTo !== undefined ? keepValidTo : key.flavor === 'harness_ng' ? validFrom + key.defaultTimeToExpireToken : null;
    const cap = latestEnd(policy, now);
    // A ZenML key has no end on its wire: it is refused under a lifetime rule rather than given a hidden one.
    if (cap === null || fallback === null) return fallback;
    return Math.min(fallback, cap);
  }

  /** A fresh id and secret in the key's format. `digestInput` is what verification will hash. */
  private mint(key: ApiKey): { id: string; secret: { plain: string; digestInput: string } } {
    if (key.flavor === 'zenml') {
      const s = generateZenmlSecret();
      return { id: newTokenId(), secret: { plain: encodeZenmlKey(key.id, s), digestInput: s } };
    }
    if (key.flavor === 'harness_ng') {
      const g = generateNgToken(key.type, key.scope.accountId);
      return { id: g.tokenId, secret: { plain: g.token, digestInput: g.secret } };
    }
    throw new PreconditionFailedError(`tokens of ${key.flavor} keys are issued by their own protocol`);
  }

  /** Updates name, description, tags and the validity window. Rotated tokens cannot be updated. */
  async update(caller: Caller, ownerIn: KeyOwner, input: TokenInput & { scheduledExpireTime?: number | null }): Promise<Token> {
    this.validate(input);
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'token.update', resourceType: RESOURCE.token, resourceId: input.identifier, scope: owner.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, owner, true);
      const { token } = await this.mustGet(tx, owner, input.apiKeyIdentifier, input.identifier);
      if (token.scheduledExpireTime !== null || (input.scheduledExpireTime !== undefined && input.scheduledExpireTime !== null)) {
        throw new InvalidArgumentError('Rotated tokens cannot be updated', [{ field: 'scheduledExpireTime', message: 'rotated tokens cannot be updated' }]);
      }
      const now = this.ctx.clock.now();
      const validFrom = input.validFrom ?? token.validFrom;
      const validTo = input.validTo ?? token.validTo;
      if (validFrom !== token.validFrom || validTo !== token.validTo) {
        this.checkWindow(validFrom, validTo, now);
        const broken = lifetimeViolation(await this.policies.effective(tx, token.scope), token.createdAt, validTo, 'The token');
        if (broken) throw broken;
      }
      const next: Token = { ...token, name: input.name, description: input.description ?? '', tags: normalizeTags(input.tags), validFrom, validTo, updatedAt: now };
      await store.updateToken(tx, token.id, { name: next.name, description: next.description, tags: next.tags, validFrom, validTo, updatedAt: now });
      const windowChanged = validFrom !== token.validFrom || validTo !== token.validTo;
      return { result: next, details: windowChanged ? { validFrom, validTo } : {}, invalidate: windowChanged ? [{ kind: 'token', tokenIds: [token.id] }] : [] };
    });
  }

  async delete(caller: Caller, ownerIn: KeyOwner, apiKeyIdentifier: string, identifier: string): Promise<Token> {
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'token.delete', resourceType: RESOURCE.token, resourceId: identifier, scope: owner.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, owner, true);
      const { token } = await this.mustGet(tx, owner, apiKeyIdentifier, identifier);
      await store.tombstoneTokens(tx, { tokenIds: [token.id] }, this.ctx.clock.now());
      await store.deleteToken(tx, token.id);
      return { result: token, details: { id: token.id, apiKeyIdentifier }, invalidate: [{ kind: 'token', tokenIds: [token.id] }], events: [tokenEvent('token.deleted', token)] };
    });
  }

  /**
   * Rotates a token out, inside the caller's transaction (Harness's rotate and ZenML's key rotation):
   * it is renamed `rotated_<15 letters>`, freeing its identifier for the new token, and keeps working
   * until `until`, never later than its own validTo. Returns when it ends.
   */
  async rotateOut(tx: Db, token: Token, until: number): Promise<number> {
    const now = this.ctx.clock.now();
    const endsAt = token.validTo === null ? until : Math.min(until, token.validTo);
    // The one place both rotations pass: the policy's rotation grace is checked here.
    const broken = graceViolation(await this.policies.effective(tx, token.scope), now, endsAt);
    if (broken) throw broken;
    await store.updateToken(tx, token.id, { identifier: `rotated_${randomLetters(15)}`, scheduledExpireTime: endsAt, rotatedAt: now, updatedAt: now });
    return endsAt;
  }

  /**
   * Rotation: the old token is renamed `rotated_<15 letters>` and keeps working until
   * `rotateTimestamp` (now when absent; never later than its own expiry); a new token with the
   * original identifier, name, description, tags and validTo is issued and returned once.
   */
  async rotate(caller: Caller, ownerIn: KeyOwner, apiKeyIdentifier: string, identifier: string, rotateTimestamp?: number | null): Promise<IssuedToken> {
    validate([['rotateTimestamp', checkTime(rotateTimestamp)]]);
    const owner = normalizeOwner(ownerIn);
    return mutate(this.ctx, caller, { action: 'token.rotate', resourceType: RESOURCE.token, resourceId: identifier, scope: owner.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, owner, true);
      const { key, token } = await this.mustGet(tx, owner, apiKeyIdentifier, identifier);
      if (token.scheduledExpireTime !== null) throw new InvalidArgumentError('Rotated tokens cannot be rotated again', [{ field: 'identifier', message: 'is a rotated token' }]);
      const now = this.ctx.clock.now();
      const endsAt = await this.rotateOut(tx, token, rotateTimestamp ?? now);
      const issued = await this.insert(
        tx,
        key,
        { identifier: token.identifier, name: token.name, apiKeyIdentifier, description: token.description, tags: token.tags, validFrom: now },
        token.validTo,
      );
      return {
        result: issued,
        details: { oldTokenId: token.id, newTokenId: issued.token.id, oldTokenEndsAt: endsAt },
        invalidate: [{ kind: 'token', tokenIds: [token.id] }],
        events: [tokenEvent('token.rotated', issued.token, { oldTokenId: token.id, oldTokenEndsAt: endsAt })],
      };
    });
  }

  /**
   * Lists tokens of an owner (optionally of one key). A user lists their own tokens; listing other
   * users' personal tokens needs core_user_manage (Harness's validateTokenListPermissions).
   */
  async list(
    caller: Caller,
    filter: { owner: Omit<KeyOwner, 'parentIdentifier'> & { parentIdentifier?: string | undefined }; apiKeyIdentifier?: string | undefined; onlyActive?: boolean },
    q: ListQuery,
  ): Promise<ListResult<Token>> {
    const { owner } = filter;
    if (filter.apiKeyIdentifier !== undefined && owner.parentIdentifier === undefined) {
      throw new InvalidArgumentError('Need to pass parentIdentifier along with apikeyIdentifier to list the tokens.');
    }
    const scope = owner.type === 'USER' ? { accountId: owner.scope.accountId, orgId: null, projectId: null } : owner.scope;
    const db = this.ctx.store.db;
    if (owner.type === 'USER') {
      const self = caller.actor.type === 'USER' && caller.actor.id === owner.parentIdentifier;
      if (!self && caller.actor.type !== 'SYSTEM') {
        const principal = caller.actor.type === 'USER' ? { type: 'USER' as const, id: caller.actor.id, accountId: caller.actor.accountId } : null;
        const admin = principal ? await this.access.can(principal, P.userManage, scope) : false;
        if (!admin) {
          if (owner.parentIdentifier === undefined) throw new PermissionDeniedError("Error while listing all users' personal access tokens: missing permission core_user_manage");
          throw new PermissionDeniedError(`User [${caller.actor.id}] not authenticated to list tokens for user [${owner.parentIdentifier}]`, [
            { permission: P.userManage, resourceType: RESOURCE.user, resourceIdentifier: owner.parentIdentifier, scope },
          ]);
        }
      }
    } else {
      await this.access.require(caller, P.serviceAccountView, { type: RESOURCE.serviceAccount, identifier: owner.parentIdentifier ?? null }, scope);
    }
    return store.listTokens(
      db,
      {
        scope,
        apiKeyType: owner.type,
        parentIdentifier: owner.parentIdentifier,
        apiKeyIdentifier: filter.apiKeyIdentifier,
        activeAt: filter.onlyActive ? this.ctx.clock.now() : undefined,
      },
      q,
    );
  }

  async get(caller: Caller, ownerIn: KeyOwner, apiKeyIdentifier: string, identifier: string): Promise<Token> {
    const owner = normalizeOwner(ownerIn);
    await this.apiKeys.authorizeOwner(this.ctx.store.db, caller, owner, false);
    return (await this.mustGet(this.ctx.store.db, owner, apiKeyIdentifier, identifier)).token;
  }

  /** A token by id, unguarded: only for callers that proved possession of it (token validation). */
  async byId(tokenId: string): Promise<Token | null> {
    return store.getTokenById(this.ctx.store.db, tokenId);
  }

  private async mustGet(db: Db, owner: KeyOwner, apiKeyIdentifier: string, identifier: string): Promise<{ key: ApiKey; token: Token }> {
    const key = await getApiKey(db, owner, apiKeyIdentifier);
    const token = key ? await store.getTokenOfKey(db, key, identifier) : null;
    if (!key || !token) {
      const s = owner.scope;
      throw new NotFoundError(
        `Token with identifier [${identifier}] does not exist in account [${s.accountId}], org [${s.orgId ?? ''}], project [${s.projectId ?? ''}] for apiKeyType [${owner.type}], parentIdentifier [${owner.parentIdentifier}], apiKeyIdentifier [${apiKeyIdentifier}]`,
        'token',
        identifier,
      );
    }
    return { key, token };
  }

}
