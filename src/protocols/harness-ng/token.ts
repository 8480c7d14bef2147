/** `/token` (docs/compat/harness-ng.md): tokens under API keys, shown once, rotated, validated. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PermissionDeniedError, type FieldViolation } from '../../domain/errors.js';
import { makeScope } from '../../domain/scope.js';
import type { ApiKeyType } from '../../domain/tokens.js';
import { checkDescription, checkIdentifier, checkName, checkOptionalIdentifier, checkTags } from '../../domain/validation.js';
import type { Services } from '../../services/index.js';
import { API_KEY_TYPES, type KeyOwner } from '../../services/apiKeys.js';
import type { TokenInput } from '../../services/tokens.js';
import type { VerifyFailureReason } from '../../services/verification.js';
import { parseToken } from '../../domain/tokens.js';
import { serviceAccountNotFoundAs400 } from './apikey.js';
import { boolParam, bodyObject, enumParam, long, longParam, ngAuth, opt, pageResponse, paging, required, scopeFrom, str, tags } from './context.js';
import { NgError, ngFailure, ngInvalidArgument, ngInvalidRequest, success } from './errors.js';
import { tokenAggregateDto, tokenDto } from './wire.js';
import { clientOf } from '../auth/index.js';
import { bodies, ngParams, ngQuery, ngResponses, pageOf, tokenAggregateSchema, tokenSchema } from './contracts.js';
import { bool, str as stringSchema, type ContractApp } from '../contract/index.js';

const blank = (v: string | null) => v === null || v.trim() === '';

function readTokenBody(req: FastifyRequest, accountId: string): { owner: KeyOwner; input: TokenInput; scheduledExpireTime: number | null } {
  const b = bodyObject(req);
  const type = str(b, 'apiKeyType');
  if (type !== null && !API_KEY_TYPES.includes(type as ApiKeyType)) throw new NgError(400, { code: 400, message: 'Unable to process JSON' });
  const input: TokenInput = {
    identifier: str(b, 'identifier') ?? '',
    name: str(b, 'name') ?? '',
    apiKeyIdentifier: str(b, 'apiKeyIdentifier') ?? '',
    description: str(b, 'description'),
    tags: tags(b),
    validFrom: long(b, 'validFrom'),
    validTo: long(b, 'validTo'),
  };
  const parentIdentifier = str(b, 'parentIdentifier');
  const orgIdentifier = str(b, 'orgIdentifier');
  const projectIdentifier = str(b, 'projectIdentifier');
  const v: FieldViolation[] = [];
  const add = (field: string, message: string | null) => message && v.push({ field, message });
  add('identifier', checkIdentifier(input.identifier));
  add('name', blank(input.name) ? 'must not be empty' : checkName(input.name));
  add('apiKeyIdentifier', checkIdentifier(input.apiKeyIdentifier));
  add('description', checkDescription(input.description));
  add('tags', checkTags(input.tags));
  add('apiKeyType', type === null ? 'must not be null' : null);
  add('parentIdentifier', blank(parentIdentifier) ? 'must not be blank' : null);
  add('orgIdentifier', checkOptionalIdentifier(orgIdentifier));
  add('projectIdentifier', checkOptionalIdentifier(projectIdentifier));
  if (v.length > 0) throw ngFailure(req, v);
  return {
    owner: { scope: makeScope(accountId, orgIdentifier, projectIdentifier), type: type as ApiKeyType, parentIdentifier: parentIdentifier! },
    input,
    scheduledExpireTime: long(b, 'scheduledExpireTime'),
  };
}

/** DELETE and rotate: every parameter but org and project is @NotNull. */
function tokenRefFromQuery(req: FastifyRequest, accountId: string): { owner: KeyOwner; apiKeyIdentifier: string } {
  const type = enumParam(req, 'apiKeyType', API_KEY_TYPES);
  const r = required(req, ['accountIdentifier', ...(type ? [] : ['apiKeyType']), 'parentIdentifier', 'apiKeyIdentifier']);
  return { owner: { scope: scopeFrom(req, accountId), type: type!, parentIdentifier: r.parentIdentifier! }, apiKeyIdentifier: r.apiKeyIdentifier! };
}

/** What Harness's TokenValidationHelper says for each way a token can fail. */
function validationMessage(reason: VerifyFailureReason, raw: string): string {
  const p = parseToken(raw);
  const id = p.format === 'harness_ng' ? p.tokenId : '';
  switch (reason) {
    case 'malformed':
      return raw.trim() === '' ? 'Invalid API Token: Token is Empty' : 'Invalid API Token: Token length not matching for API token';
    case 'unknown':
    case 'deleted':
      return `Invalid API token ${id}: Token not found`;
    case 'wrong_secret':
      return `Raw password not matching for API token ${id}`;
    case 'key_inactive':
    case 'principal_inactive':
      return `Invalid API token ${id}: the owner of this token is not active`;
    default:
      return `Incoming API token has expired ${id}`;
  }
}

export function tokenRoutes(app: ContractApp, services: Services): void {
  const t = ['harness-ng: tokens'];
  const now = () => services.ctx.clock.now();

  app.post('/token', { schema: { tags: t, summary: 'Create a token; data is the token, shown only once', body: bodies.token!, querystring: ngQuery.scope, response: ngResponses({ ...stringSchema, description: 'The token, shown only once' }) } }, async (req, reply) => {
    const ctx = await ngAuth(services, req);
    const { owner, input } = readTokenBody(req, ctx.accountId);
    const issued = await services.tokens.create(ctx.caller, owner, input, { autoCreateKey: true }).catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    reply.header('cache-control', 'no-store');
    return success(req, issued.secret);
  });

  // The path identifier is ignored; the body names the token.
  app.put('/token/:identifier', { schema: { tags: t, summary: 'Update a token (name, description, tags, validity)', params: ngParams.identifier, body: bodies.token!, querystring: ngQuery.scope, response: ngResponses(tokenSchema) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const { owner, input, scheduledExpireTime } = readTokenBody(req, ctx.accountId);
    const token = await services.tokens.update(ctx.caller, owner, { ...input, scheduledExpireTime }).catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, tokenDto(token, now()));
  });

  app.delete('/token/:identifier', { schema: { tags: t, summary: 'Delete a token', params: ngParams.identifier, querystring: ngQuery.token, response: ngResponses(bool) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const ref = tokenRefFromQuery(req, ctx.accountId);
    await services.tokens.delete(ctx.caller, ref.owner, ref.apiKeyIdentifier, req.params.identifier).catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    return success(req, true);
  });

  app.post('/token/rotate/:identifier', { schema: { tags: t, summary: 'Rotate a token; data is the new token, shown only once', params: ngParams.identifier, querystring: ngQuery.rotate, response: ngResponses({ ...stringSchema, description: 'The new token, shown only once' }) } }, async (req, reply) => {
    const ctx = await ngAuth(services, req);
    const ref = tokenRefFromQuery(req, ctx.accountId);
    // Harness answers 500 when rotateTimestamp is absent; Keyward ends the old token now.
    const rotateTimestamp = longParam(req, 'rotateTimestamp');
    const issued = await services.tokens
      .rotate(ctx.caller, ref.owner, ref.apiKeyIdentifier, req.params.identifier, rotateTimestamp ?? null)
      .catch((e: unknown) => serviceAccountNotFoundAs400(req, e));
    reply.header('cache-control', 'no-store');
    return success(req, issued.secret);
  });

  app.get('/token/aggregate', { schema: { tags: t, summary: 'List tokens, paged', querystring: ngQuery.tokenPaged, response: ngResponses(pageOf(tokenAggregateSchema)) } }, async (req) => {
    const ctx = await ngAuth(services, req);
    const type = enumParam(req, 'apiKeyType', API_KEY_TYPES);
    required(req, ['accountIdentifier', ...(type ? [] : ['apiKeyType'])]);
    const p = paging(req);
    const parentIdentifier = opt(req, 'parentIdentifier');
    const apiKeyIdentifier = opt(req, 'apiKeyIdentifier');
    if (apiKeyIdentifier !== undefined && parentIdentifier === undefined) {
      throw ngInvalidRequest(req, 'Need to pass parentIdentifier along with apikeyIdentifier to list the tokens.');
    }
    const page = await services.tokens
      .list(
        ctx.caller,
        { owner: { scope: scopeFrom(req, ctx.accountId), type: type!, parentIdentifier }, apiKeyIdentifier, onlyActive: boolParam(req, 'includeOnlyActiveTokens') ?? false },
        { offset: p.offset, limit: p.limit, identifiers: p.identifiers, search: p.search, sort: p.sort },
      )
      .catch((e: unknown) => {
        // validateTokenListPermissions: a user naming another user's parentIdentifier is InvalidArgumentsException (400), not access denied.
        if (e instanceof PermissionDeniedError && type === 'USER' && parentIdentifier !== undefined && ctx.caller.actor.type === 'USER') throw ngInvalidArgument(req, e.message);
        throw e;
      });
    const n = now();
    return success(req, pageResponse(page.items.map((tok) => tokenAggregateDto(tok, n)), page.total, p));
  });

  // The token is the credential here: Harness's auth filter posts it as text/plain.
  app.post('/token/validate', { schema: { tags: t, summary: 'Validate a token; data is the token with its owner\'s email and name', body: bodies.tokenValidate!, querystring: ngQuery.validate, response: ngResponses(tokenSchema) } }, async (req) => {
    const raw = typeof req.body === 'string' ? req.body.trim() : '';
    const v = await services.verification.verify(raw, clientOf(req));
    if (!v.valid) throw ngInvalidRequest(req, validationMessage(v.reason, raw));
    const account = opt(req, 'accountIdentifier');
    if (account !== undefined && account !== v.accountId) throw ngInvalidRequest(req, `Invalid account token access ${v.tokenId}`);
    const token = await services.tokens.byId(v.tokenId);
    if (!token) throw ngInvalidRequest(req, validationMessage('unknown', raw));
    return success(req, tokenDto(token, now(), { email: v.principal.email, username: v.principal.name }));
  });
}
