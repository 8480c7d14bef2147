/** `/service_accounts` and their `/api_keys` (docs/compat/zenml.md). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PermissionDeniedError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { ApiKey, ServiceAccount } from '../../domain/model.js';
import type { Services } from '../../services/index.js';
import type { ZenmlKey } from '../../services/zenml.js';
import { zenmlCaller } from './auth.js';
import { adminOnly, detail, requestInvalid } from './errors.js';
import { applyListQuery, lastValue, type FieldDef, type Query } from './filters.js';
import { apiKeyModel, keyUpdatedAt, serviceAccountModel } from './models.js';
import { zenml } from './contracts.js';
import type { ContractApp } from '../contract/index.js';


/** Pydantic-like reading of a JSON body: a violation is FastAPI's 422 bare array. */
function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw requestInvalid('body: value is not a valid dict');
  return b as Record<string, unknown>;
}

function str(b: Record<string, unknown>, k: string, required: boolean): string | null {
  const v = b[k];
  if (v === undefined || v === null) {
    if (required) throw requestInvalid(`${k}: field required`);
    return null;
  }
  if (typeof v !== 'string') throw requestInvalid(`${k}: str type expected`);
  return v;
}

function bool(b: Record<string, unknown>, k: string, required: boolean): boolean | null {
  const v = b[k];
  if (v === undefined || v === null) {
    if (required) throw requestInvalid(`${k}: field required`);
    return null;
  }
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string' && ['true', 'false'].includes(v.toLowerCase())) return v.toLowerCase() === 'true';
  throw requestInvalid(`${k}: value could not be parsed to a boolean`);
}

function int(b: Record<string, unknown>, k: string, dflt: number): number {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw requestInvalid(`${k}: value is not a valid integer`);
}

function bool_(q: Query, k: string, dflt: boolean): boolean {
  const s = lastValue(q, k);
  if (s === undefined) return dflt;
  return ['true', '1', 'yes', 'on'].includes(s.toLowerCase());
}

/** Maps a missing permission to ZenML's admin-only refusal for the action. */
async function asAdmin<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof PermissionDeniedError) throw adminOnly(action);
    throw e;
  }
}

const saFields: Record<string, FieldDef<ServiceAccount>> = {
  id: { type: 'uuid', get: (r) => r.id },
  created: { type: 'datetime', get: (r) => r.createdAt },
  updated: { type: 'datetime', get: (r) => r.updatedAt },
  name: { type: 'str', get: (r) => r.name },
  description: { type: 'str', get: (r) => r.description },
  active: { type: 'bool', get: (r) => r.active },
};

export function resourceRoutes(app: ContractApp, services: Services): void {
  const ts = ['zenml: service accounts'];
  const tk = ['zenml: api keys'];
  const z = services.zenml;
  const lastLogin = (k: ApiKey) => z.lastLogin(k, services.usage.peekKeyLogin(k.id));
  const keyModel = (k: ZenmlKey, hydrate: boolean, secret?: string, metadata?: boolean) =>
    apiKeyModel(k.key, k.serviceAccount, { hydrate, secret: secret ?? null, lastLogin: lastLogin(k.key), ...(metadata === false ? { metadata: false } : {}) });
  const saIdParam = (id: string) => {
    if (!isUuid(id)) throw requestInvalid('service_account_id: value is not a valid uuid');
    return id;
  };

  app.post('/service_accounts', { schema: { tags: ts, summary: 'Create a service account', ...zenml.createServiceAccount } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const b = body(req);
    const input = { name: str(b, 'name', true)!, description: str(b, 'description', false), active: bool(b, 'active', true) };
    const sa = await asAdmin('create service account', () => z.createServiceAccount(caller, accountId, input));
    return serviceAccountModel(sa, true);
  });

  app.get('/service_accounts', { schema: { tags: ts, summary: 'List service accounts (filters, sorting, pages)', ...zenml.listServiceAccounts } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const rows = await z.listServiceAccounts(caller, accountId);
    const r = applyListQuery(rows, req.query, saFields, { hydrateDefault: false });
    return { index: r.page.page, max_size: r.page.size, total_pages: r.totalPages, total: r.total, items: r.items.map((sa) => serviceAccountModel(sa, r.page.hydrate)) };
  });

  app.get('/service_accounts/:nameOrId', { schema: { tags: ts, summary: 'Get a service account by name or id', ...zenml.getServiceAccount } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    return serviceAccountModel(await z.getServiceAccount(caller, accountId, req.params.nameOrId), bool_(req.query, 'hydrate', true));
  });

  app.put('/service_accounts/:nameOrId', { schema: { tags: ts, summary: 'Update a service account (null fields are unchanged; active toggles)', ...zenml.updateServiceAccount } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const b = body(req);
    const patch = { name: str(b, 'name', false), description: str(b, 'description', false), active: bool(b, 'active', false) };
    return serviceAccountModel(await asAdmin('update service account', () => z.updateServiceAccount(caller, accountId, req.params.nameOrId, patch)), true);
  });

  app.delete('/service_accounts/:nameOrId', { schema: { tags: ts, summary: 'Delete a service account and its API keys', ...zenml.deleteServiceAccount } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    await asAdmin('delete service account', () => z.deleteServiceAccount(caller, accountId, req.params.nameOrId));
    return null;
  });

  const keyFields: Record<string, FieldDef<ZenmlKey>> = {
    id: { type: 'uuid', get: (r) => r.key.id },
    created: { type: 'datetime', get: (r) => r.key.createdAt },
    updated: { type: 'datetime', get: (r) => keyUpdatedAt(r.key, lastLogin(r.key)) },
    name: { type: 'str', get: (r) => r.key.name },
    description: { type: 'str', get: (r) => r.key.description },
    active: { type: 'bool', get: (r) => r.key.active },
    last_login: { type: 'datetime', get: (r) => lastLogin(r.key) },
    last_rotated: { type: 'datetime', get: (r) => r.key.lastRotatedAt ?? null },
  };

  app.post('/service_accounts/:sa/api_keys', { schema: { tags: tk, summary: 'Create an API key; the only response that carries its value', ...zenml.createKey } }, async (req, reply) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const saId = saIdParam(req.params.sa);
    const b = body(req);
    const input = { name: str(b, 'name', true)!, description: str(b, 'description', false) };
    const created = await asAdmin('create API key', () => z.createKey(caller, accountId, saId, input));
    reply.header('cache-control', 'no-store');
    return keyModel(created, true, created.secret);
  });

  app.get('/service_accounts/:sa/api_keys', { schema: { tags: tk, summary: 'List API keys (filters, sorting, pages)', ...zenml.listKeys } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const rows = await z.listKeys(caller, accountId, saIdParam(req.params.sa));
    const query = { ...(req.query) };
    delete query.service_account; // overwritten with the path id, never a filter
    if (String(query.sort_by ?? '').replace(/^(asc|desc):/, '') === 'service_account') {
      // A filter-model error (make_dependable): `{"detail": [...]}`, like every other sort_by error.
      throw detail(422, 'ValueError', `This resource can not be sorted by this field: '${String(query.sort_by)}'`);
    }
    const r = applyListQuery(rows, query, keyFields, { hydrateDefault: false });
    return { index: r.page.page, max_size: r.page.size, total_pages: r.totalPages, total: r.total, items: r.items.map((k) => keyModel(k, r.page.hydrate)) };
  });

  app.get('/service_accounts/:sa/api_keys/:nameOrId', { schema: { tags: tk, summary: 'Get an API key by name or id (never its value)', ...zenml.getKey } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    return keyModel(await z.getKey(caller, accountId, saIdParam(req.params.sa), req.params.nameOrId), bool_(req.query, 'hydrate', true));
  });

  app.put('/service_accounts/:sa/api_keys/:nameOrId', { schema: { tags: tk, summary: 'Update an API key (null fields are unchanged; active toggles)', ...zenml.updateKey } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const saId = saIdParam(req.params.sa);
    const b = body(req);
    const patch = { name: str(b, 'name', false), description: str(b, 'description', false), active: bool(b, 'active', false) };
    return keyModel(await asAdmin('update API key', () => z.updateKey(caller, accountId, saId, req.params.nameOrId, patch)), true);
  });

  app.put('/service_accounts/:sa/api_keys/:nameOrId/rotate', { schema: { tags: tk, summary: 'Rotate an API key; the response carries the new value, metadata null', ...zenml.rotateKey } }, async (req, reply) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const saId = saIdParam(req.params.sa);
    const retain = int(body(req), 'retain_period_minutes', 0);
    const rotated = await asAdmin('rotate API key', () => z.rotateKey(caller, accountId, saId, req.params.nameOrId, retain));
    reply.header('cache-control', 'no-store');
    return keyModel(rotated, false, rotated.secret, false);
  });

  app.delete('/service_accounts/:sa/api_keys/:nameOrId', { schema: { tags: tk, summary: 'Delete an API key', ...zenml.deleteKey } }, async (req) => {
    const { caller, accountId } = await zenmlCaller(services, req);
    const saId = saIdParam(req.params.sa);
    await asAdmin('delete API key', () => z.deleteKey(caller, accountId, saId, req.params.nameOrId));
    return null;
  });
}
