/**
 * CG REST `/api/api-keys?accountId=` (harness-core `400-rest/.../resources/ApiKeyResource.java`,
 * docs/compat/harness-cg.md): create, update, paged list, get one with its `decryptedKey`, delete one, delete
 * all, in the RestResponse envelope `{"metaData":{},"resource":..,"responseMessages":[]}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CgApiKey } from '../../domain/model.js';
import type { Services } from '../../services/index.js';
import { cgAuth, type CgContext } from './context.js';
import { CgRestError, restResponse, sendCgRest } from './errors.js';
import { cgRest } from './contracts.js';
import { documentedResponses, typed, type ContractApp } from '../contract/index.js';

const MAX_LIMIT = 1000;

async function auth(services: Services, req: FastifyRequest): Promise<CgContext> {
  const cg = await cgAuth(services, req);
  if (!cg) throw new CgRestError(401, 'INVALID_API_KEY', 'Invalid Api Key');
  return cg;
}

function body(req: FastifyRequest): { name: string | null | undefined; userGroupIds: Array<string | null> | null | undefined } {
  const b = req.body;
  if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) throw new CgRestError(400, 'INVALID_REQUEST', 'Request body must be a JSON object');
  const o = b as Record<string, unknown>;
  if (o.name !== undefined && o.name !== null && typeof o.name !== 'string') throw new CgRestError(400, 'INVALID_ARGUMENT', 'name must be a string');
  const groups = o.userGroupIds;
  if (groups !== undefined && groups !== null && (!Array.isArray(groups) || groups.some((g) => g !== null && typeof g !== 'string'))) {
    throw new CgRestError(400, 'INVALID_ARGUMENT', 'userGroupIds must be a list of strings');
  }
  return { name: o.name as string | null | undefined, userGroupIds: groups as Array<string | null> | null | undefined };
}

function intParam(v: string | string[] | undefined, name: string, fallback: number): number {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s === '') return fallback;
  if (s === 'UNLIMITED') return MAX_LIMIT;
  if (typeof s !== 'string' || !/^\d{1,9}$/.test(s)) throw new CgRestError(400, 'INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  return Number(s);
}

export function restApiKeyRoutes(app: ContractApp, services: Services): void {
  const t = ['harness-cg: api keys'];

  /** ApiKeyEntry as Harness serializes it (the hash fields are in its Internal view, never sent). */
  async function entry(ctx: CgContext, k: CgApiKey, decryptedKey: string | null) {
    const userGroups = [];
    for (const id of k.userGroupIds) {
      const { group } = await services.userGroups.get(ctx.caller, { accountId: k.accountId, id });
      userGroups.push({ uuid: group.id, accountId: group.scope.accountId, name: group.name, description: group.description === '' ? null : group.description });
    }
    return { uuid: k.id, accountId: k.accountId, name: k.name, userGroupIds: k.userGroupIds, userGroups, createdAt: k.createdAt, decryptedKey, encryptedDataId: null };
  }

  app.post('/api-keys', { schema: { tags: t, summary: 'Create a CG API key; the response carries its value', ...cgRest.create } }, async (req) => {
    const ctx = await auth(services, req);
    const { key, value } = await services.cgApiKeys.create(ctx.caller, ctx.accountId, body(req));
    return restResponse(await entry(ctx, key, value));
  });

  app.put('/api-keys/:apiKeyId', { schema: { tags: t, summary: 'Update a CG API key: name and user groups', ...cgRest.update } }, async (req) => {
    const ctx = await auth(services, req);
    const key = await services.cgApiKeys.update(ctx.caller, ctx.accountId, req.params.apiKeyId, body(req));
    return restResponse(await entry(ctx, key, null));
  });

  app.get('/api-keys', { schema: { tags: t, summary: 'List CG API keys, paged by offset and limit (no values)', ...cgRest.list } }, async (req) => {
    const ctx = await auth(services, req);
    const offset = intParam(req.query.offset, 'offset', 0);
    const limit = Math.min(intParam(req.query.limit, 'limit', 50), MAX_LIMIT);
    const page = await services.cgApiKeys.list(ctx.caller, ctx.accountId, offset, limit);
    const response = [];
    for (const k of page.items) response.push(await entry(ctx, k, null));
    return restResponse({ response, total: page.total, offset: String(offset), limit: String(limit), start: offset, pageSize: limit, empty: response.length === 0 });
  });

  app.get('/api-keys/:apiKeyId', { schema: { tags: t, summary: 'One CG API key, with its value (decryptedKey)', ...cgRest.get } }, async (req) => {
    const ctx = await auth(services, req);
    const { key, value } = await services.cgApiKeys.get(ctx.caller, ctx.accountId, req.params.apiKeyId, true);
    return restResponse(await entry(ctx, key, value));
  });

  app.delete('/api-keys/:apiKeyId', { schema: { tags: t, summary: 'Delete a CG API key', ...cgRest.delete } }, async (req) => {
    const ctx = await auth(services, req);
    await services.cgApiKeys.delete(ctx.caller, ctx.accountId, req.params.apiKeyId);
    return restResponse(null);
  });

  app.delete('/api-keys', { schema: { tags: t, summary: 'Delete every CG API key of the account', ...cgRest.deleteAll } }, async (req) => {
    const ctx = await auth(services, req);
    await services.cgApiKeys.deleteAll(ctx.caller, ctx.accountId);
    return restResponse(null);
  });
}

export async function cgRestApi(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendCgRest(err, req, reply));
  documentedResponses(app);
  restApiKeyRoutes(typed(app), opts.services);
}
