/**
 * The route contracts of ZenML (protocols/contract/index.ts): its response models as models.ts renders
 * them (`{id,name,permission_denied,body,metadata,resources}`, Page `{index,max_size,total_pages,total,items}`),
 * and its errors as errors.ts shapes them: `{"detail": [class, message]}` or `{"detail": message}`, and
 * FastAPI's request-validation answer, a bare `[class, message]` array (422).
 */
import { answers, arrayOf, bool, int, nullable, nullableInt, nullableStr, object, openObject, paramsOf, queryOf, str, wireBody, type DocumentedResponses } from '../contract/index.js';

const time = { ...nullableStr, description: 'Naive UTC with microseconds: 2025-05-01T10:20:30.123000' };
/** A ZenML response model with its body and metadata (metadata null unless hydrated). */
const model = (body: Record<string, unknown>, metadata: Record<string, unknown>) =>
  object({ id: str, name: str, permission_denied: bool, body: object(body), metadata: nullable(object(metadata)), resources: { type: 'null' } }, ['id', 'name', 'body']);

export const serviceAccountModel = model({ created: time, updated: time, active: bool }, { description: str, external_user_id: nullableStr });
export const apiKeyModel = model(
  { created: time, updated: time, key: { ...nullableStr, description: 'The key, only when created or rotated' }, active: bool, service_account: serviceAccountModel },
  { description: str, retain_period_minutes: int, last_login: time, last_rotated: time },
);
export const userModel = model(
  { created: time, updated: time, active: bool, activation_token: nullableStr, full_name: str, email_opted_in: bool, is_service_account: bool, is_admin: bool, email: nullableStr },
  { description: str, external_user_id: nullableStr, user_metadata: openObject('User metadata') },
);
export const workspaceModel = model({ created: time, updated: time, display_name: str }, { description: str });
const componentBody = { created: time, updated: time, user: { type: 'null' }, user_id: { type: 'null' }, type: str, flavor: str, flavor_name: str, integration: nullableStr, logo_url: nullableStr };
export const componentModel = model(componentBody, {
  workspace: workspaceModel,
  configuration: openObject('The configuration'),
  labels: nullable(openObject('Labels')),
  component_spec_path: nullableStr,
  connector_resource_id: nullableStr,
  connector: nullable(openObject('The connector')),
});
export const stackModel = model(
  { created: time, updated: time, user: { type: 'null' }, user_id: { type: 'null' } },
  { workspace: workspaceModel, components: { type: 'object', additionalProperties: arrayOf(componentModel), description: 'Components by type' }, description: str, stack_spec_path: nullableStr },
);
export const pageOf = (item: Record<string, unknown>) => object({ index: int, max_size: int, total_pages: int, total: int, items: arrayOf(item) }, ['index', 'max_size', 'total_pages', 'total', 'items']);

export const tokenResponse = object({
  access_token: str,
  token_type: { type: 'string', enum: ['bearer'] },
  expires_in: nullableInt,
  refresh_token: { type: 'null' },
  scope: { type: 'null' },
  csrf_token: { type: 'null' },
});
export const serverModel = object({
  id: str,
  version: str,
  debug: bool,
  deployment_type: str,
  database_type: str,
  secrets_store_type: str,
  auth_scheme: str,
  server_url: str,
  dashboard_url: str,
  analytics_enabled: bool,
  metadata: openObject('Server metadata'),
  use_legacy_dashboard: bool,
  last_user_activity: nullableStr,
});

const detail = object({ detail: { anyOf: [str, { type: 'array', items: str, minItems: 2, maxItems: 2 }] } }, ['detail']);
const validation = { type: 'array', items: str, minItems: 2, maxItems: 2, description: 'FastAPI request validation: [class, message]' };

/** The model on 200 and every error answer. */
export function zenmlResponses(ok: Record<string, unknown>): DocumentedResponses {
  return {
    200: ok,
    ...answers(detail, {
      400: 'An unsupported grant or a missing credential (login)',
      401: 'CredentialsNotValid',
      403: 'IllegalOperationError',
      404: 'KeyError',
      409: 'EntityExistsError',
      413: 'Request entity too large',
      415: 'Unsupported media type',
      500: 'RuntimeError',
      503: 'RuntimeError: the database is unavailable (with Retry-After)',
    }),
    422: validation,
  };
}

/** JSON `null`, ZenML's answer to a logout or a delete. */
const jsonNull = { enum: [null], description: 'null' };
/** The error answers of a route that always refuses. */
const refusals: DocumentedResponses = (({ 200: _ok, ...errors }) => errors)(zenmlResponses(jsonNull));

const listQuery = {
  page: 'Page number, from 1',
  size: 'Page size',
  sort_by: 'field, or asc:field / desc:field',
  logical_operator: 'and or or',
  hydrate: 'Include metadata',
  name: 'Filter: value, or operator:value (equals, contains, startswith, ...)',
  id: 'Filter on the id',
  created: 'Filter on the creation time',
  updated: 'Filter on the last change',
} as const;
const one = { hydrate: 'Include metadata (default true)' } as const;
const entityBody = wireBody(object({ name: str, description: nullableStr, active: nullable(bool) }));

export const zenml = {
  login: {
    body: wireBody({
      description: 'OAuth2 form (application/x-www-form-urlencoded) or JSON: grant_type zenml-api-key with the key as password, or password with username and password',
      ...object({ grant_type: str, username: str, password: str, client_id: str }),
    }),
    response: zenmlResponses(tokenResponse),
  },
  logout: { response: zenmlResponses(jsonNull) },
  currentUser: { response: zenmlResponses(userModel) },
  user: { params: paramsOf('id'), response: zenmlResponses(userModel) },
  info: { response: zenmlResponses(serverModel) },
  createServiceAccount: { body: entityBody, response: zenmlResponses(serviceAccountModel) },
  listServiceAccounts: { querystring: queryOf({ ...listQuery, active: 'Filter on active', description: 'Filter on the description' }), response: zenmlResponses(pageOf(serviceAccountModel)) },
  getServiceAccount: { params: paramsOf('nameOrId'), querystring: queryOf(one), response: zenmlResponses(serviceAccountModel) },
  updateServiceAccount: { params: paramsOf('nameOrId'), body: entityBody, response: zenmlResponses(serviceAccountModel) },
  deleteServiceAccount: { params: paramsOf('nameOrId'), response: zenmlResponses(jsonNull) },
  createKey: { params: paramsOf('sa'), body: entityBody, response: zenmlResponses(apiKeyModel) },
  listKeys: {
    params: paramsOf('sa'),
    querystring: queryOf({ ...listQuery, active: 'Filter on active', description: 'Filter on the description', last_login: 'Filter on the last login', last_rotated: 'Filter on the last rotation' }),
    response: zenmlResponses(pageOf(apiKeyModel)),
  },
  getKey: { params: paramsOf('sa', 'nameOrId'), querystring: queryOf(one), response: zenmlResponses(apiKeyModel) },
  updateKey: { params: paramsOf('sa', 'nameOrId'), body: entityBody, response: zenmlResponses(apiKeyModel) },
  rotateKey: { params: paramsOf('sa', 'nameOrId'), body: wireBody(object({ retain_period_minutes: int })), response: zenmlResponses(apiKeyModel) },
  deleteKey: { params: paramsOf('sa', 'nameOrId'), response: zenmlResponses(jsonNull) },
  // The default workspace, project, stack and components (read-only)
  listWorkspaces: { querystring: queryOf(listQuery), response: zenmlResponses(pageOf(workspaceModel)) },
  getWorkspace: { params: paramsOf('nameOrId'), querystring: queryOf(one), response: zenmlResponses(workspaceModel) },
  // Refused: these answer 403 IllegalOperationError (or 401, 404, 422) and never succeed.
  refuseCreate: { body: wireBody(openObject('The model to create (refused)')), response: refusals },
  refuseUpdate: (param: 'nameOrId' | 'id') => ({ params: paramsOf(param), body: wireBody(openObject('The update (refused)')), response: refusals }),
  refuseDelete: (param: 'nameOrId' | 'id') => ({ params: paramsOf(param), response: refusals }),
  refuseCreateIn: { params: paramsOf('ws'), body: wireBody(openObject('The model to create (refused)')), response: refusals },
  listStacks: { querystring: queryOf({ ...listQuery, component_id: 'Only stacks with this component' }), response: zenmlResponses(pageOf(stackModel)) },
  listStacksIn: { params: paramsOf('ws'), querystring: queryOf({ ...listQuery, component_id: 'Only stacks with this component' }), response: zenmlResponses(pageOf(stackModel)) },
  getStack: { params: paramsOf('id'), querystring: queryOf(one), response: zenmlResponses(stackModel) },
  listComponents: { querystring: queryOf({ ...listQuery, stack_id: 'Only this stack\'s', scope_type: 'Only this type', type: 'Filter on the type', flavor: 'Filter on the flavor' }), response: zenmlResponses(pageOf(componentModel)) },
  listComponentsIn: {
    params: paramsOf('ws'),
    querystring: queryOf({ ...listQuery, stack_id: 'Only this stack\'s', scope_type: 'Only this type', type: 'Filter on the type', flavor: 'Filter on the flavor' }),
    response: zenmlResponses(pageOf(componentModel)),
  },
  getComponent: { params: paramsOf('id'), querystring: queryOf(one), response: zenmlResponses(componentModel) },
};
