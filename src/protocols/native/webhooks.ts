/** Lifecycle webhook endpoints of an account, their delivery log and replay (docs/webhooks.md). */
import { WEBHOOK_EVENTS } from '../../domain/webhooks.js';
import type { Services } from '../../services/index.js';
import { accountParams, errorResponse, nativeCaller, secured } from './context.js';
import type { ContractApp } from '../contract/index.js';

const endpointSchema = {
  $id: 'KeywardWebhookEndpoint',
  type: 'object',
  required: ['id', 'accountId', 'url', 'description', 'events', 'enabled', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    events: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENTS] }, description: 'Empty: every event' },
    enabled: { type: 'boolean' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const withSecret = {
  type: 'object',
  required: ['endpoint', 'secret'],
  properties: { endpoint: { $ref: 'KeywardWebhookEndpoint#' }, secret: { type: 'string', description: 'The `whsec_` signing secret: shown once' } },
} as const;

const endpointParams = {
  type: 'object',
  required: ['accountId', 'endpointId'],
  properties: { accountId: { type: 'string', maxLength: 64 }, endpointId: { type: 'string', maxLength: 64 } },
} as const;

const inputProperties = {
  url: { type: 'string', minLength: 1, maxLength: 2048, description: 'http or https' },
  description: { type: 'string', maxLength: 1024 },
  events: { type: 'array', maxItems: WEBHOOK_EVENTS.length, items: { type: 'string', enum: [...WEBHOOK_EVENTS] } },
  enabled: { type: 'boolean' },
} as const;

export function webhookRoutes(app: ContractApp, services: Services): void {
  app.addSchema(endpointSchema);
  const base = '/v1/accounts/:accountId/webhooks';

  app.post(
    base,
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Create a webhook endpoint (needs core_account_edit); the signing secret is returned once',
        security: secured,
        params: accountParams,
        body: { type: 'object', required: ['url'], additionalProperties: false, properties: inputProperties },
        response: { 201: withSecret, 400: errorResponse, 401: errorResponse, 403: errorResponse },
      },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const created = await services.webhooks.create(caller, req.params.accountId, req.body);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(created);
    },
  );

  app.get(
    base,
    {
      schema: {
        tags: ['webhooks'],
        summary: 'List webhook endpoints (needs core_account_view)',
        security: secured,
        params: accountParams,
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'KeywardWebhookEndpoint#' } } } }, 401: errorResponse, 403: errorResponse },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      return { items: await services.webhooks.list(caller, req.params.accountId) };
    },
  );

  app.get(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Get a webhook endpoint',
        security: secured,
        params: endpointParams,
        response: { 200: { $ref: 'KeywardWebhookEndpoint#' }, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      return services.webhooks.get(caller, p.accountId, p.endpointId);
    },
  );

  app.patch(
    `${base}/:endpointId`,
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint (url, description, events, enabled)',
        security: secured,
        params: endpointParams,
        body: { type: 'object', additionalProperties: false, properties: inputProperties },
        response: { 200: { $ref: 'KeywardWebhookEndpoint#' }, 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      return services.webhooks.update(caller, p.accountId, p.endpointId, req.body ?? {});
    },
  );

  app.delete(
    `${base}/:endpointId`,
    {
      schema: { tags: ['webhooks'], summary: 'Delete a webhook endpoint and its queue', security: secured, params: endpointParams, response: { 204: { type: 'null' }, 401: errorResponse, 403: errorResponse, 404: errorResponse } },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      await services.webhooks.delete(caller, p.accountId, p.endpointId);
      return reply.status(204).send();
    },
  );

  app.post(
    `${base}/:endpointId/rotate-secret`,
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Replace the signing secret; the new one is returned once',
        security: secured,
        params: endpointParams,
        response: { 200: withSecret, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      reply.header('cache-control', 'no-store');
      return services.webhooks.rotateSecret(caller, p.accountId, p.endpointId);
    },
  );

  app.get(
    `${base}/:endpointId/deliveries`,
    {
      schema: {
        tags: ['webhooks'],
        summary: "The endpoint's last deliveries and attempts, newest first",
        security: secured,
        params: endpointParams,
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 } } },
        response: {
          200: {
            type: 'object',
            required: ['deliveries', 'attempts'],
            properties: {
              deliveries: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    eventId: { type: 'string' },
                    eventType: { type: 'string' },
                    status: { type: 'string', enum: ['pending', 'succeeded', 'failed'] },
                    attempts: { type: 'integer' },
                    nextAttemptAt: { type: 'integer' },
                    lastStatusCode: { type: ['integer', 'null'] },
                    lastError: { type: ['string', 'null'] },
                    createdAt: { type: 'integer' },
                    updatedAt: { type: 'integer' },
                  },
                },
              },
              attempts: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    deliveryId: { type: 'string' },
                    eventType: { type: 'string' },
                    attempt: { type: 'integer' },
                    at: { type: 'integer' },
                    statusCode: { type: ['integer', 'null'] },
                    durationMs: { type: 'integer' },
                    error: { type: ['string', 'null'] },
                    responseExcerpt: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          401: errorResponse,
          403: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      const limit = req.query.limit;
      return {
        deliveries: await services.webhooks.deliveries(caller, p.accountId, p.endpointId, limit),
        attempts: await services.webhooks.attempts(caller, p.accountId, p.endpointId, limit),
      };
    },
  );

  app.post(
    `${base}/:endpointId/deliveries/:deliveryId/replay`,
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a delivery again (same webhook-id), now',
        security: secured,
        params: { type: 'object', required: ['accountId', 'endpointId', 'deliveryId'], properties: { ...endpointParams.properties, deliveryId: { type: 'string', maxLength: 64 } } },
        response: { 202: { type: 'object', properties: { queued: { type: 'boolean' } } }, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      await services.webhooks.replay(caller, p.accountId, p.endpointId, p.deliveryId);
      return reply.status(202).send({ queued: true });
    },
  );
}
