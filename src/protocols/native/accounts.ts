/** Accounts (system operators) and the users of an account. */
import type { FastifyInstance } from 'fastify';
import type { Account, User } from '../../domain/model.js';
import type { Services } from '../../services/index.js';
import { provisionAccount } from '../../services/provisioning.js';
import { accountParams, nativeCaller, nativeErrors, pageAnswer, pageQuerySchema, pageSchema, secured } from './context.js';
import type { ContractApp } from '../contract/index.js';

export const accountSchema = {
  $id: 'KeywardAccount',
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'integer' }, updatedAt: { type: 'integer' } },
} as const;

export const userSchema = {
  $id: 'KeywardUser',
  type: 'object',
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    hasPassword: { type: 'boolean' },
    active: { type: 'boolean' },
    isOperator: { type: 'boolean' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const userParams = {
  type: 'object',
  required: ['accountId', 'userId'],
  properties: { accountId: { type: 'string', maxLength: 64 }, userId: { type: 'string', maxLength: 64 } },
} as const;


export function accountRoutes(app: ContractApp, services: Services): void {
  app.addSchema(accountSchema);
  app.addSchema(userSchema);

  app.post(
    '/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an account with its first admin (system operators only)',
        description: 'Returns the admin\'s first token once, in `token`; it is never shown again.',
        security: secured,
        body: {
          type: 'object',
          required: ['name', 'admin'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            name: { type: 'string', minLength: 1, maxLength: 128 },
            admin: {
              type: 'object',
              required: ['email'],
              additionalProperties: false,
              properties: {
                email: { type: 'string', maxLength: 254 },
                name: { type: 'string', maxLength: 128 },
                password: { type: 'string', maxLength: 256 },
              },
            },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: { account: { $ref: 'KeywardAccount#' }, admin: { $ref: 'KeywardUser#' }, token: { type: 'string' }, tokenId: { type: 'string' } },
          },
          ...nativeErrors(400, 401, 403, 409),
        },
      },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const body = req.body;
      const p = await provisionAccount(services.ctx, caller, {
        accountId: body.id ?? null,
        accountName: body.name,
        adminEmail: body.admin.email,
        adminName: body.admin.name ?? null,
        adminPassword: body.admin.password ?? null,
      });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ account: p.account, admin: p.admin, token: p.token, tokenId: p.tokenRecord.id });
    },
  );

  app.get(
    '/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'List accounts (system operators only)',
        security: secured,
        querystring: { type: 'object', properties: pageQuerySchema },
        response: {
          200: pageSchema({ $ref: 'KeywardAccount#' }),
          ...nativeErrors(401, 403),
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const q = req.query;
      const page = await services.scopes.listAccounts(caller, q.pageIndex * q.pageSize, q.pageSize);
      return pageAnswer(page, q);
    },
  );

  app.get(
    '/v1/accounts/:accountId',
    {
      schema: { tags: ['accounts'], summary: 'Get an account', security: secured, params: accountParams, response: { 200: { $ref: 'KeywardAccount#' }, ...nativeErrors(401, 404) } },
    },
    async (req): Promise<Account> => {
      const { caller } = await nativeCaller(services, req);
      return services.scopes.getAccount(caller, req.params.accountId);
    },
  );

  // ---- users ----

  app.post(
    '/v1/accounts/:accountId/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user in the account (needs core_user_manage)',
        security: secured,
        params: accountParams,
        body: {
          type: 'object',
          required: ['email'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: 254 },
            name: { type: 'string', maxLength: 128 },
            password: { type: 'string', maxLength: 256 },
            isOperator: { type: 'boolean' },
          },
        },
        response: { 201: { $ref: 'KeywardUser#' }, ...nativeErrors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const body = req.body;
      const user = await services.users.create(caller, req.params.accountId, body);
      return reply.status(201).send(user);
    },
  );

  app.get(
    '/v1/accounts/:accountId/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List the users of the account',
        security: secured,
        params: accountParams,
        querystring: { type: 'object', properties: { ...pageQuerySchema, search: { type: 'string', maxLength: 128 } } },
        response: {
          200: pageSchema({ $ref: 'KeywardUser#' }),
          ...nativeErrors(401, 403),
        },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const q = req.query;
      const page = await services.users.list(caller, req.params.accountId, {
        offset: q.pageIndex * q.pageSize,
        limit: q.pageSize,
        ...(q.search ? { search: q.search } : {}),
      });
      return pageAnswer(page, q);
    },
  );

  app.get(
    '/v1/accounts/:accountId/users/:userId',
    { schema: { tags: ['users'], summary: 'Get a user', security: secured, params: userParams, response: { 200: { $ref: 'KeywardUser#' }, ...nativeErrors(401, 403, 404) } } },
    async (req): Promise<User> => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      return services.users.get(caller, p.accountId, p.userId);
    },
  );

  app.patch(
    '/v1/accounts/:accountId/users/:userId',
    {
      schema: {
        tags: ['users'],
        summary: 'Rename, deactivate or reactivate a user',
        description: 'A deactivated user\'s tokens stop verifying at once (reason `principal_inactive`).',
        security: secured,
        params: userParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { name: { type: 'string', maxLength: 128 }, active: { type: 'boolean' } } },
        response: { 200: { $ref: 'KeywardUser#' }, ...nativeErrors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      return services.users.update(caller, p.accountId, p.userId, req.body);
    },
  );

  app.put(
    '/v1/accounts/:accountId/users/:userId/password',
    {
      schema: {
        tags: ['users'],
        summary: 'Set or reset a password',
        description: 'A user sets their own with `currentPassword` (when they have one); an admin with core_user_manage resets anyone\'s.',
        security: secured,
        params: userParams,
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password: { type: 'string', maxLength: 256 }, currentPassword: { type: 'string', maxLength: 256 } },
        },
        response: { 204: { type: 'null' }, ...nativeErrors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const { caller } = await nativeCaller(services, req);
      const p = req.params;
      await services.users.setPassword(caller, p.accountId, p.userId, req.body);
      return reply.status(204).send();
    },
  );
}
