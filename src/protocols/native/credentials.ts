/**
 * Native reads and switches the compatible protocols cannot express: tokens with their state and
 * last use, and service-account activation.
 */
import type { FastifyInstance } from 'fastify';
import { tokenState } from '../../domain/model.js';
import { makeScope } from '../../domain/scope.js';
import type { Services } from '../../services/index.js';
import { accountParams, keyTokensFilter, keyTokensQuery, nativeCaller, nativeErrors, pageAnswer, pageQuerySchema, pageSchema, secured } from './context.js';
import type { ContractApp } from '../contract/index.js';

const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    identifier: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    apiKeyIdentifier: { type: 'string' },
    apiKeyType: { type: 'string' },
    parentIdentifier: { type: 'string' },
    scope: { $ref: 'KeywardScope#' },
    validFrom: { type: 'integer' },
    validTo: { type: ['integer', 'null'] },
    scheduledExpireTime: { type: ['integer', 'null'] },
    state: { type: 'string', enum: ['active', 'expiring_soon', 'expired', 'rotated_out', 'not_yet_valid'] },
    lastUsedAt: { type: ['integer', 'null'] },
    lastUsedIp: { type: ['string', 'null'] },
    lastUsedUserAgent: { type: ['string', 'null'] },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const scopeQuery = {
  orgIdentifier: { type: 'string', maxLength: 128 },
  projectIdentifier: { type: 'string', maxLength: 128 },
} as const;

export function credentialRoutes(app: ContractApp, services: Services): void {
  app.get(
    '/v1/accounts/:accountId/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List tokens with their state and last use',
        description:
          'Last use (time, address, user agent) is recorded without a database write on the verification path and written in batches; reads include uses not yet written.',
        security: secured,
        params: accountParams,
        querystring: {
          type: 'object',
          required: ['apiKeyType'],
          properties: {
            ...pageQuerySchema,
            ...keyTokensQuery,
            search: { type: 'string', maxLength: 128 },
            tokenId: { type: 'string', pattern: '^[0-9a-f]{24}$', description: "One token by its id, the 24 hex digits after the account in `pat.<account>.<id>.<secret>`: what the console searches by, never the secret" },
          },
        },
        response: {
          200: pageSchema(tokenSchema),
          ...nativeErrors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const accountId = req.params.accountId;
      const q = req.query;
      const page = await services.tokens.list(
        caller,
        keyTokensFilter(accountId, q),
        q.tokenId !== undefined
          ? { offset: 0, limit: 100, search: q.tokenId, sort: [{ field: 'createdAt', desc: true }] }
          : { offset: q.pageIndex * q.pageSize, limit: q.pageSize, search: q.search, sort: [{ field: 'createdAt', desc: true }] },
      );
      if (q.tokenId !== undefined) page.items = page.items.filter((t) => t.id === q.tokenId);
      if (q.tokenId !== undefined) page.total = page.items.length;
      const now = services.ctx.clock.now();
      const items = page.items.map((t) => {
        const pending = services.usage.peek(t.id);
        const fresher = pending && (t.lastUsedAt === null || pending.at > t.lastUsedAt);
        return {
          id: t.id,
          identifier: t.identifier,
          name: t.name,
          description: t.description,
          tags: t.tags,
          apiKeyIdentifier: t.apiKeyIdentifier,
          apiKeyType: t.apiKeyType,
          parentIdentifier: t.parentIdentifier,
          scope: t.scope,
          validFrom: t.validFrom,
          validTo: t.validTo,
          scheduledExpireTime: t.scheduledExpireTime,
          state: tokenState(t, now),
          lastUsedAt: fresher ? pending.at : t.lastUsedAt,
          lastUsedIp: fresher ? pending.ip : t.lastUsedIp,
          lastUsedUserAgent: fresher ? pending.userAgent : t.lastUsedUserAgent,
          createdAt: t.createdAt,
          updatedAt: t.updatedAt,
        };
      });
      return pageAnswer({ items, total: page.total }, q);
    },
  );

  app.patch(
    '/v1/accounts/:accountId/service-accounts/:identifier',
    {
      schema: {
        tags: ['service accounts'],
        summary: 'Activate or deactivate a service account',
        description: 'A deactivated service account\'s tokens stop verifying at once, on every node (reason `principal_inactive`).',
        security: secured,
        params: {
          type: 'object',
          required: ['accountId', 'identifier'],
          properties: { accountId: { type: 'string', maxLength: 64 }, identifier: { type: 'string', maxLength: 128 } },
        },
        querystring: { type: 'object', properties: scopeQuery },
        body: { type: 'object', required: ['active'], additionalProperties: false, properties: { active: { type: 'boolean' } } },
        response: {
          200: {
            type: 'object',
            properties: { identifier: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' }, active: { type: 'boolean' }, scope: { $ref: 'KeywardScope#' } },
          },
          ...nativeErrors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      const q = req.query;
      const sa = await services.serviceAccounts.setActive(caller, makeScope(p.accountId, q.orgIdentifier, q.projectIdentifier), p.identifier, req.body.active);
      return { identifier: sa.identifier, name: sa.name, email: sa.email, active: sa.active, scope: sa.scope };
    },
  );
}
