/**
 * `/ng/api/user-groups`, as Harness's NG UserGroupResource and the Go SDK's UserGroupApi call it
 * (docs/compat/harness-cg.md cites both): create, update, get, paged list, delete, and membership.
 * Over the same user-group model as CG GraphQL: a group's role assignments give permissions to its
 * members and to the CG API keys that name it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { Scope } from '../../domain/scope.js';
import type { GroupView } from '../../services/userGroups.js';
import type { Services } from '../../services/index.js';
import { bodyObject, ngAuth, opt, pageResponse, paging, required, scopeFrom, str, tags } from './context.js';
import { NgError, ngFailure, ngInvalidRequest, success } from './errors.js';
import { bodies, ngParams, ngQuery, ngResponses, pageOf, userGroupSchema } from './contracts.js';
import { bool, type ContractApp } from '../contract/index.js';

/** UserGroupDTO, fields in declaration order; null fields left out (@JsonInclude(NON_NULL)). */
export function userGroupDto(v: GroupView) {
  const g = v.group;
  // A CG group's SSO link (docs/compat/harness-cg.md): LDAP groups are identified by their DN, SAML ones by name.
  const sso = g.cg.ssoSetting;
  return {
    accountIdentifier: g.scope.accountId,
    ...(g.scope.orgId ? { orgIdentifier: g.scope.orgId } : {}),
    ...(g.scope.projectId ? { projectIdentifier: g.scope.projectId } : {}),
    identifier: g.identifier,
    name: g.name,
    users: v.members,
    notificationConfigs: [],
    isSsoLinked: sso !== null,
    ...(sso ? { linkedSsoId: sso.ssoProviderId, linkedSsoType: sso.type, ssoGroupId: sso.type === 'LDAP' ? sso.groupDN : sso.groupName, ssoGroupName: sso.groupName } : {}),
    externallyManaged: false,
    ...(g.description !== '' ? { description: g.description } : {}),
    tags: g.tags,
    harnessManaged: false,
    ssoLinked: sso !== null,
  };
}

function users(b: Record<string, unknown>): string[] | null {
  const v = b.users;
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((u) => typeof u !== 'string')) throw new NgError(400, { code: 400, message: 'Unable to process JSON' });
  return v as string[];
}

/** validateScopes: a scope field in the body must match the query's (verifyValuesNotChanged). */
function checkBodyScope(req: FastifyRequest, b: Record<string, unknown>, scope: Scope): void {
  const pairs: Array<[string, string | null]> = [
    ['accountIdentifier', scope.accountId],
    ['orgIdentifier', scope.orgId],
    ['projectIdentifier', scope.projectId],
  ];
  for (const [field, expected] of pairs) {
    const given = str(b, field);
    if (given !== null && given !== '' && given !== expected) throw ngInvalidRequest(req, `Value for key [${field}] is set as [${given}] but expected as [${expected ?? 'null'}]`);
  }
}

export function userGroupRoutes(app: ContractApp, services: Services): void {
  const t = ['harness-ng: user groups'];

  app.post('/user-groups', { schema: { tags: t, summary: 'Create a user group', body: bodies.userGroup!, querystring: ngQuery.scope, response: ngResponses(userGroupSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    const b = bodyObject(req);
    checkBodyScope(req, b, scope);
    const view = await services.userGroups.create(ctx.caller, { scope }, {
      identifier: str(b, 'identifier') ?? '',
      name: str(b, 'name') ?? '',
      description: str(b, 'description'),
      tags: tags(b),
      users: users(b),
    });
    return success(req, userGroupDto(view));
  });

  app.put('/user-groups', { schema: { tags: t, summary: 'Update a user group (the identifier is in the body)', body: bodies.userGroup!, querystring: ngQuery.scope, response: ngResponses(userGroupSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    const b = bodyObject(req);
    checkBodyScope(req, b, scope);
    const identifier = str(b, 'identifier');
    if (!identifier) throw ngFailure(req, [{ field: 'identifier', message: 'cannot be empty' }]);
    const patch: { name?: string; description?: string | null; tags?: Record<string, string> | null; users?: string[] | null } = {};
    const name = str(b, 'name');
    if (name === null) throw ngFailure(req, [{ field: 'name', message: 'cannot be empty.' }]);
    patch.name = name;
    patch.description = str(b, 'description');
    patch.tags = tags(b) ?? {};
    const u = users(b);
    if (u !== null) patch.users = u;
    return success(req, userGroupDto(await services.userGroups.update(ctx.caller, { scope, identifier }, patch)));
  });

  app.get('/user-groups/:identifier', { schema: { tags: t, summary: 'Get a user group', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(userGroupSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    return success(req, userGroupDto(await services.userGroups.get(ctx.caller, { scope: scopeFrom(req, ctx.accountId), identifier: req.params.identifier })));
  });

  app.get('/user-groups', { schema: { tags: t, summary: 'List user groups, paged', querystring: ngQuery.paged, response: ngResponses(pageOf(userGroupSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const p = paging(req);
    const page = await services.userGroups.list(ctx.caller, scopeFrom(req, ctx.accountId), { offset: p.offset, limit: p.limit, search: p.search, sort: p.sort, identifiers: p.identifiers });
    return success(req, pageResponse(page.items.map(userGroupDto), page.total, p));
  });

  const remove = async (req: FastifyRequest, identifier: string | undefined) => {
    const ctx = await ngAuth(services, req);
    if (!identifier) throw ngFailure(req, [{ field: 'identifier', message: 'must not be empty' }]);
    return success(req, userGroupDto(await services.userGroups.delete(ctx.caller, { scope: scopeFrom(req, ctx.accountId), identifier })));
  };
  app.delete('/user-groups/:identifier', { schema: { tags: t, summary: 'Delete a user group; data is the deleted group', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(userGroupSchema) } }, (req) => remove(req, req.params.identifier));
  // The older resource took the identifier as a query parameter.
  app.delete('/user-groups', { schema: { tags: t, summary: 'Delete a user group named by ?identifier=', querystring: ngQuery.userGroupDelete, response: ngResponses(userGroupSchema) } }, (req) => remove(req, opt(req, 'identifier')));

  app.get('/user-groups/:identifier/member/:userIdentifier', { schema: { tags: t, summary: 'Whether the user is a member', params: ngParams.member, querystring: ngQuery.scope, response: ngResponses(bool) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const view = await services.userGroups.get(ctx.caller, { scope: scopeFrom(req, ctx.accountId), identifier: req.params.identifier });
    return success(req, view.members.includes(req.params.userIdentifier));
  });

  for (const [method, add] of [['PUT', true], ['DELETE', false]] as const) {
    app.route({
      method,
      url: '/user-groups/:identifier/member/:userIdentifier',
      schema: { tags: t, summary: add ? 'Add a user to the group' : 'Remove a user from the group', params: ngParams.member, querystring: ngQuery.scope, response: ngResponses(userGroupSchema) },
      handler: async (req) => {
        const ctx = await ngAuth(services, req);
        const userId = req.params.userIdentifier;
        if (userId.trim() === '') throw InvalidArgumentError.field('userIdentifier', 'cannot be empty');
        return success(req, userGroupDto(await services.userGroups.setMembership(ctx.caller, { scope: scopeFrom(req, ctx.accountId), identifier: req.params.identifier }, userId, add)));
      },
    });
  }
}
