/** Accounts, organizations and projects: the scopes everything else lives in. */
import { ConflictError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../domain/errors.js';
import { ACCOUNT_ID_PATTERN, newAccountId, newUuid } from '../domain/ids.js';
import type { Account, Organization, Project, Tags } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope, type Scope } from '../domain/scope.js';
import { checkDescription, checkIdentifier, checkName, checkTags, normalizeTags, validate } from '../domain/validation.js';
import type { Db } from '../store/database.js';
import { isUniqueViolation } from '../store/database.js';
import * as store from '../store/accounts.js';
import { tombstoneTokens, type TombstonedToken } from '../store/tokens.js';
import type { ListQuery, ListResult } from '../store/rows.js';
import { mutate } from './audit.js';
import { tokenEvent } from './webhookEvents.js';
import type { AccessCheck, Caller, ServiceContext } from './context.js';

/** Harness's INVALID_ARGUMENT for a scope that does not exist. */
export async function assertScopeExists(db: Db, scope: Scope): Promise<void> {
  const account = await store.getAccount(db, scope.accountId);
  const fail = () =>
    new InvalidArgumentError(`Project [${scope.projectId ?? ''}] in Org [${scope.orgId ?? ''}] and Account [${scope.accountId}] does not exist`, [], 'scope_missing');
  if (!account) throw fail();
  if (scope.orgId && !(await store.getOrganization(db, scope.accountId, scope.orgId))) throw fail();
  if (scope.orgId && scope.projectId && !(await store.getProject(db, scope.accountId, scope.orgId, scope.projectId))) throw fail();
}

export interface OrgInput {
  identifier: string;
  name: string;
  description?: string | null;
  tags?: Tags | null;
}

export interface ProjectInput extends OrgInput {
  color?: string | null;
  modules?: string[] | null;
}

export class ScopeService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessCheck,
  ) {}

  // ---- accounts: created by system operators ----

  async createAccount(caller: Caller, input: { id?: string | null; name: string }, tx?: Db): Promise<Account> {
    if (caller.actor.type !== 'SYSTEM' && !(caller.actor.type === 'USER' && caller.actor.isOperator)) {
      throw new PermissionDeniedError('Only a system operator can create accounts');
    }
    const id = input.id ?? newAccountId();
    if (!ACCOUNT_ID_PATTERN.test(id)) throw InvalidArgumentError.field('id', 'can only contain alphanumeric, underscore and hyphen characters (1 to 64)');
    validate([['name', typeof input.name === 'string' && input.name.trim() !== '' && input.name.length <= 128 ? null : 'must be 1 to 128 characters']]);
    const now = this.ctx.clock.now();
    const account: Account = { id, name: input.name.trim(), createdAt: now, updatedAt: now };
    const write = async (db: Db) => {
      try {
        await store.insertAccount(db, account);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`Account [${id}] already exists`, 'account', 'id');
        throw e;
      }
    };
    if (tx) {
      await write(tx);
      return account;
    }
    return mutate(this.ctx, caller, { action: 'account.create', resourceType: RESOURCE.account, resourceId: id, scope: makeScope(id) }, async (t) => {
      await write(t);
      return { result: account };
    });
  }

  async getAccount(caller: Caller, id: string): Promise<Account> {
    const a = await store.getAccount(this.ctx.store.db, id);
    const visible = caller.actor.type === 'SYSTEM' || (caller.actor.type === 'USER' && (caller.actor.isOperator || caller.actor.accountId === id)) ||
      (caller.actor.type === 'SERVICE_ACCOUNT' && caller.actor.scope.accountId === id);
    if (!a || !visible) throw new NotFoundError(`Account [${id}] does not exist`, 'account', id);
    return a;
  }

  async listAccounts(caller: Caller, offset: number, limit: number) {
    if (caller.actor.type !== 'SYSTEM' && !(caller.actor.type === 'USER' && caller.actor.isOperator)) {
      throw new PermissionDeniedError('Only a system operator can list accounts');
    }
    return store.listAccounts(this.ctx.store.db, offset, limit);
  }

  // ---- organizations ----

  async createOrganization(caller: Caller, accountId: string, input: OrgInput): Promise<Organization> {
    validate([
      ['identifier', checkIdentifier(input.identifier)],
      ['name', checkName(input.name)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
    ]);
    const scope = makeScope(accountId);
    const now = this.ctx.clock.now();
    const org: Organization = {
      id: newUuid(),
      accountId,
      identifier: input.identifier,
      name: input.name,
      description: input.description ?? '',
      tags: normalizeTags(input.tags),
      createdAt: now,
      updatedAt: now,
    };
    return mutate(this.ctx, caller, { action: 'organization.create', resourceType: RESOURCE.organization, resourceId: input.identifier, scope }, async (tx) => {
      await this.access.require(caller, P.organizationCreate, { type: RESOURCE.organization, identifier: input.identifier }, scope, tx);
      await assertScopeExists(tx, scope);
      try {
        await store.insertOrganization(tx, org);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`An organization with identifier [${input.identifier}] already exists`, 'organization', 'identifier');
        throw e;
      }
      return { result: org };
    });
  }

  async getOrganization(caller: Caller, accountId: string, identifier: string): Promise<Organization> {
    await this.access.require(caller, P.organizationView, { type: RESOURCE.organization, identifier }, makeScope(accountId, identifier));
    const org = await store.getOrganization(this.ctx.store.db, accountId, identifier);
    if (!org) throw new NotFoundError(`Organization with identifier [${identifier}] not found`, 'organization', identifier);
    return org;
  }

  async listOrganizations(caller: Caller, accountId: string, q: ListQuery): Promise<ListResult<Organization>> {
    await this.access.require(caller, P.organizationView, { type: RESOURCE.organization, identifier: null }, makeScope(accountId));
    return store.listOrganizations(this.ctx.store.db, accountId, q);
  }

  async updateOrganization(caller: Caller, accountId: string, identifier: string, input: OrgInput): Promise<Organization> {
    validate([
      ['name', checkName(input.name)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
    ]);
    const scope = makeScope(accountId, identifier);
    return mutate(this.ctx, caller, { action: 'organization.update', resourceType: RESOURCE.organization, resourceId: identifier, scope: makeScope(accountId) }, async (tx) => {
      await this.access.require(caller, P.organizationEdit, { type: RESOURCE.organization, identifier }, scope, tx);
      const org = await store.getOrganization(tx, accountId, identifier);
      if (!org) throw new NotFoundError(`Organization with identifier [${identifier}] not found`, 'organization', identifier);
      const next: Organization = { ...org, name: input.name, description: input.description ?? '', tags: normalizeTags(input.tags), updatedAt: this.ctx.clock.now() };
      await store.updateOrganization(tx, next);
      return { result: next };
    });
  }

  /** Deletes the organization and, by cascade in the services, every project and entity inside it. */
  async deleteOrganization(caller: Caller, accountId: string, identifier: string): Promise<void> {
    const scope = makeScope(accountId, identifier);
    await mutate(this.ctx, caller, { action: 'organization.delete', resourceType: RESOURCE.organization, resourceId: identifier, scope: makeScope(accountId) }, async (tx) => {
      await this.access.require(caller, P.organizationDelete, { type: RESOURCE.organization, identifier }, scope, tx);
      const org = await store.getOrganization(tx, accountId, identifier);
      if (!org) throw new NotFoundError(`Organization with identifier [${identifier}] not found`, 'organization', identifier);
      const tokens = await deleteScopedEntities(tx, scope, this.ctx.clock.now());
      await tx.deleteFrom('projects').where('account_id', '=', accountId).where('org_id', '=', identifier).execute();
      await store.deleteOrganization(tx, org.id);
      return { result: undefined, invalidate: [{ kind: 'all' }], events: tokens.map((t) => tokenEvent('token.deleted', t)) };
    });
  }

  // ---- projects ----

  async createProject(caller: Caller, accountId: string, orgId: string, input: ProjectInput): Promise<Project> {
    validate([
      ['identifier', checkIdentifier(input.identifier)],
      ['name', checkName(input.name)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
    ]);
    const scope = makeScope(accountId, orgId);
    const now = this.ctx.clock.now();
    const project: Project = {
      id: newUuid(),
      accountId,
      orgId,
      identifier: input.identifier,
      name: input.name,
      description: input.description ?? '',
      color: input.color ?? '',
      tags: normalizeTags(input.tags),
      modules: input.modules ?? [],
      createdAt: now,
      updatedAt: now,
    };
    return mutate(this.ctx, caller, { action: 'project.create', resourceType: RESOURCE.project, resourceId: input.identifier, scope }, async (tx) => {
      await this.access.require(caller, P.projectCreate, { type: RESOURCE.project, identifier: input.identifier }, scope, tx);
      await assertScopeExists(tx, scope);
      try {
        await store.insertProject(tx, project);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`A project with identifier [${input.identifier}] already exists in org [${orgId}]`, 'project', 'identifier');
        throw e;
      }
      return { result: project };
    });
  }

  async getProject(caller: Caller, accountId: string, orgId: string, identifier: string): Promise<Project> {
    await this.access.require(caller, P.projectView, { type: RESOURCE.project, identifier }, makeScope(accountId, orgId, identifier));
    const p = await store.getProject(this.ctx.store.db, accountId, orgId, identifier);
    if (!p) throw new NotFoundError(`Project with identifier [${identifier}] not found in org [${orgId}]`, 'project', identifier);
    return p;
  }

  /** Projects of the given organizations (all the account's when none is given). */
  async listProjects(caller: Caller, accountId: string, orgIds: string[], q: ListQuery): Promise<ListResult<Project>> {
    for (const orgId of orgIds.length > 0 ? orgIds : [undefined]) {
      await this.access.require(caller, P.projectView, { type: RESOURCE.project, identifier: null }, makeScope(accountId, orgId));
    }
    return store.listProjects(this.ctx.store.db, accountId, orgIds, q);
  }

  async updateProject(caller: Caller, accountId: string, orgId: string, identifier: string, input: ProjectInput): Promise<Project> {
    validate([
      ['name', checkName(input.name)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
    ]);
    const scope = makeScope(accountId, orgId, identifier);
    return mutate(this.ctx, caller, { action: 'project.update', resourceType: RESOURCE.project, resourceId: identifier, scope: makeScope(accountId, orgId) }, async (tx) => {
      await this.access.require(caller, P.projectEdit, { type: RESOURCE.project, identifier }, scope, tx);
      const p = await store.getProject(tx, accountId, orgId, identifier);
      if (!p) throw new NotFoundError(`Project with identifier [${identifier}] not found in org [${orgId}]`, 'project', identifier);
      const next: Project = {
        ...p,
        name: input.name,
        description: input.description ?? '',
        color: input.color ?? p.color,
        tags: normalizeTags(input.tags),
        modules: input.modules ?? p.modules,
        updatedAt: this.ctx.clock.now(),
      };
      await store.updateProject(tx, next);
      return { result: next };
    });
  }

  async deleteProject(caller: Caller, accountId: string, orgId: string, identifier: string): Promise<void> {
    const scope = makeScope(accountId, orgId, identifier);
    await mutate(this.ctx, caller, { action: 'project.delete', resourceType: RESOURCE.project, resourceId: identifier, scope: makeScope(accountId, orgId) }, async (tx) => {
      await this.access.require(caller, P.projectDelete, { type: RESOURCE.project, identifier }, scope, tx);
      const p = await store.getProject(tx, accountId, orgId, identifier);
      if (!p) throw new NotFoundError(`Project with identifier [${identifier}] not found in org [${orgId}]`, 'project', identifier);
      const tokens = await deleteScopedEntities(tx, scope, this.ctx.clock.now());
      await store.deleteProject(tx, p.id);
      return { result: undefined, invalidate: [{ kind: 'all' }], events: tokens.map((t) => tokenEvent('token.deleted', t)) };
    });
  }
}

/**
 * Removes what lives in a scope and below it (Harness's deleteAtAllScopes): service accounts (and by
 * foreign key their keys and tokens), API keys, role assignments, roles, user groups and account policies.
 * Returns the tokens it removed (tombstoned first), each of which gets its `token.deleted` webhook.
 */
async function deleteScopedEntities(tx: Db, scope: Scope, at: number): Promise<TombstonedToken[]> {
  const tokens = await tombstoneTokens(tx, { scope, includeChildren: true }, at);
  const tables = ['tokens', 'api_keys', 'service_accounts', 'role_assignments', 'roles', 'user_groups', 'account_policies'] as const;
  for (const t of tables) {
    let q = tx.deleteFrom(t).where('account_id', '=', scope.accountId).where('org_id', '=', scope.orgId ?? '');
    if (scope.projectId) q = q.where('project_id', '=', scope.projectId);
    await q.execute();
  }
  return tokens;
}
