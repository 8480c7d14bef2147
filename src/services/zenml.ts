/**
 * ZenML's service accounts and API keys over the core model (docs/architecture.md): a ZenML service
 * account is a service account at account scope, named uniquely among the account's service
 * accounts; a ZenML API key is an API key whose secret is a token, with one current secret and at
 * most one previous secret, kept for `retain_period_minutes` after a rotation.
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../domain/errors.js';
import { isUuid, newUuid } from '../domain/ids.js';
import type { Actor, ApiKey, ServiceAccount, User } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope, type Scope } from '../domain/scope.js';
import { validate } from '../domain/validation.js';
import { createHash } from 'node:crypto';
import { getAccount } from '../store/accounts.js';
import { isUniqueViolation, type Db } from '../store/database.js';
import * as keys from '../store/apiKeys.js';
import * as sas from '../store/serviceAccounts.js';
import * as tokens from '../store/tokens.js';
import { getUser } from '../store/users.js';
import type { AccessService } from './access.js';
import type { ApiKeyService } from './apiKeys.js';
import { mutate, recordSignInFailure } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import { serviceAccountDeactivated, tokenEvent } from './webhookEvents.js';
import type { ServiceAccountService } from './serviceAccounts.js';
import type { TokenService } from './tokens.js';
import type { UserService } from './users.js';

export const STR_MAX = 255;
export const TEXT_MAX = 65535;

function checkStr(v: unknown, required: boolean): string | null {
  if (v === undefined || v === null) return required ? 'field required' : null;
  if (typeof v !== 'string') return 'str type expected';
  if (required && v.length === 0) return 'ensure this value has at least 1 characters';
  if (v.length > STR_MAX) return `ensure this value has at most ${STR_MAX} characters`;
  return null;
}

function checkText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return 'str type expected';
  if (v.length > TEXT_MAX) return `ensure this value has at most ${TEXT_MAX} characters`;
  return null;
}

/**
 * A stable UUID named by `parts` (SHA-256, shaped as an RFC 9562 version 8 UUID): the same on every
 * node and every start, so the default workspace and stack need no rows of their own.
 */
export function namedUuid(...parts: string[]): string {
  const h = createHash('sha256').update(['keyward-zenml', ...parts].join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The one ZenML workspace (a project in ZenML 0.80 and later) of a Keyward account: the account itself. */
export interface ZenmlWorkspace {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export type ZenmlComponentType = 'orchestrator' | 'artifact_store';

export interface ZenmlComponent {
  id: string;
  name: string;
  type: ZenmlComponentType;
  flavor: string;
  workspace: ZenmlWorkspace;
}

/** The default stack every ZenML workspace has: a local orchestrator and a local artifact store. */
export interface ZenmlStack {
  id: string;
  name: string;
  description: string;
  workspace: ZenmlWorkspace;
  components: ZenmlComponent[];
}

export const ZENML_DEFAULT_NAME = 'default';

export interface ZenmlKey {
  key: ApiKey;
  serviceAccount: ServiceAccount;
}

export class ZenmlService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
    private readonly serviceAccounts: ServiceAccountService,
    private readonly apiKeys: ApiKeyService,
    private readonly tokenService: TokenService,
    private readonly users: UserService,
  ) {}

  /**
   * ZenML's `GET /users/{id}`: a service account of the account by its UUID, else a user. Under the
   * native rules: a user is read through UserService.get (self, or core_user_view), a service
   * account needs core_serviceaccount_view unless it is the caller. A caller without the permission
   * gets the same refusal whether the id names a user, a service account or nothing.
   */
  async readUser(caller: Caller, accountId: string, uuid: string, userId: string): Promise<{ serviceAccount: ServiceAccount } | { user: User; canManageUsers: boolean }> {
    const sa = await sas.getServiceAccountById(this.ctx.store.db, uuid);
    if (sa && sa.scope.accountId === accountId && sa.scope.orgId === null) {
      if (caller.actor.id !== sa.id) await this.access.require(caller, P.serviceAccountView, { type: RESOURCE.serviceAccount, identifier: sa.identifier }, this.scope(accountId));
      return { serviceAccount: sa };
    }
    const user = await this.users.get(caller, accountId, userId);
    return { user, canManageUsers: await this.canManageUsers(user) };
  }

  /** ZenML's `is_admin` of a user: whether it may manage the account's users. */
  private canManageUsers(user: User): Promise<boolean> {
    return this.access.can({ type: 'USER', id: user.id, accountId: user.accountId }, P.userManage, makeScope(user.accountId));
  }

  private scope(accountId: string): Scope {
    return makeScope(accountId);
  }

  // ---- service accounts ----

  /**
   * By UUID when the segment is one, else by name; only account-level service accounts of the account.
   * With `lock`, inside a transaction, the row found is read again locked until the transaction ends (see
   * forUpdate): a concurrent change of it waits, and one that deleted it meanwhile leaves it not found.
   */
  async findServiceAccount(db: Db, accountId: string, nameOrId: string, opts: { lock?: boolean } = {}): Promise<ServiceAccount> {
    let found: ServiceAccount | null | undefined;
    if (isUuid(nameOrId)) {
      const sa = await sas.getServiceAccountById(db, nameOrId.toLowerCase());
      found = sa && sa.scope.accountId === accountId && sa.scope.orgId === null ? sa : null;
    } else {
      const all = await sas.listAccountLevelServiceAccounts(db, accountId);
      found = all.find((s) => s.uniqueName === nameOrId) ?? all.find((s) => s.name === nameOrId);
    }
    if (found && opts.lock) found = await sas.getServiceAccount(db, found.scope, found.identifier, opts);
    if (!found) throw new NotFoundError(`No service account with the '${nameOrId}' name or ID was found`, 'serviceaccount', nameOrId);
    return found;
  }

  async getServiceAccount(caller: Caller, accountId: string, nameOrId: string): Promise<ServiceAccount> {
    await this.access.require(caller, P.serviceAccountView, { type: RESOURCE.serviceAccount, identifier: nameOrId }, this.scope(accountId));
    return this.findServiceAccount(this.ctx.store.db, accountId, nameOrId);
  }

  async listServiceAccounts(caller: Caller, accountId: string): Promise<ServiceAccount[]> {
    await this.access.require(caller, P.serviceAccountView, { type: RESOURCE.serviceAccount, identifier: null }, this.scope(accountId));
    return sas.listAccountLevelServiceAccounts(this.ctx.store.db, accountId);
  }

  private async assertNameFree(db: Db, accountId: string, name: string, except: string | null): Promise<void> {
    const all = await sas.listAccountLevelServiceAccounts(db, accountId);
    if (all.some((s) => s.id !== except && (s.uniqueName === name || s.name === name))) {
      throw new ConflictError(`Unable to register service account with name '${name}': Found an existing service account with the same name.`, 'serviceaccount', 'name');
    }
  }

  async createServiceAccount(caller: Caller, accountId: string, input: { name: string; description?: string | null; active?: boolean | null }): Promise<ServiceAccount> {
    validate([
      ['name', checkStr(input.name, true)],
      ['description', checkText(input.description)],
    ]);
    const scope = this.scope(accountId);
    await this.access.require(caller, P.serviceAccountEdit, { type: RESOURCE.serviceAccount, identifier: input.name }, scope);
    const now = this.ctx.clock.now();
    const id = newUuid();
    const identifier = `sa_${id.replace(/-/g, '')}`;
    const sa: ServiceAccount = {
      id,
      scope,
      identifier,
      name: input.name,
      email: `${identifier}@service.keyward.local`,
      description: input.description ?? '',
      tags: {},
      active: input.active ?? true,
      uniqueName: input.name,
      createdAt: now,
      updatedAt: now,
    };
    return mutate(this.ctx, caller, { action: 'serviceaccount.create', resourceType: RESOURCE.serviceAccount, resourceId: identifier, scope }, async (tx) => {
      await this.assertNameFree(tx, accountId, input.name, null);
      try {
        await sas.insertServiceAccount(tx, sa);
      } catch (e) {
        if (isUniqueViolation(e)) {
          throw new ConflictError(`Unable to register service account with name '${input.name}': Found an existing service account with the same name.`, 'serviceaccount', 'name');
        }
        throw e;
      }
      return { result: sa, details: { id, name: input.name, protocol: 'zenml' } };
    });
  }

  /** Applies only the fields given (null means unchanged). */
  async updateServiceAccount(caller: Caller, accountId: string, nameOrId: string, patch: { name?: string | null; description?: string | null; active?: boolean | null }): Promise<ServiceAccount> {
    validate([
      ['name', patch.name === undefined || patch.name === null ? null : checkStr(patch.name, true)],
      ['description', checkText(patch.description)],
    ]);
    const scope = this.scope(accountId);
    await this.access.require(caller, P.serviceAccountEdit, { type: RESOURCE.serviceAccount, identifier: nameOrId }, scope);
    return mutate(this.ctx, caller, { action: 'serviceaccount.update', resourceType: RESOURCE.serviceAccount, resourceId: nameOrId, scope }, async (tx) => {
      // Locked: a concurrent update of another field waits, and this one writes over what it committed.
      const sa = await this.findServiceAccount(tx, accountId, nameOrId, { lock: true });
      if (patch.name !== undefined && patch.name !== null && patch.name !== sa.name) await this.assertNameFree(tx, accountId, patch.name, sa.id);
      const next: ServiceAccount = {
        ...sa,
        ...(patch.name !== undefined && patch.name !== null ? { name: patch.name, uniqueName: patch.name } : {}),
        ...(patch.description !== undefined && patch.description !== null ? { description: patch.description } : {}),
        ...(patch.active !== undefined && patch.active !== null ? { active: patch.active } : {}),
        updatedAt: this.ctx.clock.now(),
      };
      try {
        await sas.updateServiceAccount(tx, next);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`Unable to update service account with name '${patch.name}': Found an existing service account with the same name.`, 'serviceaccount', 'name');
        throw e;
      }
      return {
        result: next,
        resourceId: sa.identifier,
        details: { id: sa.id, ...(patch.active != null ? { active: patch.active } : {}) },
        invalidate: [{ kind: 'principal', principalId: sa.id }],
        events: sa.active && !next.active ? [serviceAccountDeactivated(next)] : [],
      };
    });
  }

  async deleteServiceAccount(caller: Caller, accountId: string, nameOrId: string): Promise<void> {
    const sa = await this.getServiceAccount(caller, accountId, nameOrId);
    await this.serviceAccounts.delete(caller, sa.scope, sa.identifier);
  }

  // ---- API keys ----

  /** The account's ZenML keys: its Harness keys (many tokens, other formats) are not ZenML keys. */
  private async zenmlKeys(db: Db, saId: string): Promise<ApiKey[]> {
    return (await keys.apiKeysOfServiceAccount(db, saId)).filter((k) => k.flavor === 'zenml');
  }

  private async findKey(db: Db, sa: ServiceAccount, nameOrId: string): Promise<ApiKey> {
    const all = await this.zenmlKeys(db, sa.id);
    const key = isUuid(nameOrId)
      ? all.find((k) => k.id === nameOrId.toLowerCase())
      : (all.find((k) => k.uniqueName === nameOrId) ?? all.find((k) => k.name === nameOrId));
    if (!key) throw new NotFoundError(`An API key with ID or name '${nameOrId}' is not configured for service account with ID '${sa.id}'.`, 'apikey', nameOrId);
    return key;
  }

  private owner(sa: ServiceAccount) {
    return { scope: sa.scope, type: 'SERVICE_ACCOUNT' as const, parentIdentifier: sa.identifier };
  }

  async listKeys(caller: Caller, accountId: string, saId: string): Promise<ZenmlKey[]> {
    const sa = await this.getServiceAccount(caller, accountId, saId);
    return (await this.zenmlKeys(this.ctx.store.db, sa.id)).map((key) => ({ key, serviceAccount: sa }));
  }

  async getKey(caller: Caller, accountId: string, saId: string, nameOrId: string): Promise<ZenmlKey> {
    const sa = await this.getServiceAccount(caller, accountId, saId);
    return { key: await this.findKey(this.ctx.store.db, sa, nameOrId), serviceAccount: sa };
  }

  private async assertKeyNameFree(db: Db, sa: ServiceAccount, name: string, except: string | null, verb: 'register' | 'update'): Promise<void> {
    const all = await this.zenmlKeys(db, sa.id);
    if (all.some((k) => k.id !== except && (k.uniqueName === name || k.name === name))) {
      throw new ConflictError(
        `Unable to ${verb} API key with name '${name}': Found an existing API key with the same name configured for the same '${sa.name}' service account.`,
        'apikey',
        'name',
      );
    }
  }

  /** Creates the key and its first secret; the ZENKEY value is returned by this call only. */
  async createKey(caller: Caller, accountId: string, saId: string, input: { name: string; description?: string | null }): Promise<ZenmlKey & { secret: string }> {
    validate([
      ['name', checkStr(input.name, true)],
      ['description', checkText(input.description)],
    ]);
    const sa = await this.getServiceAccount(caller, accountId, saId);
    return mutate(this.ctx, caller, { action: 'apikey.create', resourceType: RESOURCE.apiKey, resourceId: input.name, scope: sa.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, this.owner(sa), true); // locks the service account before its names are read
      await this.assertKeyNameFree(tx, sa, input.name, null, 'register');
      const identifier = `zk_${newUuid().replace(/-/g, '')}`;
      let key: ApiKey;
      try {
        key = await this.apiKeys.insert(tx, caller, this.owner(sa), { identifier, name: input.name, description: input.description ?? '' }, 'zenml');
        await keys.updateApiKey(tx, { ...key, uniqueName: input.name });
      } catch (e) {
        if (isUniqueViolation(e)) {
          throw new ConflictError(`Unable to register API key with name '${input.name}': Found an existing API key with the same name configured for the same '${sa.name}' service account.`, 'apikey', 'name');
        }
        throw e;
      }
      const issued = await this.tokenService.insert(tx, key, { identifier: 'current', name: 'current', apiKeyIdentifier: identifier }, undefined);
      const created = { ...key, uniqueName: input.name, retainPeriodMinutes: 0, lastRotatedAt: null, lastLoginAt: null };
      return {
        result: { key: created, serviceAccount: sa, secret: issued.secret },
        resourceId: identifier,
        details: { id: key.id, name: input.name, protocol: 'zenml' },
        events: [tokenEvent('token.created', issued.token)],
      };
    });
  }

  async updateKey(caller: Caller, accountId: string, saId: string, nameOrId: string, patch: { name?: string | null; description?: string | null; active?: boolean | null }): Promise<ZenmlKey> {
    validate([
      ['name', patch.name === undefined || patch.name === null ? null : checkStr(patch.name, true)],
      ['description', checkText(patch.description)],
    ]);
    const sa = await this.getServiceAccount(caller, accountId, saId);
    return mutate(this.ctx, caller, { action: 'apikey.update', resourceType: RESOURCE.apiKey, resourceId: nameOrId, scope: sa.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, this.owner(sa), true); // and locks the service account (see authorizeOwner)
      const key = await this.findKey(tx, sa, nameOrId);
      if (patch.name !== undefined && patch.name !== null && patch.name !== key.name) await this.assertKeyNameFree(tx, sa, patch.name, key.id, 'update');
      const next: ApiKey = {
        ...key,
        ...(patch.name !== undefined && patch.name !== null ? { name: patch.name, uniqueName: patch.name } : {}),
        ...(patch.description !== undefined && patch.description !== null ? { description: patch.description } : {}),
        ...(patch.active !== undefined && patch.active !== null ? { active: patch.active } : {}),
        updatedAt: this.ctx.clock.now(),
      };
      await keys.updateApiKey(tx, next);
      return {
        result: { key: next, serviceAccount: sa },
        resourceId: key.identifier,
        details: { id: key.id, ...(patch.active != null ? { active: patch.active } : {}) },
        invalidate: [{ kind: 'apiKey', apiKeyIds: [key.id] }],
      };
    });
  }

  /**
   * Rotation: a new current secret; the old one keeps working for `retainMinutes` (not at all when
   * 0); a secret rotated out earlier ends at once, so there is never more than one previous secret.
   */
  async rotateKey(caller: Caller, accountId: string, saId: string, nameOrId: string, retainMinutes: number): Promise<ZenmlKey & { secret: string }> {
    if (!Number.isSafeInteger(retainMinutes) || retainMinutes < 0) throw InvalidArgumentError.field('retain_period_minutes', 'must be a non-negative integer');
    const sa = await this.getServiceAccount(caller, accountId, saId);
    return mutate(this.ctx, caller, { action: 'apikey.rotate', resourceType: RESOURCE.apiKey, resourceId: nameOrId, scope: sa.scope }, async (tx) => {
      await this.apiKeys.authorizeOwner(tx, caller, this.owner(sa), true); // and locks the service account (see authorizeOwner)
      const key = await this.findKey(tx, sa, nameOrId);
      const now = this.ctx.clock.now();
      const all = await tokens.listTokensOfKey(tx, key.id);
      const previous = all.filter((t) => t.scheduledExpireTime !== null);
      const current = all.filter((t) => t.scheduledExpireTime === null);
      await tokens.tombstoneTokens(tx, { tokenIds: previous.map((t) => t.id) }, now);
      for (const t of previous) await tokens.deleteToken(tx, t.id);
      for (const t of current) await this.tokenService.rotateOut(tx, t, now + retainMinutes * 60_000);
      const issued = await this.tokenService.insert(tx, key, { identifier: 'current', name: 'current', apiKeyIdentifier: key.identifier }, undefined);
      const next: ApiKey = { ...key, retainPeriodMinutes: retainMinutes, lastRotatedAt: now, updatedAt: now };
      await keys.updateApiKey(tx, next);
      return {
        result: { key: next, serviceAccount: sa, secret: issued.secret },
        resourceId: key.identifier,
        details: { id: key.id, retainPeriodMinutes: retainMinutes },
        invalidate: [{ kind: 'apiKey', apiKeyIds: [key.id] }, { kind: 'token', tokenIds: all.map((t) => t.id) }],
        events: [
          ...previous.map((t) => tokenEvent('token.deleted', t)),
          tokenEvent('token.rotated', issued.token, { oldTokenId: current[0]?.id ?? null, oldTokenEndsAt: now + retainMinutes * 60_000 }),
        ],
      };
    });
  }

  async deleteKey(caller: Caller, accountId: string, saId: string, nameOrId: string): Promise<void> {
    const sa = await this.getServiceAccount(caller, accountId, saId);
    const key = await this.findKey(this.ctx.store.db, sa, nameOrId);
    await this.apiKeys.delete(caller, this.owner(sa), key.identifier);
  }

  /**
   * A refused API-key login, audited in the key's account (when the id names a key): the actor is
   * the key's id from the ZENKEY value, never its secret.
   */
  async recordKeyLoginFailure(keyId: string | null, reason: string, meta: { ip?: string | null; userAgent?: string | null; requestId?: string }): Promise<void> {
    const key = keyId && isUuid(keyId) ? await keys.getApiKeyById(this.ctx.store.db, keyId.toLowerCase()) : null;
    await recordSignInFailure(this.ctx, { accountIds: key ? [key.scope.accountId] : [], actorId: keyId ?? '', method: 'api_key', reason, client: 'zenml', ...meta });
  }

  /** The key's last login, including logins not yet written. */
  lastLogin(key: ApiKey, pending: number | undefined): number | null {
    const stored = key.lastLoginAt ?? null;
    if (pending === undefined) return stored;
    return stored === null || pending > stored ? pending : stored;
  }

  // ---- the default workspace and stack (read-only) ----

  /**
   * ZenML's client asks for the default workspace and its default stack before it does anything
   * else (BaseZenStore.validate_active_config). A Keyward account is one ZenML tenant, so it has
   * exactly one workspace, named `default`, with one `default` stack; their ids are derived from the
   * account id. Any authenticated caller of the account may read them, as in ZenML: a service
   * account with no role must still be able to start the client.
   */
  async defaultWorkspace(accountId: string): Promise<ZenmlWorkspace> {
    const account = await getAccount(this.ctx.store.db, accountId);
    if (!account) throw new NotFoundError(`No account '${accountId}'`, 'account', accountId);
    return {
      id: namedUuid('workspace', accountId),
      name: ZENML_DEFAULT_NAME,
      description: `The Keyward account ${account.name}.`,
      createdAt: account.createdAt,
      updatedAt: account.createdAt,
    };
  }

  async defaultStack(accountId: string): Promise<ZenmlStack> {
    const workspace = await this.defaultWorkspace(accountId);
    const component = (type: ZenmlComponentType): ZenmlComponent => ({ id: namedUuid('component', type, accountId), name: ZENML_DEFAULT_NAME, type, flavor: 'local', workspace });
    return {
      id: namedUuid('stack', accountId),
      name: ZENML_DEFAULT_NAME,
      description: '',
      workspace,
      components: [component('orchestrator'), component('artifact_store')],
    };
  }

  // ---- sessions: what ZenML's sign-in, /current-user and /users/{id} read ----

  /** The service account an API key belongs to, or null: ZenML names it when the key or the account is inactive. */
  async keyOwner(keyId: string): Promise<string | null> {
    return (await keys.getApiKeyById(this.ctx.store.db, keyId))?.serviceAccountId ?? null;
  }

  /** The actor of a user session (a password sign-in): the user when it exists and is active, else null. */
  async sessionUser(userId: string): Promise<Actor | null> {
    const user = await getUser(this.ctx.store.db, userId);
    if (!user || !user.active) return null;
    return { type: 'USER', id: user.id, accountId: user.accountId, isOperator: user.isOperator, via: { apiKeyId: null, tokenId: null } };
  }

  /** The caller as ZenML's /current-user shows it: its service account or its user (null when gone), or null for any other actor. */
  async whoAmI(actor: Actor): Promise<{ type: 'SERVICE_ACCOUNT'; serviceAccount: ServiceAccount | null } | { type: 'USER'; user: User | null; canManageUsers: boolean } | null> {
    if (actor.type === 'SERVICE_ACCOUNT') return { type: 'SERVICE_ACCOUNT', serviceAccount: await sas.getServiceAccountById(this.ctx.store.db, actor.id) };
    if (actor.type !== 'USER') return null;
    const user = await getUser(this.ctx.store.db, actor.id);
    const canManageUsers = user ? await this.canManageUsers(user) : false;
    return { type: 'USER', user, canManageUsers };
  }

}
