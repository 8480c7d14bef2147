/**
 * Access control: built-in and custom roles, role assignments to users, service accounts and user
 * groups at a scope, inherited downward, and the one question "may this principal do P on R at S".
 */
import { ConflictError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../domain/errors.js';
import { newUuid, randomAlphanumeric } from '../domain/ids.js';
import type { Actor, Principal, Role, RoleAssignment } from '../domain/model.js';
import { BUILT_IN_ROLE_BY_ID, BUILT_IN_ROLES, DEFAULT_RESOURCE_GROUP, P, RESOURCE } from '../domain/permissions.js';
import { makeScope, sameScope, scopeChain, scopeContains, scopeLevel, type Scope, type ScopeLevel } from '../domain/scope.js';
import { checkDescription, checkIdentifier, checkName, validate } from '../domain/validation.js';
import type { Db } from '../store/database.js';
import { isUniqueViolation } from '../store/database.js';
import * as access from '../store/access.js';
import { getServiceAccount, getServiceAccountById } from '../store/serviceAccounts.js';
import { getUser } from '../store/users.js';
import { groupsOfCgApiKey } from '../store/cgApiKeys.js';
import { grantsOfAccountPermissions } from '../domain/cgUserGroups.js';
import type { ListQuery, ListResult } from '../store/rows.js';
import { mutate } from './audit.js';
import type { Verified } from '../domain/verification.js';
import type { PermissionCache } from './permissionCache.js';
import type { AccessCheck, Caller, ResourceRef, ServiceContext } from './context.js';

export type { ResourceRef };
import { assertScopeExists } from './scopes.js';

export type { Principal };

export function principalOf(actor: Actor): Principal | null {
  if (actor.type === 'USER') return { type: 'USER', id: actor.id, accountId: actor.accountId };
  if (actor.type === 'SERVICE_ACCOUNT') return { type: 'SERVICE_ACCOUNT', id: actor.id, identifier: actor.identifier, scope: actor.scope };
  if (actor.type === 'API_KEY') return { type: 'API_KEY', id: actor.id, accountId: actor.accountId };
  return null;
}

function principalAccount(p: Principal): string {
  return p.type === 'SERVICE_ACCOUNT' ? p.scope.accountId : p.accountId;
}

/** The permissions a role grants; custom roles are looked up at the assignment's scope and above. */
function rolePermissions(roleIdentifier: string, assignmentScope: Scope, customRoles: Role[]): readonly string[] {
  const builtIn = BUILT_IN_ROLE_BY_ID.get(roleIdentifier);
  if (builtIn) return builtIn.permissions;
  for (const s of scopeChain(assignmentScope)) {
    const r = customRoles.find(
      (c) => c.identifier === roleIdentifier && c.scope && c.scope.orgId === s.orgId && c.scope.projectId === s.projectId,
    );
    if (r) return r.permissions;
  }
  return [];
}

/**
 * Every permission the principal holds at `scope`: the union of the roles assigned to it, and to
 * its user groups, at that scope or any ancestor.
 */
export async function effectivePermissions(db: Db, principal: Principal, scope: Scope): Promise<Set<string>> {
  const accountId = principalAccount(principal);
  const out = new Set<string>();
  if (accountId !== scope.accountId) return out;
  const holders: Array<{ type: string; id: string }> = [];
  // A CG key holds no assignment of its own: only its user groups' (docs/compat/harness-cg.md).
  if (principal.type !== 'API_KEY') holders.push({ type: principal.type, id: principal.id });
  if (principal.type === 'USER') for (const g of await access.groupsOfUser(db, principal.id)) holders.push({ type: 'USER_GROUP', id: g });
  if (principal.type === 'API_KEY') for (const g of await groupsOfCgApiKey(db, principal.id)) holders.push({ type: 'USER_GROUP', id: g });
  // Harness CG account permissions on the principal's groups grant what they name in Keyward, account-wide.
  const groups = holders.filter((h) => h.type === 'USER_GROUP').map((h) => h.id);
  for (const p of grantsOfAccountPermissions(await access.cgAccountPermissionTypesOfGroups(db, groups))) out.add(p);
  const assignments = (await access.assignmentsOfPrincipals(db, accountId, holders)).filter((a) => scopeContains(a.scope, scope));
  if (assignments.length === 0) return out;
  const needsCustom = assignments.some((a) => !BUILT_IN_ROLE_BY_ID.has(a.roleIdentifier));
  const custom = needsCustom ? await access.rolesOfAccount(db, accountId) : [];
  for (const a of assignments) for (const p of rolePermissions(a.roleIdentifier, a.scope, custom)) out.add(p);
  return out;
}

/** The answer of `AccessService.grants`. */
export type Grant = 'granted' | 'out_of_scope' | 'permission_denied';

function deniedMessage(principal: Principal, permission: string, resource: ResourceRef): string {
  const who = principal.type === 'SERVICE_ACCOUNT' ? principal.identifier : principal.id;
  const on = `${resource.type.toLowerCase()}${resource.identifier ? ` with identifier ${resource.identifier}` : ''}`;
  return `Principal of type ${principal.type} with identifier ${who} : Missing permission ${permission} on ${on}`;
}

export class AccessService implements AccessCheck {
  private permissionCache: PermissionCache | null = null;

  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Lets checks outside a transaction use the verification service's permission cache (kept only
   * while no invalidation has happened since it was read, so a role change counts at once).
   */
  usePermissionCache(cache: PermissionCache): void {
    this.permissionCache = cache;
  }

  /** `db` is the caller's transaction when there is one: SQLite has one connection, so reading outside it would wait forever. */
  async can(principal: Principal, permission: string, scope: Scope, db: Db = this.ctx.store.db): Promise<boolean> {
    // Inside a transaction, read what the transaction sees; outside, a cached answer is as fresh.
    if (this.permissionCache !== null && db === this.ctx.store.db) {
      return (await this.permissionCache.get(principal, scope, () => effectivePermissions(db, principal, scope))).includes(permission);
    }
    return (await effectivePermissions(db, principal, scope)).has(permission);
  }

  /**
   * What a gateway asks of a verified token (GET /v1/verify): may it act at `scope` (null: its key's own
   * scope), holding `permission` there (null: no particular permission)? A scope outside the key's is
   * never granted (a project's key does not act in another project, nor at its account). At the key's
   * own scope the answer is the verification's permission list, synchronously and without I/O; at an
   * inner scope it is the principal's permissions there (cached), which include what is assigned there.
   */
  grants(v: Verified, permission: string | null, scope: Scope | null): Grant | Promise<Grant> {
    if (scope !== null && !scopeContains(v.scope, scope)) return 'out_of_scope';
    if (permission === null) return 'granted';
    if (scope === null || sameScope(scope, v.scope)) return v.permissions.includes(permission) ? 'granted' : 'permission_denied';
    const p = v.principal;
    const principal: Principal =
      p.type === 'SERVICE_ACCOUNT' ? { type: 'SERVICE_ACCOUNT', id: p.id, identifier: p.identifier, scope: p.scope } : { type: p.type, id: p.id, accountId: v.accountId };
    return this.can(principal, permission, scope).then((ok) => (ok ? 'granted' : 'permission_denied'));
  }

  /** Throws PermissionDeniedError, naming the failed check, unless the caller holds the permission. */
  async require(caller: Caller, permission: string, resource: ResourceRef, scope: Scope, db: Db = this.ctx.store.db): Promise<void> {
    const principal = principalOf(caller.actor);
    if (caller.actor.type === 'SYSTEM') return;
    if (principal && (await this.can(principal, permission, scope, db))) return;
    throw new PermissionDeniedError(
      principal ? deniedMessage(principal, permission, resource) : `Missing permission ${permission}`,
      [{ permission, resourceType: resource.type, resourceIdentifier: resource.identifier, scope }],
    );
  }

  // ---- roles ----

  async listRoles(caller: Caller, scope: Scope): Promise<Role[]> {
    await this.require(caller, P.roleView, { type: RESOURCE.role, identifier: null }, scope);
    const level = scopeLevel(scope);
    const builtIn: Role[] = BUILT_IN_ROLES.filter((r) => r.level === level).map((r) => ({
      identifier: r.identifier,
      name: r.name,
      description: '',
      scope: null,
      permissions: [...r.permissions],
      managed: true,
    }));
    return [...builtIn, ...(await access.listRoles(this.ctx.store.db, scope))];
  }

  async resolveRole(scope: Scope, identifier: string): Promise<Role | null> {
    const b = BUILT_IN_ROLE_BY_ID.get(identifier);
    if (b) return { identifier: b.identifier, name: b.name, description: '', scope: null, permissions: [...b.permissions], managed: true };
    for (const s of scopeChain(scope)) {
      const r = await access.getRole(this.ctx.store.db, s, identifier);
      if (r) return r;
    }
    return null;
  }

  async createRole(caller: Caller, scope: Scope, input: { identifier: string; name: string; description?: string; permissions: string[] }): Promise<Role> {
    validate([
      ['identifier', checkIdentifier(input.identifier)],
      ['name', checkName(input.name)],
      ['description', checkDescription(input.description)],
    ]);
    if (BUILT_IN_ROLE_BY_ID.has(input.identifier)) throw new ConflictError(`Role [${input.identifier}] already exists`, 'role', 'identifier');
    await this.require(caller, P.roleEdit, { type: RESOURCE.role, identifier: input.identifier }, scope);
    const now = this.ctx.clock.now();
    const role: Role = { identifier: input.identifier, name: input.name, description: input.description ?? '', scope, permissions: [...new Set(input.permissions)], managed: false };
    return mutate(this.ctx, caller, { action: 'role.create', resourceType: RESOURCE.role, resourceId: input.identifier, scope }, async (tx) => {
      await assertScopeExists(tx, scope);
      try {
        await access.insertRole(tx, { ...role, id: newUuid(), createdAt: now });
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`Role [${input.identifier}] already exists`, 'role', 'identifier');
        throw e;
      }
      return { result: role };
    });
  }

  // ---- role assignments ----

  async listAssignments(
    caller: Caller,
    scope: Scope,
    filter: { principalType?: string; principalId?: string; roleIdentifiers?: string[] },
    q: ListQuery,
  ): Promise<ListResult<RoleAssignment>> {
    await this.require(caller, P.roleAssignmentView, { type: RESOURCE.roleAssignment, identifier: null }, scope);
    return access.listRoleAssignments(this.ctx.store.db, scope, filter, q);
  }

  async createAssignment(
    caller: Caller,
    scope: Scope,
    input: {
      identifier?: string | null;
      roleIdentifier: string;
      resourceGroupIdentifier?: string | null;
      principalType: string;
      principalId: string;
      disabled?: boolean;
      managed?: boolean;
      principalScopeLevel?: ScopeLevel | null;
      roleScopeLevel?: ScopeLevel | null;
    },
  ): Promise<RoleAssignment> {
    const identifier = input.identifier || `role_assignment_${randomAlphanumeric(20)}`;
    validate([['identifier', checkIdentifier(identifier)]]);
    if (!['USER', 'SERVICE_ACCOUNT', 'USER_GROUP'].includes(input.principalType)) {
      throw InvalidArgumentError.field('principal.type', `must be one of USER, SERVICE_ACCOUNT, USER_GROUP`);
    }
    await this.require(caller, P.roleAssignmentEdit, { type: RESOURCE.roleAssignment, identifier }, scope);
    const role = await this.resolveRole(scope, input.roleIdentifier);
    if (!role) throw new NotFoundError(`Role [${input.roleIdentifier}] does not exist in the scope`, 'role', input.roleIdentifier);
    const now = this.ctx.clock.now();
    const assignment: RoleAssignment = {
      id: newUuid(),
      scope,
      identifier,
      roleIdentifier: input.roleIdentifier,
      resourceGroupIdentifier: input.resourceGroupIdentifier || DEFAULT_RESOURCE_GROUP[scopeLevel(scope)],
      principalType: input.principalType as RoleAssignment['principalType'],
      principalId: input.principalId,
      disabled: input.disabled ?? false,
      managed: input.managed ?? false,
      principalScopeLevel: input.principalScopeLevel ?? null,
      roleScopeLevel: input.roleScopeLevel ?? null,
      createdAt: now,
      updatedAt: now,
    };
    return mutate(this.ctx, caller, { action: 'roleassignment.create', resourceType: RESOURCE.roleAssignment, resourceId: identifier, scope }, async (tx) => {
      await assertScopeExists(tx, scope);
      await this.assertPrincipalExists(tx, scope, assignment.principalType, assignment.principalId);
      try {
        await access.insertRoleAssignment(tx, assignment);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`A role assignment with identifier ${identifier} or the same role, resource group and principal already exists`, 'roleassignment');
        throw e;
      }
      return {
        result: assignment,
        details: { role: assignment.roleIdentifier, principalType: assignment.principalType, principalId: assignment.principalId },
        invalidate: [{ kind: 'permissions', accountId: scope.accountId }],
      };
    });
  }

  async deleteAssignment(caller: Caller, scope: Scope, identifier: string): Promise<RoleAssignment> {
    await this.require(caller, P.roleAssignmentDelete, { type: RESOURCE.roleAssignment, identifier }, scope);
    return mutate(this.ctx, caller, { action: 'roleassignment.delete', resourceType: RESOURCE.roleAssignment, resourceId: identifier, scope }, async (tx) => {
      const a = await access.getRoleAssignment(tx, scope, identifier);
      if (!a) throw new NotFoundError(`Role assignment [${identifier}] does not exist in the scope`, 'roleassignment', identifier);
      if (a.managed) throw new InvalidArgumentError(`Managed role assignment [${identifier}] cannot be deleted`);
      await access.deleteRoleAssignment(tx, a.id);
      return {
        result: a,
        details: { role: a.roleIdentifier, principalType: a.principalType, principalId: a.principalId },
        invalidate: [{ kind: 'permissions', accountId: scope.accountId }],
      };
    });
  }

  /** The scope a principal named at `level` lives in, seen from `scope` (a level below the scope is refused). */
  static principalScope(scope: Scope, level: ScopeLevel | null): Scope {
    if (level === 'account') return makeScope(scope.accountId);
    if (level === 'organization') {
      if (!scope.orgId) throw InvalidArgumentError.field('principal.scopeLevel', 'cannot be below the scope of the role assignment');
      return makeScope(scope.accountId, scope.orgId);
    }
    if (level === 'project' && !scope.projectId) throw InvalidArgumentError.field('principal.scopeLevel', 'cannot be below the scope of the role assignment');
    return scope;
  }

  /**
   * Finds a principal's internal id from the identifier callers use: a user's id, or a service
   * account's or user group's identifier in the scope named by `level` (default: the assignment's).
   */
  async resolvePrincipalId(scope: Scope, type: string, identifier: string, level: ScopeLevel | null): Promise<string> {
    const db = this.ctx.store.db;
    if (type === 'USER') {
      const u = await getUser(db, identifier);
      if (!u || u.accountId !== scope.accountId) throw new NotFoundError(`User [${identifier}] does not exist in account [${scope.accountId}]`, 'user', identifier);
      return u.id;
    }
    const where = AccessService.principalScope(scope, level);
    if (type === 'SERVICE_ACCOUNT') {
      const sa = await getServiceAccount(db, where, identifier);
      if (!sa) throw new NotFoundError(`Service account [${identifier}] does not exist in the scope`, 'serviceaccount', identifier);
      return sa.id;
    }
    if (type === 'USER_GROUP') {
      const g = await access.getUserGroup(db, where, identifier);
      if (!g) throw new NotFoundError(`User group [${identifier}] does not exist in the scope`, 'usergroup', identifier);
      return g.id;
    }
    throw InvalidArgumentError.field('principal.type', 'must be one of USER, USER_GROUP, SERVICE_ACCOUNT');
  }

  /** The identifier and scope level callers know a principal by. */
  async describePrincipal(a: RoleAssignment): Promise<{ identifier: string; scopeLevel: ScopeLevel | null }> {
    const db = this.ctx.store.db;
    if (a.principalType === 'USER') return { identifier: a.principalId, scopeLevel: null };
    if (a.principalType === 'SERVICE_ACCOUNT') {
      const sa = await getServiceAccountById(db, a.principalId);
      return { identifier: sa?.identifier ?? a.principalId, scopeLevel: sa ? scopeLevel(sa.scope) : a.principalScopeLevel };
    }
    const g = await access.getUserGroupById(db, a.principalId);
    return { identifier: g?.identifier ?? a.principalId, scopeLevel: g ? scopeLevel(g.scope) : a.principalScopeLevel };
  }

  async getAssignment(caller: Caller, scope: Scope, identifier: string): Promise<RoleAssignment> {
    await this.require(caller, P.roleAssignmentView, { type: RESOURCE.roleAssignment, identifier }, scope);
    const a = await access.getRoleAssignment(this.ctx.store.db, scope, identifier);
    if (!a) throw new NotFoundError(`Role assignment with identifier [${identifier}] not found`, 'roleassignment', identifier);
    return a;
  }

  private async assertPrincipalExists(db: Db, scope: Scope, type: string, id: string): Promise<void> {
    if (type === 'USER') {
      const u = await getUser(db, id);
      if (!u || u.accountId !== scope.accountId) throw new NotFoundError(`User [${id}] does not exist in account [${scope.accountId}]`, 'user', id);
    } else if (type === 'SERVICE_ACCOUNT') {
      const sa = await getServiceAccountById(db, id);
      if (!sa || !scopeContains(sa.scope, scope)) throw new NotFoundError(`Service account [${id}] is not visible at this scope`, 'serviceaccount', id);
    } else {
      const g = await access.getUserGroupById(db, id);
      if (!g || !scopeContains(g.scope, scope)) throw new NotFoundError(`User group [${id}] is not visible at this scope`, 'usergroup', id);
    }
  }

}
