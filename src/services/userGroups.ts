/**
 * User groups, the one model behind Harness NG's `/ng/api/user-groups` and Harness CG's GraphQL
 * user-group mutations. A group's role assignments give permissions to its members and to the CG
 * API keys that name it. NG addresses a group by scope and identifier; CG by its id, at account
 * level, and names CG groups uniquely in the account (CG has no identifier: one is derived).
 */
import { checkCgSettings, EMPTY_CG_SETTINGS, grantsOfAccountPermissions, type CgGroupSettings, type CgPermissions } from '../domain/cgUserGroups.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../domain/errors.js';
import { newAccountId, randomAlphanumeric } from '../domain/ids.js';
import type { User, UserGroup } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope, type Scope } from '../domain/scope.js';
import { checkDescription, checkIdentifier, checkName, checkTags, normalizeTags, validate } from '../domain/validation.js';
import * as access from '../store/access.js';
import { cgApiKeysOfGroup } from '../store/cgApiKeys.js';
import { isUniqueViolation, type Db } from '../store/database.js';
import type { ListQuery, ListResult } from '../store/rows.js';
import { getUser } from '../store/users.js';
import type { AccessService } from './access.js';
import { mutate } from './audit.js';
import type { Caller, Invalidation, ServiceContext } from './context.js';
import { assertScopeExists } from './scopes.js';

/** NG: a scope and an identifier. CG: an account and the group's id (account-level groups only). */
export type GroupRef = { scope: Scope; identifier: string } | { accountId: string; id: string };

export interface GroupInput {
  /** NG: required. CG: absent, derived from the name. */
  identifier?: string | null;
  name: string;
  description?: string | null;
  tags?: Record<string, string> | null;
  /** User ids; on update, null keeps the members and a list replaces them. */
  users?: string[] | null;
  /** CG settings; a key left out (or undefined) keeps what is stored, null clears it. */
  cg?: Partial<CgGroupSettings>;
}

/** Applies the CG settings a caller gave over the stored ones: undefined keeps, anything else replaces. */
function mergeCg(current: CgGroupSettings, patch: Partial<CgGroupSettings> | undefined): CgGroupSettings {
  if (!patch) return current;
  return {
    notificationSettings: patch.notificationSettings === undefined ? current.notificationSettings : patch.notificationSettings,
    ssoSetting: patch.ssoSetting === undefined ? current.ssoSetting : patch.ssoSetting,
    permissions: patch.permissions === undefined ? current.permissions : patch.permissions,
  };
}

export interface GroupView {
  group: UserGroup;
  members: string[];
}

/** CG names: not blank, no leading or trailing whitespace (Harness's "Invalid name" rule for CG entities). */
export function checkCgName(value: unknown, what: string): string | null {
  if (typeof value !== 'string' || value.trim() === '' || value !== value.trim()) return `Invalid ${what} name`;
  if (value.length > 256) return `${what} name cannot be more than 256 characters long`;
  return null;
}

/** An NG identifier made from a CG name: invalid characters become '_', and it never starts with a digit or '$'. */
function identifierFromName(name: string): string {
  let id = name.replace(/[^0-9a-zA-Z_$]/g, '_').slice(0, 100);
  if (!/^[a-zA-Z_]/.test(id)) id = `_${id}`;
  return checkIdentifier(id) === null ? id : `_${id}`;
}

export const MAX_GROUP_MEMBERS = 1000;

const LOCK = { lock: true };

export class UserGroupService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
  ) {}

  private refScope(ref: GroupRef): Scope {
    return 'scope' in ref ? ref.scope : makeScope(ref.accountId);
  }

  private refId(ref: GroupRef): string {
    return 'scope' in ref ? ref.identifier : ref.id;
  }

  /**
   * CG account permission types that Keyward honours grant permissions like a role assignment does,
   * so adding to what a group grants takes what granting a role takes (`core_roleassignment_edit`),
   * not just `core_usergroup_manage`: else managing groups would be a way to grant oneself more.
   */
  private async assertMayChangeGrants(caller: Caller, scope: Scope, before: CgPermissions | null, after: CgPermissions | null, db?: Db): Promise<void> {
    const a = new Set(grantsOfAccountPermissions(before?.accountPermissionTypes ?? []));
    const b = new Set(grantsOfAccountPermissions(after?.accountPermissionTypes ?? []));
    if ([...b].every((p) => a.has(p))) return; // taking grants away escalates nothing
    await this.access.require(caller, P.roleAssignmentEdit, { type: RESOURCE.roleAssignment, identifier: null }, scope, db);
  }

  /**
   * The group, or NotFoundError. With `lock`, inside a mutation's transaction, its row stays locked until
   * the transaction ends, so two changes of one group (a read, then a write of what was read) run one
   * after the other instead of the later one overwriting the earlier (see forUpdate).
   */
  private async find(db: Db, ref: GroupRef, opts: { lock?: boolean } = {}): Promise<UserGroup> {
    let g: UserGroup | null;
    if ('scope' in ref) g = await access.getUserGroup(db, ref.scope, ref.identifier, opts);
    else {
      g = await access.getUserGroupById(db, ref.id, opts);
      // CG sees only account-level groups of its own account; anything else is "not found".
      if (g && (g.scope.accountId !== ref.accountId || g.scope.orgId !== null || g.scope.projectId !== null)) g = null;
    }
    if (!g) throw new NotFoundError(`User group [${this.refId(ref)}] does not exist`, 'usergroup', this.refId(ref));
    return g;
  }

  private async setMembers(db: Db, group: UserGroup, users: string[], now: number): Promise<void> {
    const wanted = [...new Set(users)];
    if (wanted.length > MAX_GROUP_MEMBERS) throw InvalidArgumentError.field('users', `can hold at most ${MAX_GROUP_MEMBERS} users`);
    for (const userId of wanted) {
      const u = await getUser(db, userId);
      if (!u || u.accountId !== group.scope.accountId) throw new NotFoundError(`User [${userId}] does not exist in account [${group.scope.accountId}]`, 'user', userId);
    }
    const current = await access.membersOf(db, group.id);
    for (const u of current) if (!wanted.includes(u)) await access.removeMember(db, group.id, u);
    for (const u of wanted) if (!current.includes(u)) await access.addMember(db, group.id, u, now);
  }

  /** CG: names are unique among the account-level groups of the account. */
  private async assertCgNameFree(db: Db, accountId: string, name: string, except: string | null): Promise<void> {
    if ((await access.getUserGroupsByName(db, makeScope(accountId), name)).some((g) => g.id !== except)) {
      throw new ConflictError(`User group with name [${name}] already exists in account [${accountId}]`, 'usergroup', 'name');
    }
  }

  private validateInput(input: Partial<GroupInput>, cg: boolean, create: boolean): void {
    validate([
      ['identifier', cg ? null : create ? checkIdentifier(input.identifier) : null],
      ['name', cg ? (create || input.name != null ? checkCgName(input.name, 'user group') : null) : create || input.name != null ? checkName(input.name) : null],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
      ['cg', input.cg ? checkCgSettings(input.cg) : null],
    ]);
  }

  async create(caller: Caller, where: { scope: Scope } | { accountId: string }, input: GroupInput): Promise<GroupView> {
    const cg = !('scope' in where);
    const scope = cg ? makeScope(where.accountId) : where.scope;
    this.validateInput(input, cg, true);
    await this.access.require(caller, P.userGroupManage, { type: RESOURCE.userGroup, identifier: input.identifier ?? null }, scope);
    const now = this.ctx.clock.now();
    const group: UserGroup = {
      id: newAccountId(),
      scope,
      identifier: input.identifier ?? identifierFromName(input.name),
      name: input.name,
      description: input.description ?? '',
      tags: normalizeTags(input.tags),
      cg: mergeCg(EMPTY_CG_SETTINGS, input.cg),
      createdAt: now,
      updatedAt: now,
    };
    return mutate(this.ctx, caller, { action: 'usergroup.create', resourceType: RESOURCE.userGroup, resourceId: group.identifier, scope }, async (tx) => {
      await this.assertMayChangeGrants(caller, scope, null, group.cg.permissions, tx);
      await assertScopeExists(tx, scope);
      if (cg) {
        await this.assertCgNameFree(tx, scope.accountId, group.name, null);
        // A derived identifier may collide with another group's: make it unique.
        if (await access.getUserGroup(tx, scope, group.identifier)) group.identifier = `${group.identifier.slice(0, 100)}_${randomAlphanumeric(8)}`;
      }
      try {
        await access.insertUserGroup(tx, group);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`A user group with identifier ${group.identifier} already exists in the scope`, 'usergroup', 'identifier');
        throw e;
      }
      await this.setMembers(tx, group, input.users ?? [], now);
      return {
        result: { group, members: await access.membersOf(tx, group.id) },
        resourceId: group.identifier,
        details: { id: group.id, name: group.name, users: input.users ?? [] },
        // A new group's CG account permissions count for its members and keys at once.
        invalidate: group.cg.permissions ? [{ kind: 'permissions', accountId: scope.accountId }] : [],
      };
    });
  }

  async update(caller: Caller, ref: GroupRef, patch: Partial<GroupInput>): Promise<GroupView> {
    const cg = !('scope' in ref);
    this.validateInput(patch, cg, false);
    const scope = this.refScope(ref);
    await this.access.require(caller, P.userGroupManage, { type: RESOURCE.userGroup, identifier: this.refId(ref) }, scope);
    return mutate(this.ctx, caller, { action: 'usergroup.update', resourceType: RESOURCE.userGroup, resourceId: this.refId(ref), scope }, async (tx) => {
      const group = await this.find(tx, ref, LOCK);
      if (cg && patch.name != null && patch.name !== group.name) await this.assertCgNameFree(tx, scope.accountId, patch.name, group.id);
      const now = this.ctx.clock.now();
      const next: UserGroup = {
        ...group,
        name: patch.name ?? group.name,
        description: patch.description === undefined ? group.description : (patch.description ?? ''),
        tags: patch.tags === undefined ? group.tags : normalizeTags(patch.tags),
        cg: mergeCg(group.cg, patch.cg),
        updatedAt: now,
      };
      await this.assertMayChangeGrants(caller, scope, group.cg.permissions, next.cg.permissions, tx);
      await access.updateUserGroup(tx, next);
      if (patch.users != null) await this.setMembers(tx, next, patch.users, now);
      return {
        result: { group: next, members: await access.membersOf(tx, group.id) },
        resourceId: group.identifier,
        details: { id: group.id, name: next.name, ...(patch.users != null ? { users: patch.users } : {}) },
        invalidate: [{ kind: 'permissions', accountId: scope.accountId }],
      };
    });
  }

  /**
   * Changes a CG group's permissions from what is stored (CG's updateUserGroupPermissions,
   * addAccountPermission, addAppPermission). The account permission types Keyward honours change
   * what the group's members and CG keys may do, so every permission answer of the account is evicted.
   */
  async changeCgPermissions(caller: Caller, ref: { accountId: string; id: string }, change: (current: CgPermissions | null) => CgPermissions): Promise<GroupView> {
    const scope = makeScope(ref.accountId);
    await this.access.require(caller, P.userGroupManage, { type: RESOURCE.userGroup, identifier: ref.id }, scope);
    return mutate(this.ctx, caller, { action: 'usergroup.permissions.update', resourceType: RESOURCE.userGroup, resourceId: ref.id, scope }, async (tx) => {
      const group = await this.find(tx, ref, LOCK);
      const permissions = change(group.cg.permissions);
      validate([['permissions', checkCgSettings({ permissions })]]);
      await this.assertMayChangeGrants(caller, scope, group.cg.permissions, permissions, tx);
      const next: UserGroup = { ...group, cg: { ...group.cg, permissions }, updatedAt: this.ctx.clock.now() };
      await access.updateUserGroup(tx, next);
      return {
        result: { group: next, members: await access.membersOf(tx, group.id) },
        resourceId: group.identifier,
        details: { id: group.id, accountPermissionTypes: permissions.accountPermissionTypes, appPermissions: permissions.appPermissions.length },
        invalidate: [{ kind: 'permissions', accountId: scope.accountId }],
      };
    });
  }

  /** A page of a group's members, as users (CG's `UserGroup.users`). */
  async membersPage(caller: Caller, ref: GroupRef, page: { offset: number; limit: number }): Promise<ListResult<User>> {
    const { members } = await this.get(caller, ref);
    const items: User[] = [];
    for (const id of members.slice(page.offset, page.offset + page.limit)) {
      const u = await getUser(this.ctx.store.db, id);
      if (u) items.push(u);
    }
    return { items, total: members.length };
  }

  /** The account-level groups a user of the account belongs to, paged (CG's `User.userGroups`). */
  async groupsOfUser(caller: Caller, accountId: string, userId: string, page: { offset: number; limit: number }): Promise<ListResult<UserGroup>> {
    const scope = makeScope(accountId);
    await this.access.require(caller, P.userGroupView, { type: RESOURCE.userGroup, identifier: null }, scope);
    const db = this.ctx.store.db;
    const u = await getUser(db, userId);
    if (!u || u.accountId !== accountId) throw new NotFoundError(`User [${userId}] does not exist in account [${accountId}]`, 'user', userId);
    return access.listGroupsOfUser(db, scope, userId, page);
  }

  /**
   * Makes the user a member of exactly these account-level groups (CG's createUser and updateUser
   * with `userGroupIds`), inside the caller's transaction. Unknown groups are refused.
   */
  async setGroupsOfUser(tx: Db, accountId: string, userId: string, groupIds: string[]): Promise<void> {
    const wanted = await this.resolveCgGroups(tx, accountId, groupIds);
    const current = (await access.groupsOfUser(tx, userId)).filter((g) => !wanted.includes(g));
    for (const g of current) {
      const group = await access.getUserGroupById(tx, g);
      // Only account-level groups are CG's to change; org and project memberships stay.
      if (group && group.scope.orgId === null && group.scope.projectId === null) await access.removeMember(tx, g, userId);
    }
    const now = this.ctx.clock.now();
    const have = await access.groupsOfUser(tx, userId);
    for (const g of wanted) if (!have.includes(g)) await access.addMember(tx, g, userId, now);
  }

  async delete(caller: Caller, ref: GroupRef): Promise<GroupView> {
    const scope = this.refScope(ref);
    await this.access.require(caller, P.userGroupManage, { type: RESOURCE.userGroup, identifier: this.refId(ref) }, scope);
    return mutate(this.ctx, caller, { action: 'usergroup.delete', resourceType: RESOURCE.userGroup, resourceId: this.refId(ref), scope }, async (tx) => {
      const group = await this.find(tx, ref, LOCK);
      const members = await access.membersOf(tx, group.id);
      const keys = await cgApiKeysOfGroup(tx, group.id);
      await access.deleteAssignmentsOfPrincipal(tx, 'USER_GROUP', group.id);
      await tx.deleteFrom('cg_api_key_user_groups').where('user_group_id', '=', group.id).execute();
      await access.deleteUserGroup(tx, group.id);
      const invalidate: Invalidation[] = [{ kind: 'permissions', accountId: scope.accountId }];
      if (keys.length > 0) invalidate.push({ kind: 'apiKey', apiKeyIds: keys });
      return { result: { group, members }, resourceId: group.identifier, details: { id: group.id, name: group.name }, invalidate };
    });
  }

  async get(caller: Caller, ref: GroupRef): Promise<GroupView> {
    const scope = this.refScope(ref);
    await this.access.require(caller, P.userGroupView, { type: RESOURCE.userGroup, identifier: this.refId(ref) }, scope);
    const db = this.ctx.store.db;
    const group = await this.find(db, ref);
    return { group, members: await access.membersOf(db, group.id) };
  }

  /** The account-level group of that name (CG's userGroupByName), or null. */
  async getByName(caller: Caller, accountId: string, name: string): Promise<GroupView | null> {
    const scope = makeScope(accountId);
    await this.access.require(caller, P.userGroupView, { type: RESOURCE.userGroup, identifier: null }, scope);
    const db = this.ctx.store.db;
    const group = (await access.getUserGroupsByName(db, scope, name))[0];
    return group ? { group, members: await access.membersOf(db, group.id) } : null;
  }

  async list(caller: Caller, scope: Scope, q: ListQuery): Promise<ListResult<GroupView>> {
    await this.access.require(caller, P.userGroupView, { type: RESOURCE.userGroup, identifier: null }, scope);
    const db = this.ctx.store.db;
    const page = await access.listUserGroups(db, scope, q);
    const items: GroupView[] = [];
    for (const group of page.items) items.push({ group, members: await access.membersOf(db, group.id) });
    return { items, total: page.total };
  }

  async setMembership(caller: Caller, ref: GroupRef, userId: string, member: boolean): Promise<GroupView> {
    const scope = this.refScope(ref);
    await this.access.require(caller, P.userGroupManage, { type: RESOURCE.userGroup, identifier: this.refId(ref) }, scope);
    const action = member ? 'usergroup.member.add' : 'usergroup.member.remove';
    return mutate(this.ctx, caller, { action, resourceType: RESOURCE.userGroup, resourceId: this.refId(ref), scope }, async (tx) => {
      const group = await this.find(tx, ref, LOCK);
      const u = await getUser(tx, userId);
      if (!u || u.accountId !== scope.accountId) throw new NotFoundError(`User [${userId}] does not exist in account [${scope.accountId}]`, 'user', userId);
      const current = await access.membersOf(tx, group.id);
      if (member && !current.includes(userId)) await access.addMember(tx, group.id, userId, this.ctx.clock.now());
      if (!member && current.includes(userId)) await access.removeMember(tx, group.id, userId);
      return {
        result: { group, members: await access.membersOf(tx, group.id) },
        resourceId: group.identifier,
        details: { userId },
        invalidate: [{ kind: 'permissions', accountId: scope.accountId }],
      };
    });
  }

  /** Internal ids of account-level groups of the account, resolved from the ids a CG caller gives; unknown ones are refused. */
  async resolveCgGroups(db: Db, accountId: string, ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of new Set(ids)) out.push((await this.find(db, { accountId, id })).id);
    return out;
  }
}
