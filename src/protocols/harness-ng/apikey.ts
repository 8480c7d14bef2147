/** `/apikey` (docs/compat/harness-ng.md): personal and service-account API keys. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../domain/errors.js';
import { makeScope } from '../../domain/scope.js';
import type { ApiKeyType } from '../../domain/tokens.js';
import { checkOptionalIdentifier } from '../../domain/validation.js';
import type { Services } from '../../services/index.js';
import { API_KEY_TYPES, checkTtl, type ApiKeyInput, type KeyOwner } from '../../services/apiKeys.js';
import { blank, bodyObject, checkEntity, enumParam, long, many, ngAuth, pageResponse, paging, required, scopeFrom, str, tags, violations } from './context.js';
import { NgError, failureBody, ngFailure, ngInvalidArgument, ngInvalidToken, success } from './errors.js';
import { apiKeyAggregateDto, apiKeyDto } from './wire.js';
import { apiKeyAggregateSchema, apiKeySchema, bodies, ngParams, ngQuery, ngResponses, pageOf } from './contracts.js';
import { arrayOf, bool, type ContractApp } from '../contract/index.js';

/** A missing service account behind a key is JAX-RS NotFound in Harness: 400 RESOURCE_NOT_FOUND_EXCEPTION. */
export function serviceAccountNotFoundAs400(req: FastifyRequest, e: unknown): never {
  if (e instanceof NotFoundError && e.resourceType === 'serviceaccount') {
    throw new NgError(400, failureBody(req, 'RESOURCE_NOT_FOUND_EXCEPTION', e.message, null));
  }
  throw e;
}

/** Bean validation of an ApiKeyDTO, all violations at once, as Jersey reports them. */
function readApiKeyBody(req: FastifyRequest): { input: ApiKeyInput; type: ApiKeyType | null; parentIdentifier: string; accountIdentifier: string | null; orgIdentifier: string | null; projectIdentifier: string | null } {
  const b = bodyObject(req);
  const type = str(b, 'apiKeyType');
  if (type !== null && !API_KEY_TYPES.includes(type as ApiKeyType)) throw new NgError(400, { code: 400, message: 'Unable to process JSON' });
  const input: ApiKeyInput = {
    identifier: str(b, 'identifier') ?? '',
    name: str(b, 'name') ?? '',
    description: str(b, 'description'),
    tags: tags(b),
    defaultTimeToExpireToken: long(b, 'defaultTimeToExpireToken'),
  };
  const parentIdentifier = str(b, 'parentIdentifier');
  const accountIdentifier = str(b, 'accountIdentifier');
  const orgIdentifier = str(b, 'orgIdentifier');
  const projectIdentifier = str(b, 'projectIdentifier');
  const { v, add } = violations();
  checkEntity(add, input);
  add('apiKeyType', type === null ? 'must not be null' : null);
  add('parentIdentifier', blank(parentIdentifier) ? 'must not be blank' : null);
  add('defaultTimeToExpireToken', checkTtl(input.defaultTimeToExpireToken));
  add('accountIdentifier', blank(accountIdentifier) ? 'must not be blank' : null);
  add('orgIdentifier', checkOptionalIdentifier(orgIdentifier));
  add('projectIdentifier', checkOptionalIdentifier(projectIdentifier));
  if (v.length > 0) throw ngFailure(req, v);
  return { input, type: type as ApiKeyType, parentIdentifier: parentIdentifier!, accountIdentifier, orgIdentifier, projectIdentifier };
}

/** accountIdentifier, apiKeyType and parentIdentifier from the query (the "shared" parameters). */
function ownerFromQuery(req: FastifyRequest, accountId: string): KeyOwner {
  const type = enumParam(req, 'apiKeyType', API_KEY_TYPES);
  const r = required(req, ['accountIdentifier', ...(type ? [] : ['apiKeyType']), 'parentIdentifier']);
  return { scope: scopeFrom(req, accountId), type: type!, parentIdentifier: r.parentIdentifier! };
}

export function apiKeyRoutes(app: ContractApp, services: Services): void {
  const tags_ = ['harness-ng: api keys'];

  app.post('/apikey', { schema: { tags: tags_, summary: 'Create an API key', body: bodies.apiKey!, querystring: ngQuery.scope, response: ngResponses(apiKeySchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const body = readApiKeyBody(req);
    // The query's accountIdentifier overwrites the body's.
    const owner: KeyOwner = { scope: makeScope(ctx.accountId, body.orgIdentifier, body.projectIdentifier), type: body.type!, parentIdentifier: body.parentIdentifier };
    const key = await services.apiKeys.create(ctx.caller, owner, body.input).catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, apiKeyDto(key));
  });

  // The path identifier is ignored: Harness uses the body's identifier and scope (Terraform sends the account id here).
  app.put('/apikey/:identifier', { schema: { tags: tags_, summary: 'Update an API key (the path segment is ignored)', params: ngParams.identifier, body: bodies.apiKey!, querystring: ngQuery.scope, response: ngResponses(apiKeySchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const body = readApiKeyBody(req);
    if (body.accountIdentifier !== ctx.accountId) throw ngInvalidToken(req);
    const owner: KeyOwner = { scope: makeScope(ctx.accountId, body.orgIdentifier, body.projectIdentifier), type: body.type!, parentIdentifier: body.parentIdentifier };
    const key = await services.apiKeys.update(ctx.caller, owner, body.input).catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, apiKeyDto(key));
  });

  app.delete('/apikey/:identifier', { schema: { tags: tags_, summary: 'Delete an API key and its tokens', params: ngParams.identifier, querystring: ngQuery.keyOwner, response: ngResponses(bool) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const owner = ownerFromQuery(req, ctx.accountId);
    await services.apiKeys.delete(ctx.caller, owner, req.params.identifier).catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, true);
  });

  app.get('/apikey', { schema: { tags: tags_, summary: 'List API keys (no paging)', querystring: ngQuery.keyOwner, response: ngResponses(arrayOf(apiKeySchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const owner = ownerFromQuery(req, ctx.accountId);
    const identifiers = many(req, 'identifiers');
    const page = await services.apiKeys
      .list(ctx.caller, owner, { offset: 0, limit: 1000, identifiers, sort: [{ field: 'updatedAt', desc: true }] })
      .catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, page.items.map(apiKeyDto));
  });

  app.get('/apikey/aggregate', { schema: { tags: tags_, summary: 'List API keys with token counts, paged', querystring: ngQuery.keyOwnerPaged, response: ngResponses(pageOf(apiKeyAggregateSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const owner = ownerFromQuery(req, ctx.accountId);
    const p = paging(req);
    const page = await services.apiKeys
      .list(ctx.caller, owner, { offset: p.offset, limit: p.limit, identifiers: p.identifiers, search: p.search, sort: p.sort })
      .catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, pageResponse(page.items.map(apiKeyAggregateDto), page.total, p));
  });

  app.get('/apikey/aggregate/:identifier', { schema: { tags: tags_, summary: 'Get an API key with its token count', params: ngParams.identifier, querystring: ngQuery.keyOwner, response: ngResponses(apiKeyAggregateSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const owner = ownerFromQuery(req, ctx.accountId);
    const identifier = req.params.identifier;
    try {
      return success(req, apiKeyAggregateDto(await services.apiKeys.get(ctx.caller, owner, identifier)));
    } catch (e) {
      if (e instanceof NotFoundError && e.resourceType === 'apikey') throw ngInvalidArgument(req, `Api key [${identifier}] doesn't exist in scope`);
      return serviceAccountNotFoundAs400(req, e);
    }
  });
}
