/**
 * Account policies (docs/policies.md): `GET`/`PUT /v1/accounts/{id}/policy` for the account, an
 * organization or a project (`orgIdentifier`, `projectIdentifier`), `GET /v1/accounts/{id}/policies`
 * for every scope that sets one, and `GET /v1/accounts/{id}/policy/violations` for the credentials
 * that break them. Reads need core_account_view, changes core_account_edit (src/services/policies.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Policy } from '../../domain/policy.js';
import { makeScope } from '../../domain/scope.js';
import type { Services } from '../../services/index.js';
import { errorResponse, nativeCaller, secured } from './context.js';

const limit = {
  anyOf: [
    { type: 'integer', minimum: 1 },
    { type: 'string', enum: ['unlimited'] },
    { type: 'null' },
  ],
} as const;

const policyFields = {
  maxTokenLifetimeDays: { type: ['integer', 'null'], minimum: 1, description: 'A token may be valid at most this many days after it was issued.' },
  requireExpiry: { type: ['boolean', 'null'], description: 'Every token must have an end date (ZenML and Harness CG keys, which have none, cannot be created).' },
  maxApiKeysPerOwner: { ...limit, description: 'API keys per user or service account per scope; "unlimited" for none.' },
  maxTokensPerApiKey: { ...limit, description: 'Live (not rotated-out) tokens per API key; "unlimited" for none.' },
  maxRotationGraceMinutes: { type: ['integer', 'null'], minimum: 0, description: 'How long a rotated-out token may keep working.' },
} as const;

const policySchema = {
  type: 'object',
  description: 'A field that is null is not set at this scope: a wider scope, or the default, decides.',
  required: ['maxTokenLifetimeDays', 'requireExpiry', 'maxApiKeysPerOwner', 'maxTokensPerApiKey', 'maxRotationGraceMinutes'],
  properties: policyFields,
} as const;

const sourceSchema = {
  type: 'object',
  properties: { level: { type: 'string', enum: ['account', 'organization', 'project', 'default'] }, scope: { anyOf: [{ $ref: 'KeywardScope#' }, { type: 'null' }] } },
} as const;

const effectiveSchema = {
  type: 'object',
  properties: {
    maxTokenLifetimeDays: { type: ['integer', 'null'] },
    requireExpiry: { type: 'boolean' },
    maxApiKeysPerOwner: { anyOf: [{ type: 'integer' }, { type: 'string', enum: ['unlimited'] }] },
    maxTokensPerApiKey: { anyOf: [{ type: 'integer' }, { type: 'string', enum: ['unlimited'] }] },
    maxRotationGraceMinutes: { type: ['integer', 'null'] },
    sources: {
      type: 'object',
      properties: {
        maxTokenLifetimeDays: sourceSchema,
        requireExpiry: sourceSchema,
        maxApiKeysPerOwner: sourceSchema,
        maxTokensPerApiKey: sourceSchema,
        maxRotationGraceMinutes: sourceSchema,
      },
    },
  },
} as const;

const viewSchema = {
  type: 'object',
  properties: {
    scope: { $ref: 'KeywardScope#' },
    policy: policySchema,
    effective: effectiveSchema,
    updatedAt: { type: ['integer', 'null'] },
  },
} as const;

const violationSchema = {
  type: 'object',
  properties: {
    rule: { type: 'string', enum: ['maxTokenLifetimeDays', 'requireExpiry', 'maxApiKeysPerOwner', 'maxTokensPerApiKey', 'maxRotationGraceMinutes'] },
    message: { type: 'string' },
    source: sourceSchema,
    credential: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['token', 'cg_api_key'] },
        id: { type: 'string' },
        identifier: { type: 'string' },
        name: { type: 'string' },
        apiKeyIdentifier: { type: ['string', 'null'] },
        apiKeyType: { type: ['string', 'null'], enum: ['USER', 'SERVICE_ACCOUNT', null] },
        parentIdentifier: { type: ['string', 'null'] },
        format: { type: 'string', enum: ['harness_ng', 'zenml', 'harness_cg'] },
        scope: { $ref: 'KeywardScope#' },
        createdAt: { type: 'integer' },
        expiresAt: { type: ['integer', 'null'] },
      },
    },
  },
} as const;

const accountParams = { type: 'object', required: ['accountId'], properties: { accountId: { type: 'string', maxLength: 64 } } } as const;
const scopeQuery = {
  type: 'object',
  properties: { orgIdentifier: { type: 'string', maxLength: 128 }, projectIdentifier: { type: 'string', maxLength: 128 } },
} as const;

type ScopeQuery = { orgIdentifier?: string; projectIdentifier?: string };

export function policyRoutes(app: FastifyInstance, services: Services): void {
  const scopeOf = (accountId: string, q: ScopeQuery) => makeScope(accountId, q.orgIdentifier, q.projectIdentifier);

  app.get(
    '/v1/accounts/:accountId/policy',
    {
      schema: {
        tags: ['policies'],
        summary: "A scope's policy and the policy in force there",
        description: 'Without orgIdentifier the account\'s; with it an organization\'s; with projectIdentifier too a project\'s. Needs core_account_view.',
        security: secured,
        params: accountParams,
        querystring: scopeQuery,
        response: { 200: viewSchema, 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      return services.policies.get(caller, scopeOf((req.params as { accountId: string }).accountId, req.query as ScopeQuery));
    },
  );

  app.put(
    '/v1/accounts/:accountId/policy',
    {
      schema: {
        tags: ['policies'],
        summary: "Replace a scope's policy",
        description:
          'The most specific scope that sets a field wins. A field null or left out is not set at this scope. Existing credentials that break the new policy keep working and are listed by /policy/violations. Audited (action `policy.update`, with the old and new policy). Needs core_account_edit.',
        security: secured,
        params: accountParams,
        querystring: scopeQuery,
        body: { type: 'object', additionalProperties: false, properties: policyFields },
        response: { 200: viewSchema, 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      return services.policies.set(caller, scopeOf((req.params as { accountId: string }).accountId, req.query as ScopeQuery), req.body as Partial<Policy>);
    },
  );

  app.get(
    '/v1/accounts/:accountId/policies',
    {
      schema: {
        tags: ['policies'],
        summary: 'Every policy set in the account: its own, its organizations\' and its projects\'',
        security: secured,
        params: accountParams,
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: { type: 'object', properties: { scope: { $ref: 'KeywardScope#' }, policy: policySchema, updatedAt: { type: 'integer' } } } } },
          },
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      return { items: await services.policies.list(caller, (req.params as { accountId: string }).accountId) };
    },
  );

  app.get(
    '/v1/accounts/:accountId/policy/violations',
    {
      schema: {
        tags: ['policies'],
        summary: 'Credentials that still work and break the policy in force at their scope',
        description:
          'Tokens valid longer than the lifetime allows or without a required end date, rotated-out tokens kept working longer than the rotation grace allows, and Harness CG keys (which never expire) under a lifetime rule. Nothing is revoked. Needs core_account_view.',
        security: secured,
        params: accountParams,
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: violationSchema }, total: { type: 'integer' } } },
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const items = await services.policies.violations(caller, (req.params as { accountId: string }).accountId);
      return { items, total: items.length };
    },
  );
}
