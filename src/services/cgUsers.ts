/**
 * Harness CG's user operations (harness-core `user.graphql`): create a user in some account-level
 * groups, rename and regroup, delete, and find by id, name or email. The user rules themselves live
 * in UserService and the membership rules in UserGroupService; this module makes each CG operation
 * one transaction with one audit event.
 */
import { InvalidArgumentError, NotFoundError } from '../domain/errors.js';
import type { User } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import { validate } from '../domain/validation.js';
import type { Db } from '../store/database.js';
import { tombstoneTokens } from '../store/tokens.js';
import * as store from '../store/users.js';
import type { AccessService } from './access.js';
import { tokenEvent } from './webhookEvents.js';
import { mutate } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import type { UserGroupService } from './userGroups.js';
import { checkUserName, type UserService } from './users.js';

export class CgUserService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
    private readonly users: UserService,
    private readonly userGroups: UserGroupService,
  ) {}

  private async find(db: Db, accountId: string, id: string): Promise<User> {
    const u = await store.getUser(db, id);
    if (!u || u.accountId !== accountId) throw new NotFoundError(`User [${id}] does not exist in account [${accountId}]`, 'user', id);
    return u;
  }

  /** Creates the user and puts them in the groups (unknown groups are refused and nothing is created). */
  async create(caller: Caller, accountId: string, input: { email: string; name: string; userGroupIds?: string[] | null }): Promise<User> {
    const scope = makeScope(accountId);
    await this.access.require(caller, P.userManage, { type: RESOURCE.user, identifier: null }, scope);
    return mutate(this.ctx, caller, { action: 'user.create', resourceType: RESOURCE.user, scope }, async (tx) => {
      const user = await this.users.create(caller, accountId, { email: input.email, name: input.name }, tx);
      if (input.userGroupIds && input.userGroupIds.length > 0) await this.userGroups.setGroupsOfUser(tx, accountId, user.id, input.userGroupIds);
      return { result: user, resourceId: user.id, details: { email: user.email, userGroupIds: input.userGroupIds ?? [] }, invalidate: [{ kind: 'permissions', accountId }] };
    });
  }

  /** Renames the user and, when `userGroupIds` is given, makes those their account-level groups. */
  async update(caller: Caller, accountId: string, id: string, patch: { name?: string | null; userGroupIds?: string[] | null }): Promise<User> {
    const scope = makeScope(accountId);
    validate([['name', checkUserName(patch.name)]]);
    await this.access.require(caller, P.userManage, { type: RESOURCE.user, identifier: id }, scope);
    return mutate(this.ctx, caller, { action: 'user.update', resourceType: RESOURCE.user, resourceId: id, scope }, async (tx) => {
      const u = await this.find(tx, accountId, id);
      const now = this.ctx.clock.now();
      const name = patch.name?.trim() || u.name;
      await store.updateUser(tx, id, { name, updatedAt: now });
      if (patch.userGroupIds != null) await this.userGroups.setGroupsOfUser(tx, accountId, id, patch.userGroupIds);
      return {
        result: { ...u, name, updatedAt: now },
        details: { name, ...(patch.userGroupIds != null ? { userGroupIds: patch.userGroupIds } : {}) },
        invalidate: [{ kind: 'permissions', accountId }],
      };
    });
  }

  /** Deletes the user with their API keys, tokens, memberships and role assignments. A user cannot delete themselves. */
  async delete(caller: Caller, accountId: string, id: string): Promise<void> {
    const scope = makeScope(accountId);
    await this.access.require(caller, P.userManage, { type: RESOURCE.user, identifier: id }, scope);
    if (caller.actor.type === 'USER' && caller.actor.id === id) throw InvalidArgumentError.field('id', 'you cannot delete yourself');
    await mutate(this.ctx, caller, { action: 'user.delete', resourceType: RESOURCE.user, resourceId: id, scope }, async (tx) => {
      const u = await this.find(tx, accountId, id);
      // Verification says "deleted" for the user's tokens, as when a key is deleted.
      const tokens = await tombstoneTokens(tx, { apiKeyIds: await store.apiKeyIdsOfUser(tx, id) }, this.ctx.clock.now());
      await store.deleteUser(tx, id);
      return {
        result: undefined,
        details: { email: u.email, tokensDeleted: tokens.length },
        invalidate: [{ kind: 'principal', principalId: id }, { kind: 'token', tokenIds: tokens.map((t) => t.id) }, { kind: 'permissions', accountId }],
        events: tokens.map((t) => tokenEvent('token.deleted', t)),
      };
    });
  }

  async get(caller: Caller, accountId: string, id: string): Promise<User> {
    return this.users.get(caller, accountId, id);
  }

  /** The oldest user of the account with this name, or null. */
  async getByName(caller: Caller, accountId: string, name: string): Promise<User | null> {
    await this.access.require(caller, P.userView, { type: RESOURCE.user, identifier: null }, makeScope(accountId));
    return (await store.getUsersByName(this.ctx.store.db, accountId, name))[0] ?? null;
  }

  /** The user of the account with this email (case-insensitive), or null. */
  async getByEmail(caller: Caller, accountId: string, email: string): Promise<User | null> {
    await this.access.require(caller, P.userView, { type: RESOURCE.user, identifier: null }, makeScope(accountId));
    return store.getUserByEmail(this.ctx.store.db, accountId, email.trim());
  }
}
