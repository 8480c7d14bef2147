/**
 * `GET /v1/accounts/{id}/usage`: verifications of a key's tokens (or one token's) per hour and
 * outcome over the last 7 or 30 days, counted in memory on the verification path and written in
 * batches (src/services/usage.ts). Whoever may list the tokens may read their usage.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { HOUR_MS, USAGE_OUTCOMES } from '../../services/usage.js';
import { accountParams, keyTokensFilter, keyTokensQuery, nativeCaller, nativeErrors, secured } from './context.js';
import type { ContractApp } from '../contract/index.js';

const counts = Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, { type: 'integer' }]));

export function usageRoutes(app: ContractApp, services: Services): void {
  app.get(
    '/v1/accounts/:accountId/usage',
    {
      schema: {
        tags: ['tokens'],
        summary: "Verifications of an API key's tokens, or of one token, per hour and outcome",
        description:
          'Counted in memory on the verification path (no database write per verification) and written with the batched last-used data; reads include counts not yet written. Hours with no verification are left out. `tokenId` (the 24 hex digits after the account in a token) narrows it to one token.',
        security: secured,
        params: accountParams,
        querystring: {
          type: 'object',
          required: ['apiKeyType', 'parentIdentifier', 'apiKeyIdentifier'],
          properties: {
            ...keyTokensQuery,
            tokenId: { type: 'string', pattern: '^[0-9a-f]{24}$' },
            days: { type: 'integer', enum: [7, 30], default: 7 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'integer', description: 'start of the first hour (ms)' },
              to: { type: 'integer', description: 'end of the current hour (ms)' },
              outcomes: { type: 'array', items: { type: 'string' } },
              hours: { type: 'array', items: { type: 'object', properties: { hour: { type: 'integer' }, ...counts } } },
              totals: { type: 'object', properties: counts },
            },
          },
          ...nativeErrors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const accountId = req.params.accountId;
      const q = req.query;
      // The tokens as their list shows them, with the list's permission checks.
      const page = await services.tokens.list(
        caller,
        keyTokensFilter(accountId, q),
        { offset: 0, limit: 1000, sort: [{ field: 'createdAt', desc: true }] },
      );
      const ids = page.items.map((t) => t.id).filter((id) => q.tokenId === undefined || id === q.tokenId);
      const now = services.ctx.clock.now();
      const to = now - (now % HOUR_MS) + HOUR_MS;
      const from = to - q.days * 24 * HOUR_MS;
      const hours = await services.usage.hourlyCounts(ids, from);
      const totals = Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, hours.reduce((n, h) => n + h[o], 0)]));
      return { from, to, outcomes: [...USAGE_OUTCOMES], hours, totals };
    },
  );
}
