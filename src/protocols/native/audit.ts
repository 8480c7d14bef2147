/** GET /v1/accounts/:accountId/audit: the audit log, filtered and keyset-paged. */
import type { FastifyInstance } from 'fastify';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { Services } from '../../services/index.js';
import { accountParams, nativeCaller, nativeErrors } from './context.js';
import type { ContractApp } from '../contract/index.js';

const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    orgId: { type: ['string', 'null'] },
    projectId: { type: ['string', 'null'] },
    at: { type: 'integer' },
    actorType: { type: 'string' },
    actorId: { type: 'string' },
    action: { type: 'string' },
    resourceType: { type: 'string' },
    resourceId: { type: 'string' },
    outcome: { type: 'string', enum: ['success', 'failure'] },
    details: { type: 'object', additionalProperties: true },
    requestId: { type: ['string', 'null'] },
  },
} as const;

function encodeCursor(c: { at: number; id: string }): string {
  return Buffer.from(`${c.at}:${c.id}`, 'utf8').toString('base64url');
}

function decodeCursor(s: string): { at: number; id: string } {
  const text = Buffer.from(s, 'base64url').toString('utf8');
  const i = text.indexOf(':');
  const at = Number(text.slice(0, i));
  if (i <= 0 || !Number.isSafeInteger(at)) throw InvalidArgumentError.field('cursor', 'is not a cursor this API returned');
  return { at, id: text.slice(i + 1) };
}

export function auditRoutes(app: ContractApp, services: Services): void {
  app.get(
    '/v1/accounts/:accountId/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Read the audit log (needs core_audit_view)',
        description: 'Newest first. Pass `nextCursor` back as `cursor` for the next page. `from` and `to` are epoch milliseconds, inclusive.',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: accountParams,
        querystring: {
          type: 'object',
          properties: {
            actor: { type: 'string', maxLength: 128 },
            action: { type: 'string', maxLength: 128 },
            resourceType: { type: 'string', maxLength: 64 },
            resourceId: { type: 'string', maxLength: 256 },
            from: { type: 'integer', minimum: 0 },
            to: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', maxLength: 512 },
          },
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: eventSchema }, nextCursor: { type: ['string', 'null'] } } },
          ...nativeErrors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const q = req.query;
      const page = await services.audit.list(caller, {
        accountId: req.params.accountId,
        actorId: q.actor,
        action: q.action,
        resourceType: q.resourceType,
        resourceId: q.resourceId,
        from: q.from,
        to: q.to,
        before: q.cursor ? decodeCursor(q.cursor) : undefined,
        limit: q.limit,
      });
      return { items: page.items, nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null };
    },
  );
}
