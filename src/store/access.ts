/** Roles, role assignments, user groups and their members. */
import { forUpdate, type Db } from './database.js';
import type { Role, RoleAssignment, UserGroup } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { RoleAssignmentRow, RoleRow, UserGroupRow } from './schema.js';
import { bool, int, rowScope, scopeColumns, type ListQuery, type ListResult, pagedList, SEARCH, entityWith } from './rows.js';

function inScope<QB extends { where: (...args: any[]) => QB }>(q: QB, s: Scope): QB {
  const c = scopeColumns(s);
  return q.where('account_id', '=', c.account_id).where('org_id', '=', c.org_id).where('project_id', '=', c.project_id);
}

// ---- roles --------------------------------------------------------------------------------------

const toRole = (r: RoleRow): Role => ({
  identifier: r.identifier,
  name: r.name,
  description: r.description,
  scope: rowScope(r),
  permissions: JSON.parse(r.permissions) as string[],
  managed: false,
});

export async function insertRole(db: Db, role: Role & { id: string; createdAt: number }): Promise<void> {
  await db
    .insertInto('roles')
    .values({
      id: role.id,
      ...scopeColumns(role.scope!),
      identifier: role.identifier,
      name: role.name,
      description: role.description,
      permissions: JSON.stringify(role.permissions),
      created_at: role.createdAt,
      updated_at: role.createdAt,
    })
    .execute();
}

export async function getRole(db: Db, scope: Scope, identifier: string): Promise<Role | null> {
  const r = await inScope(db.selectFrom('roles').selectAll(), scope).where('identifier', '=', identifier).executeTakeFirst();
  return r ? toRole(r) : null;
}

export async function listRoles(db: Db, scope: Scope): Promise<Role[]> {
  return (await inScope(db.selectFrom('roles').selectAll(), scope).orderBy('identifier').execute()).map(toRole);
}

/** Custom roles of an account, every scope: for resolving assignments in one read. */
export async function rolesOfAccount(db: Db, accountId: string): Promise<Role[]> {
  return (await db.selectFrom('roles').selectAll().where('account_id', '=', accountId).execute()).map(toRole);
}

export async function deleteRole(db: Db, scope: Scope, identifier: string): Promise<void> {
  await inScope(db.deleteFrom('roles'), scope).where('identifier', '=', identifier).execute();
}

// ---- role assignments ---------------------------------------------------------------------------

export const toRoleAssignment = (r: RoleAssignmentRow): RoleAssignment => ({
  id: r.id,
  scope: rowScope(r),
  identifier: r.identifier,
  roleIdentifier: r.role_identifier,
  resourceGroupIdentifier: r.resource_group_identifier,
  principalType: r.principal_type as RoleAssignment['principalType'],
  principalId: r.principal_id,
  disabled: bool(r.disabled),
  managed: bool(r.managed),
  principalScopeLevel: r.principal_scope_level as RoleAssignment['principalScopeLevel'],
  roleScopeLevel: r.role_scope_level as RoleAssignment['roleScopeLevel'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertRoleAssignment(db: Db, a: RoleAssignment): Promise<void> {
  await db
    .insertInto('role_assignments')
    .values({
      id: a.id,
      ...scopeColumns(a.scope),
      identifier: a.identifier,
      role_identifier: a.roleIdentifier,
      resource_group_identifier: a.resourceGroupIdentifier,
      principal_type: a.principalType,
      principal_id: a.principalId,
      disabled: int(a.disabled),
      managed: int(a.managed),
      principal_scope_level: a.principalScopeLevel,
      role_scope_level: a.roleScopeLevel,
      created_at: a.createdAt,
      updated_at: a.updatedAt,
    })
    .execute();
}

export async function getRoleAssignment(db: Db, scope: Scope, identifier: string): Promise<RoleAssignment | null> {
  const r = await inScope(db.selectFrom('role_assignments').selectAll(), scope).where('identifier', '=', identifier).executeTakeFirst();
  return r ? toRoleAssignment(r) : null;
}

export async function listRoleAssignments(
  db: Db,
  scope: Scope,
  filter: { principalType?: string; principalId?: string; roleIdentifiers?: string[] },
  q: ListQuery,
): Promise<ListResult<RoleAssignment>> {
  let base = inScope(db.selectFrom('role_assignments'), scope);
  if (filter.principalType) base = base.where('principal_type', '=', filter.principalType);
  if (filter.principalId) base = base.where('principal_id', '=', filter.principalId);
  if (filter.roleIdentifiers && filter.roleIdentifiers.length > 0) base = base.where('role_identifier', 'in', filter.roleIdentifiers);
  return pagedList(base, q, { defaultSort: false, then: ['created_at', 'id'], map: toRoleAssignment });
}

/** Every assignment, at any scope of the account, held by one of the given principals. */
export async function assignmentsOfPrincipals(
  db: Db,
  accountId: string,
  principals: Array<{ type: string; id: string }>,
): Promise<RoleAssignment[]> {
  if (principals.length === 0) return [];
  const rows = await db
    .selectFrom('role_assignments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('disabled', '=', 0)
    .where((eb) => eb.or(principals.map((p) => eb.and([eb('principal_type', '=', p.type), eb('principal_id', '=', p.id)]))))
    .execute();
  return rows.map(toRoleAssignment);
}

export async function deleteRoleAssignment(db: Db, id: string): Promise<void> {
  await db.deleteFrom('role_assignments').where('id', '=', id).execute();
}

export async function deleteAssignmentsOfPrincipal(db: Db, type: string, id: string): Promise<void> {
  await db.deleteFrom('role_assignments').where('principal_type', '=', type).where('principal_id', '=', id).execute();
}

// ---- user groups --------------------------------------------------------------------------------

const toUserGroup = (r: UserGroupRow): UserGroup =>
  entityWith(r, {
    cg: {
      notificationSettings: parseJson(r.cg_notification_settings),
      ssoSetting: parseJson(r.cg_sso_setting),
      permissions: parseJson(r.cg_permissions),
    },
  });

function parseJson<T>(v: string | null): T | null {
  return v === null ? null : (JSON.parse(v) as T);
}

const cgColumns = (g: UserGroup) => ({
  cg_notification_settings: g.cg.notificationSettings === null ? null : JSON.stringify(g.cg.notificationSettings),
  cg_sso_setting: g.cg.ssoSetting === null ? null : JSON.stringify(g.cg.ssoSetting),
  cg_permissions: g.cg.permissions === null ? null : JSON.stringify(g.cg.permissions),
});

export async function insertUserGroup(db: Db, g: UserGroup): Promise<void> {
  await db
    .insertInto('user_groups')
    .values({
      id: g.id,
      ...scopeColumns(g.scope),
      identifier: g.identifier,
      name: g.name,
      description: g.description,
      tags: JSON.stringify(g.tags),
      ...cgColumns(g),
      created_at: g.createdAt,
      updated_at: g.updatedAt,
    })
    .execute();
}

/** With `lock`, inside a transaction, the row stays locked until it ends (see forUpdate). */
export async function getUserGroup(db: Db, scope: Scope, identifier: string, opts: { lock?: boolean } = {}): Promise<UserGroup | null> {
  const q = inScope(db.selectFrom('user_groups').selectAll(), scope).where('identifier', '=', identifier);
  const r = await (opts.lock ? forUpdate(db, q) : q).executeTakeFirst();
  return r ? toUserGroup(r) : null;
}

/** Groups of exactly this name in the scope (names are not unique in NG; CG keeps them unique). */
export async function getUserGroupsByName(db: Db, scope: Scope, name: string): Promise<UserGroup[]> {
  return (await inScope(db.selectFrom('user_groups').selectAll(), scope).where('name', '=', name).orderBy('created_at').execute()).map(toUserGroup);
}

export async function getUserGroupById(db: Db, id: string, opts: { lock?: boolean } = {}): Promise<UserGroup | null> {
  const q = db.selectFrom('user_groups').selectAll().where('id', '=', id);
  const r = await (opts.lock ? forUpdate(db, q) : q).executeTakeFirst();
  return r ? toUserGroup(r) : null;
}

export async function listUserGroups(db: Db, scope: Scope, q: ListQuery): Promise<ListResult<UserGroup>> {
  // Sorted by the requested fields (NG sortOrders), then by creation and id so pages are stable.
  return pagedList(inScope(db.selectFrom('user_groups'), scope), q, { search: SEARCH, identifiers: true, then: ['created_at', 'id'], map: toUserGroup });
}

export async function updateUserGroup(db: Db, g: UserGroup): Promise<void> {
  await db
    .updateTable('user_groups')
    .set({ name: g.name, description: g.description, tags: JSON.stringify(g.tags), ...cgColumns(g), updated_at: g.updatedAt })
    .where('id', '=', g.id)
    .execute();
}

export async function deleteUserGroup(db: Db, id: string): Promise<void> {
  await db.deleteFrom('user_groups').where('id', '=', id).execute();
}

export async function addMember(db: Db, groupId: string, userId: string, at: number): Promise<void> {
  await db.insertInto('user_group_members').values({ user_group_id: groupId, user_id: userId, created_at: at }).execute();
}

export async function removeMember(db: Db, groupId: string, userId: string): Promise<void> {
  await db.deleteFrom('user_group_members').where('user_group_id', '=', groupId).where('user_id', '=', userId).execute();
}

export async function membersOf(db: Db, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_group_members').select('user_id').where('user_group_id', '=', groupId).orderBy('user_id').execute();
  return rows.map((r) => r.user_id);
}

/** The CG account permission types held by these groups (those that have any). */
export async function cgAccountPermissionTypesOfGroups(db: Db, groupIds: string[]): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db.selectFrom('user_groups').select('cg_permissions').where('id', 'in', groupIds).where('cg_permissions', 'is not', null).execute();
  const out = new Set<string>();
  for (const r of rows) for (const t of parseJson<{ accountPermissionTypes?: string[] }>(r.cg_permissions)?.accountPermissionTypes ?? []) out.add(t);
  return [...out];
}

/** The groups of one scope that a user belongs to, oldest first, paged (CG's User.userGroups). */
export async function listGroupsOfUser(db: Db, scope: Scope, userId: string, page: { offset: number; limit: number }): Promise<ListResult<UserGroup>> {
  const base = inScope(db.selectFrom('user_groups').innerJoin('user_group_members', 'user_group_members.user_group_id', 'user_groups.id'), scope).where('user_group_members.user_id', '=', userId);
  return pagedList(base, page, { table: 'user_groups', select: (b) => b.selectAll('user_groups'), then: ['created_at', 'id'], map: toUserGroup });
}

export async function groupsOfUser(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_group_members').select('user_group_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.user_group_id);
}
