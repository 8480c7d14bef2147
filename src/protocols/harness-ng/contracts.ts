/**
 * The route contracts of Harness NG (protocols/contract/index.ts): its DTOs as the renderers write them
 * (wire.ts, organizations.ts, usergroups.ts, roleassignments.ts, serviceaccount.ts), the ResponseDTO
 * envelope `{status,data,metaData,correlationId}` and the error shapes of errors.ts, per status code.
 */
import { answers, arrayOf, bool, int, nullable, nullableInt, nullableStr, object, openObject, paramsOf, queryOf, str, stringMap, wireBody, type DocumentedResponses, type WireBody } from '../contract/index.js';

const scopeFields = { accountIdentifier: str, orgIdentifier: nullableStr, projectIdentifier: nullableStr };

export const apiKeySchema = object({
  identifier: str,
  name: str,
  description: nullableStr,
  tags: stringMap,
  apiKeyType: { type: 'string', enum: ['USER', 'SERVICE_ACCOUNT'] },
  parentIdentifier: str,
  defaultTimeToExpireToken: nullableInt,
  ...scopeFields,
});
export const apiKeyAggregateSchema = object({ apiKey: apiKeySchema, createdAt: int, lastModifiedAt: int, tokensCount: int });

export const tokenSchema = object({
  identifier: str,
  name: str,
  validFrom: nullableInt,
  validTo: nullableInt,
  scheduledExpireTime: nullableInt,
  valid: bool,
  ...scopeFields,
  apiKeyIdentifier: str,
  parentIdentifier: str,
  apiKeyType: str,
  description: nullableStr,
  tags: stringMap,
  email: nullableStr,
  username: nullableStr,
  encodedPassword: nullableStr,
});
export const tokenAggregateSchema = object({ token: tokenSchema, expiryAt: nullableInt, createdAt: int, lastModifiedAt: int });

export const serviceAccountSchema = object({ identifier: str, name: str, email: str, description: nullableStr, tags: stringMap, ...scopeFields });
export const serviceAccountAggregateSchema = object({
  serviceAccount: serviceAccountSchema,
  createdAt: int,
  lastModifiedAt: int,
  tokensCount: { ...int, description: 'Harness quirk kept: the number of API keys' },
  roleAssignmentsMetadataDTO: arrayOf(
    object({ identifier: str, roleIdentifier: str, roleName: str, resourceGroupIdentifier: str, resourceGroupName: str, managedRole: bool, managedRoleAssignment: bool }),
  ),
});

export const organizationSchema = object({
  organization: object({ identifier: str, name: str, description: nullableStr, tags: stringMap }),
  createdAt: int,
  lastModifiedAt: int,
  harnessManaged: bool,
});
export const projectSchema = object({
  project: object({ orgIdentifier: str, identifier: str, name: str, color: nullableStr, modules: nullable(arrayOf(str)), description: nullableStr, tags: stringMap }),
  createdAt: int,
  lastModifiedAt: int,
  isFavorite: bool,
});

export const userGroupSchema = object({
  ...scopeFields,
  identifier: str,
  name: str,
  users: arrayOf(str),
  notificationConfigs: arrayOf(openObject('A notification setting')),
  isSsoLinked: bool,
  linkedSsoId: str,
  linkedSsoType: str,
  ssoGroupId: str,
  ssoGroupName: str,
  externallyManaged: bool,
  description: str,
  tags: stringMap,
  harnessManaged: bool,
  ssoLinked: bool,
});

export const roleAssignmentSchema = object({
  roleAssignment: object({
    identifier: str,
    resourceGroupIdentifier: str,
    roleIdentifier: str,
    roleReference: object({ identifier: str, scopeLevel: str }),
    principal: object({ scopeLevel: nullableStr, identifier: str, type: str }),
    disabled: bool,
    managed: bool,
  }),
  scope: object(scopeFields),
  createdAt: int,
  lastModifiedAt: int,
  harnessManaged: bool,
});

/** PageResponse (context.ts `pageResponse`). */
export const pageOf = (item: Record<string, unknown>) =>
  object({ totalPages: int, totalItems: int, pageItemCount: int, pageSize: int, content: arrayOf(item), pageIndex: int, empty: bool, pageToken: nullableStr });

// ---- the envelope and the errors (errors.ts) ----------------------------------------------------

const correlationId = nullableStr;
const failure = object(
  { status: { type: 'string', enum: ['FAILURE'] }, code: str, message: str, correlationId, errors: nullable(arrayOf(object({ fieldId: str, error: str }))) },
  ['status', 'code', 'message'],
);
const responseMessage = object({ code: str, level: str, message: str, exception: nullableStr, failureTypes: arrayOf(str) });
const error = object(
  {
    status: { type: 'string', enum: ['ERROR'] },
    code: str,
    message: str,
    correlationId,
    detailedMessage: nullableStr,
    responseMessages: nullable(arrayOf(responseMessage)),
    metadata: nullable(openObject('Error metadata')),
    failedPermissionChecks: arrayOf(
      object({ permission: str, resourceType: str, resourceIdentifier: nullableStr, resourceScope: object(scopeFields) }),
    ),
  },
  ['status', 'code', 'message'],
);
/** Dropwizard's answer to a body it cannot read. */
const dropwizard = object({ code: int, message: str }, ['code', 'message']);

const errorResponses = {
  400: { description: 'FAILURE (validation), ERROR, or Dropwizard\'s unreadable-JSON body', anyOf: [failure, error, dropwizard] },
  ...answers(error, { 401: 'INVALID_TOKEN', 403: 'NG_ACCESS_DENIED with failedPermissionChecks', 404: 'ENTITY_NOT_FOUND', 500: 'UNKNOWN_ERROR', 503: 'SERVICE_UNAVAILABLE (with Retry-After)' }),
  ...answers(dropwizard, { 413: 'Request entity too large', 415: 'Unsupported media type' }),
};

/** ResponseDTO<data> and every error answer. */
export function ngResponses(data: Record<string, unknown>): DocumentedResponses {
  return {
    200: object({ status: { type: 'string', enum: ['SUCCESS'] }, data, metaData: { type: 'null' }, correlationId }, ['status', 'data', 'metaData', 'correlationId']),
    ...errorResponses,
  };
}

// ---- request parts ------------------------------------------------------------------------------

const accountQuery = {
  accountIdentifier: 'The account (must be the token\'s)',
  account: 'The account, as older clients name it',
  orgIdentifier: 'The organization of the scope',
  projectIdentifier: 'The project of the scope',
} as const;
const pageQuery = {
  pageIndex: 'Page number, from 0',
  pageSize: 'Page size, 1-100 (default 50)',
  sortOrders: 'field,ASC|DESC (repeatable)',
  searchTerm: 'Matches name or identifier',
  identifiers: 'Only these identifiers (repeatable)',
} as const;
const ownerQuery = { apiKeyType: 'USER or SERVICE_ACCOUNT', parentIdentifier: 'The user or service account owning the key' } as const;

export const ngQuery = {
  scope: queryOf(accountQuery),
  paged: queryOf({ ...accountQuery, ...pageQuery }),
  keyOwner: queryOf({ ...accountQuery, ...ownerQuery, identifiers: pageQuery.identifiers }),
  keyOwnerPaged: queryOf({ ...accountQuery, ...ownerQuery, ...pageQuery }),
  token: queryOf({ ...accountQuery, ...ownerQuery, apiKeyIdentifier: 'The API key of the token' }),
  tokenPaged: queryOf({ ...accountQuery, ...ownerQuery, apiKeyIdentifier: 'The API key of the tokens', includeOnlyActiveTokens: 'true: only tokens valid now', ...pageQuery }),
  validate: queryOf({ accountIdentifier: 'The account the token must belong to' }),
  rotate: queryOf({ ...accountQuery, ...ownerQuery, apiKeyIdentifier: 'The API key of the token', rotateTimestamp: 'When the old token stops working (ms)' }),
  userGroupDelete: queryOf({ ...accountQuery, identifier: 'The user group to delete' }),
  projects: queryOf({ ...accountQuery, ...pageQuery, orgIdentifiers: 'Organizations (repeatable)', hasModule: 'Only projects with a module', moduleType: 'The module' }),
  roleAssignments: queryOf({ ...accountQuery, ...pageQuery }),
};
export const ngParams = { identifier: paramsOf('identifier'), member: paramsOf('identifier', 'userIdentifier') };

const tagsBody = { type: 'object', additionalProperties: { type: 'string' } };
const entity = { identifier: str, name: str, description: str, tags: tagsBody };
export const bodies: Record<string, WireBody> = {
  apiKey: wireBody(object({ ...entity, apiKeyType: { type: 'string', enum: ['USER', 'SERVICE_ACCOUNT'] }, parentIdentifier: str, defaultTimeToExpireToken: int, ...scopeFields }, ['identifier', 'name', 'apiKeyType', 'parentIdentifier', 'accountIdentifier'])),
  token: wireBody(object({ ...entity, validFrom: int, validTo: int, scheduledExpireTime: int, apiKeyIdentifier: str, parentIdentifier: str, apiKeyType: str, ...scopeFields }, ['identifier', 'name', 'apiKeyIdentifier', 'parentIdentifier', 'apiKeyType', 'accountIdentifier'])),
  serviceAccount: wireBody(object({ ...entity, email: str, ...scopeFields }, ['identifier', 'name', 'email', 'accountIdentifier'])),
  organization: wireBody(object({ organization: object(entity, ['identifier', 'name']) }, ['organization'])),
  project: wireBody(object({ project: object({ ...entity, orgIdentifier: str, color: str, modules: arrayOf(str) }, ['identifier', 'name']) }, ['project'])),
  userGroup: wireBody(object({ ...entity, ...scopeFields, users: arrayOf(str), notificationConfigs: arrayOf(openObject('A notification setting')) }, ['identifier', 'name'])),
  roleAssignment: wireBody(
    object({
      identifier: str,
      resourceGroupIdentifier: str,
      roleIdentifier: str,
      roleReference: object({ identifier: str, scopeLevel: str }),
      principal: object({ scopeLevel: str, identifier: str, type: { type: 'string', enum: ['USER', 'USER_GROUP', 'SERVICE_ACCOUNT'] } }),
      disabled: bool,
      managed: bool,
    }),
  ),
  roleAssignmentFilter: wireBody(openObject('RoleAssignmentFilter: resourceGroupFilter, roleFilter, principalTypeFilter, principalFilter, ...')),
  tokenValidate: wireBody({ type: 'string', description: 'The token to validate, as the raw body' }),
};
