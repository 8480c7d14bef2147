/**
 * Harness CG ("FirstGen") API keys (docs/compat/harness-cg.md): account-level keys, managed with
 * MANAGE_API_KEYS, whose permissions are the union of their user groups' role assignments. The key
 * is `base64(<accountId>::<80 alphanumerics>)`, stored as its SHA-256 digest for verification and,
 * because Harness lets an admin read a key again, sealed under the master key for that one read.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import { newAccountId } from '../domain/ids.js';
import type { Keyring } from '../domain/masterKey.js';
import type { CgApiKey } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import { digestHex, generateCgKey } from '../domain/tokens.js';
import * as store from '../store/cgApiKeys.js';
import { isUniqueViolation } from '../store/database.js';
import type { AccessService } from './access.js';
import { mutate } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import type { PolicyService } from './policies.js';
import { lifetimeViolation } from '../domain/policy.js';
import { assertScopeExists } from './scopes.js';
import { checkCgName, type UserGroupService } from './userGroups.js';

export const MAX_KEY_GROUPS = 100;

export interface CgKeyInput {
  name: string | null | undefined;
  /** Ids of account-level user groups; null or absent keeps them on update. */
  userGroupIds?: Array<string | null> | null | undefined;
}

/** Binds a sealed value to its row, so a sealed value copied onto another key does not open. */
const aad = (k: Pick<CgApiKey, 'accountId' | 'id'>) => `cg_api_key:${k.accountId}:${k.id}`;

export class CgApiKeyService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
    private readonly groups: UserGroupService,
    private readonly keyring: () => Keyring,
    private readonly policies: PolicyService,
  ) {}

  private async authorize(caller: Caller, accountId: string, id: string | null): Promise<void> {
    await this.access.require(caller, P.manageApiKeys, { type: RESOURCE.apiKey, identifier: id }, makeScope(accountId));
  }

  private checkName(name: unknown): string {
    const violation = checkCgName(name, 'API Key');
    if (violation) throw InvalidArgumentError.field('name', violation);
    return name as string;
  }

  private groupIds(ids: CgKeyInput['userGroupIds']): string[] | null {
    if (ids === undefined || ids === null) return null;
    const clean = ids.filter((g): g is string => typeof g === 'string' && g !== '');
    if (clean.length > MAX_KEY_GROUPS) throw InvalidArgumentError.field('userGroupIds', `can name at most ${MAX_KEY_GROUPS} user groups`);
    return clean;
  }

  private duplicate(name: string, accountId: string): ConflictError {
    return new ConflictError(`An API key with name [${name}] already exists in account [${accountId}]`, 'apikey', 'name');
  }

  private async notFound(accountId: string, id: string): Promise<never> {
    throw new NotFoundError(`API key [${id}] does not exist in account [${accountId}]`, 'apikey', id);
  }

  /** Creates a key; the value is returned here and by `get(..., withValue)`, nowhere else. */
  async create(caller: Caller, accountId: string, input: CgKeyInput): Promise<{ key: CgApiKey; value: string }> {
    const name = this.checkName(input.name);
    const wanted = this.groupIds(input.userGroupIds) ?? [];
    await this.authorize(caller, accountId, null);
    const ring = this.keyring();
    const scope = makeScope(accountId);
    const now = this.ctx.clock.now();
    const id = newAccountId();
    const { key: value } = generateCgKey(accountId);
    return mutate(this.ctx, caller, { action: 'cgapikey.create', resourceType: RESOURCE.apiKey, resourceId: id, scope }, async (tx) => {
      await assertScopeExists(tx, scope);
      // A CG key never expires (nor can its wire say when it would): a lifetime rule refuses it.
      const broken = lifetimeViolation(await this.policies.effective(tx, scope), now, null, 'A Harness CG API key (CG keys have no end date)');
      if (broken) throw broken;
      const userGroupIds = await this.groups.resolveCgGroups(tx, accountId, wanted).catch(rethrowAsArgument);
      if (await store.getCgApiKeyByName(tx, accountId, name)) throw this.duplicate(name, accountId);
      const rec: store.CgApiKeyRecord = {
        id,
        accountId,
        name,
        userGroupIds,
        createdAt: now,
        updatedAt: now,
        secretDigest: digestHex(value),
        encryptedValue: ring.seal(value, aad({ accountId, id })),
      };
      try {
        await store.insertCgApiKey(tx, rec);
      } catch (e) {
        if (isUniqueViolation(e)) throw this.duplicate(name, accountId);
        throw e;
      }
      return { result: { key: publicKey(rec), value }, details: { name, userGroupIds } };
    });
  }

  async update(caller: Caller, accountId: string, id: string, input: { name?: string | null; userGroupIds?: CgKeyInput['userGroupIds'] }): Promise<CgApiKey> {
    const name = input.name === undefined || input.name === null ? null : this.checkName(input.name);
    const wanted = this.groupIds(input.userGroupIds);
    await this.authorize(caller, accountId, id);
    const scope = makeScope(accountId);
    return mutate(this.ctx, caller, { action: 'cgapikey.update', resourceType: RESOURCE.apiKey, resourceId: id, scope }, async (tx) => {
      const current = await store.getCgApiKey(tx, accountId, id);
      if (!current) return this.notFound(accountId, id);
      const nextName = name ?? current.name;
      if (nextName !== current.name) {
        const other = await store.getCgApiKeyByName(tx, accountId, nextName);
        if (other && other.id !== id) throw this.duplicate(nextName, accountId);
      }
      const now = this.ctx.clock.now();
      try {
        await store.updateCgApiKey(tx, id, { name: nextName, updatedAt: now });
      } catch (e) {
        if (isUniqueViolation(e)) throw this.duplicate(nextName, accountId);
        throw e;
      }
      let userGroupIds = current.userGroupIds;
      if (wanted !== null) {
        userGroupIds = await this.groups.resolveCgGroups(tx, accountId, wanted).catch(rethrowAsArgument);
        await store.setCgApiKeyGroups(tx, id, userGroupIds);
      }
      return {
        result: { ...publicKey(current), name: nextName, userGroupIds, updatedAt: now },
        details: { name: nextName, ...(wanted !== null ? { userGroupIds } : {}) },
        invalidate: [{ kind: 'apiKey', apiKeyIds: [id] }],
      };
    });
  }

  /**
   * One key. With `withValue` (CG REST GET only) the value is opened from its sealed copy, and the
   * read is audited: reading a secret back is as sensitive as making one.
   */
  async get(caller: Caller, accountId: string, id: string, withValue: boolean): Promise<{ key: CgApiKey; value: string | null }> {
    await this.authorize(caller, accountId, id);
    if (!withValue) {
      const rec = await store.getCgApiKey(this.ctx.store.db, accountId, id);
      if (!rec) return this.notFound(accountId, id);
      return { key: publicKey(rec), value: null };
    }
    const scope = makeScope(accountId);
    return mutate(this.ctx, caller, { action: 'cgapikey.read_value', resourceType: RESOURCE.apiKey, resourceId: id, scope }, async (tx) => {
      const rec = await store.getCgApiKey(tx, accountId, id);
      if (!rec) return this.notFound(accountId, id);
      let value: string;
      try {
        value = this.keyring().open(rec.encryptedValue, aad(rec));
      } catch (e) {
        throw new PreconditionFailedError(`The value of API key [${id}] cannot be decrypted with this server's master key: ${(e as Error).message}`);
      }
      return { result: { key: publicKey(rec), value } };
    });
  }

  async list(caller: Caller, accountId: string, offset: number, limit: number): Promise<{ items: CgApiKey[]; total: number }> {
    await this.authorize(caller, accountId, null);
    const page = await store.listCgApiKeys(this.ctx.store.db, accountId, offset, limit);
    return { items: page.items.map(publicKey), total: page.total };
  }

  async delete(caller: Caller, accountId: string, id: string): Promise<CgApiKey> {
    await this.authorize(caller, accountId, id);
    return mutate(this.ctx, caller, { action: 'cgapikey.delete', resourceType: RESOURCE.apiKey, resourceId: id, scope: makeScope(accountId) }, async (tx) => {
      // Locked: of concurrent deletes, the first wins and the others find nothing.
      const rec = await store.getCgApiKey(tx, accountId, id, { lock: true });
      if (!rec) return this.notFound(accountId, id);
      await store.deleteCgApiKey(tx, id);
      return { result: publicKey(rec), details: { name: rec.name }, invalidate: [{ kind: 'apiKey', apiKeyIds: [id] }] };
    });
  }

  /** Deletes every CG key of the account (CG REST `DELETE /api/api-keys`); returns how many. */
  async deleteAll(caller: Caller, accountId: string): Promise<number> {
    await this.authorize(caller, accountId, null);
    return mutate(this.ctx, caller, { action: 'cgapikey.delete_all', resourceType: RESOURCE.apiKey, resourceId: '*', scope: makeScope(accountId) }, async (tx) => {
      const ids = await store.cgApiKeyIdsOfAccount(tx, accountId);
      for (const id of ids) await store.deleteCgApiKey(tx, id);
      return { result: ids.length, details: { count: ids.length }, invalidate: ids.length > 0 ? [{ kind: 'apiKey', apiKeyIds: ids }] : [] };
    });
  }

  /** Re-seals every value under the current master key (rotation, docs/compat/harness-cg.md). */
  async reseal(): Promise<{ resealed: number; total: number }> {
    const ring = this.keyring();
    return this.ctx.store.transaction(async (tx) => {
      const all = await store.allSealedCgKeys(tx);
      let resealed = 0;
      for (const row of all) {
        if (!ring.isStale(row.encryptedValue)) continue;
        const k = await tx.selectFrom('cg_api_keys').select(['id', 'account_id']).where('id', '=', row.id).executeTakeFirstOrThrow();
        const ref = { id: k.id, accountId: k.account_id };
        await store.resealCgKey(tx, row.id, ring.seal(ring.open(row.encryptedValue, aad(ref)), aad(ref)));
        resealed++;
      }
      return { resealed, total: all.length };
    });
  }
}

function publicKey(r: CgApiKey): CgApiKey {
  return { id: r.id, accountId: r.accountId, name: r.name, userGroupIds: [...r.userGroupIds], createdAt: r.createdAt, updatedAt: r.updatedAt };
}

/** An unknown user group named by a key is a bad argument of the key, not a missing key. */
function rethrowAsArgument(e: unknown): never {
  if (e instanceof NotFoundError) throw InvalidArgumentError.field('userGroupIds', `user group [${e.resourceId}] does not exist in the account`);
  throw e;
}
