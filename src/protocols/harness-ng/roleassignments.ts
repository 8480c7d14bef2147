/**
 * `/authz/api/roleassignments`, as Terraform's harness_platform_role_assignments and the Go SDK use
 * it (docs/compat/harness-ng-resources.md). Terraform updates by delete-then-create with the same
 * identifier, so an identifier is free again the moment its assignment is deleted.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../domain/errors.js';
import type { RoleAssignment } from '../../domain/model.js';
import type { ScopeLevel } from '../../domain/scope.js';
import { checkIdentifier } from '../../domain/validation.js';
import type { Services } from '../../services/index.js';
import { bodyObject, bool, ngAuth, pageResponse, paging, required, scopeFrom, str } from './context.js';
import { NgError, failureBody, ngFailure, ngInvalidRequest, success } from './errors.js';
import { bodies, ngParams, ngQuery, ngResponses, pageOf, roleAssignmentSchema } from './contracts.js';
import type { ContractApp } from '../contract/index.js';

const LEVELS: readonly ScopeLevel[] = ['account', 'organization', 'project'];
const TYPES = ['USER', 'USER_GROUP', 'SERVICE_ACCOUNT'] as const;

function level(v: string | null, field: string, req: FastifyRequest): ScopeLevel | null {
  if (v === null || v === '') return null;
  const l = v.toLowerCase() as ScopeLevel;
  if (!LEVELS.includes(l)) throw ngFailure(req, [{ field, message: 'must be one of account, organization, project' }]);
  return l;
}

function obj(b: Record<string, unknown>, name: string): Record<string, unknown> | null {
  const v = b[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new NgError(400, { code: 400, message: 'Unable to process JSON' });
  return v as Record<string, unknown>;
}

export function roleAssignmentRoutes(app: ContractApp, services: Services): void {
  const t = ['harness-ng: role assignments'];

  async function render(a: RoleAssignment) {
    const p = await services.access.describePrincipal(a);
    return {
      roleAssignment: {
        identifier: a.identifier,
        resourceGroupIdentifier: a.resourceGroupIdentifier,
        roleIdentifier: a.roleIdentifier,
        ...(a.roleScopeLevel ? { roleReference: { identifier: a.roleIdentifier, scopeLevel: a.roleScopeLevel } } : {}),
        principal: { scopeLevel: a.principalScopeLevel ?? p.scopeLevel, identifier: p.identifier, type: a.principalType },
        disabled: a.disabled,
        managed: a.managed,
      },
      scope: { accountIdentifier: a.scope.accountId, orgIdentifier: a.scope.orgId, projectIdentifier: a.scope.projectId },
      createdAt: a.createdAt,
      lastModifiedAt: a.updatedAt,
      harnessManaged: false,
    };
  }

  app.post('/roleassignments', { schema: { tags: t, summary: 'Create a role assignment', body: bodies.roleAssignment!, querystring: ngQuery.scope, response: ngResponses(roleAssignmentSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    const b = bodyObject(req);
    const principal = obj(b, 'principal');
    const roleRef = obj(b, 'roleReference');
    const identifier = str(b, 'identifier');
    const roleIdentifier = str(b, 'roleIdentifier') ?? (roleRef ? str(roleRef, 'identifier') : null);
    const resourceGroupIdentifier = str(b, 'resourceGroupIdentifier');
    const violations = [];
    if (identifier && checkIdentifier(identifier)) violations.push({ field: 'identifier', message: checkIdentifier(identifier)! });
    if (!roleIdentifier) violations.push({ field: 'roleIdentifier', message: 'must not be empty' });
    if (!principal) violations.push({ field: 'principal', message: 'must not be null' });
    if (violations.length > 0) throw ngFailure(req, violations);
    const type = str(principal!, 'type');
    const principalIdentifier = str(principal!, 'identifier');
    if (!type || !(TYPES as readonly string[]).includes(type)) {
      throw ngInvalidRequest(req, `Principal type [${type ?? ''}] is not supported; use one of ${TYPES.join(', ')}`);
    }
    if (!principalIdentifier) throw ngFailure(req, [{ field: 'identifier', message: 'must not be empty' }]);
    if (resourceGroupIdentifier === '_all_resources') throw ngInvalidRequest(req, 'The resource group _all_resources is deprecated; use _all_resources_including_child_scopes');
    const principalLevel = level(str(principal!, 'scopeLevel'), 'scopeLevel', req);
    let principalId: string;
    try {
      principalId = await services.access.resolvePrincipalId(scope, type, principalIdentifier, principalLevel);
    } catch (e) {
      if (e instanceof NotFoundError) throw ngInvalidRequest(req, e.message);
      throw e;
    }
    const a = await services.access.createAssignment(ctx.caller, scope, {
      identifier,
      roleIdentifier: roleIdentifier!,
      resourceGroupIdentifier,
      principalType: type,
      principalId,
      disabled: bool(b, 'disabled') ?? false,
      managed: bool(b, 'managed') ?? false,
      principalScopeLevel: principalLevel,
      roleScopeLevel: roleRef ? level(str(roleRef, 'scopeLevel'), 'roleReference.scopeLevel', req) : null,
    }).catch((e: unknown) => {
      if (e instanceof NotFoundError) throw ngInvalidRequest(req, e.message);
      throw e;
    });
    return success(req, await render(a));
  });

  app.get('/roleassignments/:identifier', { schema: { tags: t, summary: 'Get a role assignment', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(roleAssignmentSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const identifier = req.params.identifier;
    try {
      return success(req, await render(await services.access.getAssignment(ctx.caller, scopeFrom(req, ctx.accountId), identifier)));
    } catch (e) {
      if (e instanceof NotFoundError) throw new NgError(400, failureBody(req, 'RESOURCE_NOT_FOUND_EXCEPTION', `Role assignment with identifier [${identifier}] not found`, null));
      throw e;
    }
  });

  app.delete('/roleassignments/:identifier', { schema: { tags: t, summary: 'Delete a role assignment; data is the deleted assignment', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(roleAssignmentSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const identifier = req.params.identifier;
    try {
      return success(req, await render(await services.access.deleteAssignment(ctx.caller, scopeFrom(req, ctx.accountId), identifier)));
    } catch (e) {
      if (e instanceof NotFoundError) throw ngInvalidRequest(req, 'Invalid Role Assignment');
      throw e;
    }
  });

  const list = async (req: FastifyRequest, filter: { principalType?: string; principalId?: string; roleIdentifiers?: string[] }) => {
    const ctx = await ngAuth(services, req);
    const p = paging(req);
    const page = await services.access.listAssignments(ctx.caller, scopeFrom(req, ctx.accountId), filter, { offset: p.offset, limit: p.limit });
    const content = [];
    for (const a of page.items) content.push(await render(a));
    return success(req, pageResponse(content, page.total, p));
  };

  app.get('/roleassignments', { schema: { tags: t, summary: 'List role assignments, paged', querystring: ngQuery.roleAssignments, response: ngResponses(pageOf(roleAssignmentSchema)) } }, (req) => list(req, {}));

  app.post('/roleassignments/filter', { schema: { tags: t, summary: 'List role assignments matching a filter, paged', body: bodies.roleAssignmentFilter!, querystring: ngQuery.roleAssignments, response: ngResponses(pageOf(roleAssignmentSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const b = bodyObject(req);
    const roles = Array.isArray(b.roleFilter) ? (b.roleFilter as unknown[]).filter((r): r is string => typeof r === 'string') : [];
    const types = Array.isArray(b.principalTypeFilter) ? (b.principalTypeFilter as unknown[]).filter((r): r is string => typeof r === 'string') : [];
    const principals = Array.isArray(b.principalFilter) ? (b.principalFilter as Array<Record<string, unknown>>) : [];
    const filter: { principalType?: string; principalId?: string; roleIdentifiers?: string[] } = {};
    if (roles.length > 0) filter.roleIdentifiers = roles;
    if (types.length === 1) filter.principalType = types[0]!;
    const first = principals[0];
    if (first && typeof first.identifier === 'string' && typeof first.type === 'string') {
      try {
        filter.principalType = first.type;
        filter.principalId = await services.access.resolvePrincipalId(scopeFrom(req, ctx.accountId), first.type, first.identifier, null);
      } catch (e) {
        if (e instanceof NotFoundError) return success(req, pageResponse([], 0, paging(req)));
        throw e;
      }
    }
    return list(req, filter);
  });
}
