/** `/serviceaccount` (docs/compat/harness-ng.md). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../domain/errors.js';
import type { ServiceAccount } from '../../domain/model.js';
import { P } from '../../domain/permissions.js';
import type { Scope } from '../../domain/scope.js';
import { checkEmail } from '../../domain/validation.js';
import type { Services } from '../../services/index.js';
import type { Caller } from '../../services/context.js';
import { principalOf } from '../../services/access.js';
import type { ServiceAccountInput } from '../../services/serviceAccounts.js';
import { blank, bodyObject, checkEntity, ngAuth, pageResponse, paging, required, scopeFrom, str, tags, violations } from './context.js';
import { ngFailure, ngInvalidArgument, ngInvalidRequest, success } from './errors.js';
import { serviceAccountDto } from './wire.js';
import { bodies, ngParams, ngQuery, ngResponses, pageOf, serviceAccountAggregateSchema, serviceAccountSchema } from './contracts.js';
import { arrayOf, bool, type ContractApp } from '../contract/index.js';

function readBody(req: FastifyRequest, scope: Scope): ServiceAccountInput {
  const b = bodyObject(req);
  const input = {
    identifier: str(b, 'identifier') ?? '',
    name: str(b, 'name') ?? '',
    email: str(b, 'email') ?? '',
    description: str(b, 'description'),
    tags: tags(b),
  };
  const { v, add } = violations();
  checkEntity(add, input, () => add('email', blank(input.email) ? 'must not be blank' : checkEmail(input.email)));
  if (v.length > 0) throw ngFailure(req, v);
  // A scope field in the body must agree with the query (NGUtils.verifyValuesNotChanged).
  const pairs: Array<[string | null, string | null]> = [
    [scope.accountId, str(b, 'accountIdentifier')],
    [scope.orgId, str(b, 'orgIdentifier')],
    [scope.projectId, str(b, 'projectIdentifier')],
  ];
  for (const [fromQuery, fromBody] of pairs) {
    if (fromBody !== null && fromBody !== '' && fromBody !== fromQuery) {
      throw ngInvalidRequest(req, `Value mismatch, previous: ${fromQuery ?? 'null'} current: ${fromBody}`);
    }
  }
  return input;
}

function missingAs400(req: FastifyRequest, identifier: string, e: unknown): never {
  if (e instanceof NotFoundError && e.resourceType === 'serviceaccount') throw ngInvalidRequest(req, `Service account with identifier: ${identifier} doesn't exist`);
  throw e;
}

async function aggregate(services: Services, caller: Caller, sa: ServiceAccount) {
  const assignments = await services.access
    .listAssignments(caller, sa.scope, { principalType: 'SERVICE_ACCOUNT', principalId: sa.id }, { offset: 0, limit: 100 })
    .catch(() => ({ items: [] }));
  const meta = [];
  for (const a of assignments.items) {
    const role = await services.access.resolveRole(a.scope, a.roleIdentifier);
    meta.push({
      identifier: a.identifier,
      roleIdentifier: a.roleIdentifier,
      roleName: role?.name ?? a.roleIdentifier,
      resourceGroupIdentifier: a.resourceGroupIdentifier,
      resourceGroupName: resourceGroupName(a.resourceGroupIdentifier),
      managedRole: role?.managed ?? false,
      managedRoleAssignment: a.managed,
    });
  }
  return {
    serviceAccount: serviceAccountDto(sa),
    createdAt: sa.createdAt,
    lastModifiedAt: sa.updatedAt,
    // Harness quirk kept: tokensCount holds the number of API keys.
    tokensCount: await services.serviceAccounts.apiKeyCount(sa.id),
    roleAssignmentsMetadataDTO: meta,
  };
}

function resourceGroupName(id: string): string {
  const names: Record<string, string> = {
    _all_account_level_resources: 'All Account Level Resources',
    _all_organization_level_resources: 'All Organization Level Resources',
    _all_project_level_resources: 'All Project Level Resources',
    _all_resources_including_child_scopes: 'All Resources Including Child Scopes',
  };
  return names[id] ?? id;
}

/** Lists are filtered to what the caller may view: without the permission, the list is empty. */
async function mayView(services: Services, caller: Caller, scope: Scope): Promise<boolean> {
  const p = principalOf(caller.actor);
  return caller.actor.type === 'SYSTEM' || (p !== null && (await services.access.can(p, P.serviceAccountView, scope)));
}

export function serviceAccountRoutes(app: ContractApp, services: Services): void {
  const t = ['harness-ng: service accounts'];

  app.post('/serviceaccount', { schema: { tags: t, summary: 'Create a service account', body: bodies.serviceAccount!, querystring: ngQuery.scope, response: ngResponses(serviceAccountSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    const sa = await services.serviceAccounts.create(ctx.caller, scope, readBody(req, scope));
    return success(req, serviceAccountDto(sa));
  });

  app.put('/serviceaccount/:identifier', { schema: { tags: t, summary: 'Update a service account (email cannot change)', params: ngParams.identifier, body: bodies.serviceAccount!, querystring: ngQuery.scope, response: ngResponses(serviceAccountSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    const identifier = req.params.identifier;
    const input = readBody(req, scope);
    if (input.identifier !== identifier) throw ngInvalidRequest(req, `Value mismatch, previous: ${identifier} current: ${input.identifier}`);
    const sa = await services.serviceAccounts.update(ctx.caller, scope, identifier, input).catch((e: unknown) => missingAs400(req, identifier, e));
    return success(req, serviceAccountDto(sa));
  });

  app.delete('/serviceaccount/:identifier', { schema: { tags: t, summary: 'Delete a service account, its API keys and tokens', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(bool) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const identifier = req.params.identifier;
    await services.serviceAccounts.delete(ctx.caller, scopeFrom(req, ctx.accountId), identifier).catch((e: unknown) => missingAs400(req, identifier, e));
    return success(req, true);
  });

  app.get('/serviceaccount', { schema: { tags: t, summary: 'List service accounts', querystring: ngQuery.paged, response: ngResponses(arrayOf(serviceAccountSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    if (!(await mayView(services, ctx.caller, scope))) return success(req, []);
    const p = paging(req);
    const page = await services.serviceAccounts.list(ctx.caller, scope, { offset: 0, limit: 1000, identifiers: p.identifiers, sort: [{ field: 'updatedAt', desc: true }] });
    return success(req, page.items.map(serviceAccountDto));
  });

  app.get('/serviceaccount/aggregate', { schema: { tags: t, summary: 'List service accounts with key counts and role assignments, paged', querystring: ngQuery.paged, response: ngResponses(pageOf(serviceAccountAggregateSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const scope = scopeFrom(req, ctx.accountId);
    const p = paging(req);
    if (!(await mayView(services, ctx.caller, scope))) return success(req, pageResponse([], 0, p));
    const page = await services.serviceAccounts.list(ctx.caller, scope, { offset: p.offset, limit: p.limit, identifiers: p.identifiers, search: p.search, sort: p.sort });
    const content = [];
    for (const sa of page.items) content.push(await aggregate(services, ctx.caller, sa));
    return success(req, pageResponse(content, page.total, p));
  });

  app.get('/serviceaccount/aggregate/:identifier', { schema: { tags: t, summary: 'Get a service account with key count and role assignments', params: ngParams.identifier, querystring: ngQuery.scope, response: ngResponses(serviceAccountAggregateSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    required(req, ['accountIdentifier']);
    const identifier = req.params.identifier;
    try {
      const sa = await services.serviceAccounts.get(ctx.caller, scopeFrom(req, ctx.accountId), identifier);
      return success(req, await aggregate(services, ctx.caller, sa));
    } catch (e) {
      if (e instanceof NotFoundError && e.resourceType === 'serviceaccount') throw ngInvalidArgument(req, `Service account [${identifier}] doesn't exist in scope`);
      throw e;
    }
  });

}
