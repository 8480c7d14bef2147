/**
 * The Go SDK's exchanges (docs/compat/harness-ng.md), in the order a script using package harness/nextgen would make
 * them, as data. Bodies follow Go's omitempty: zero values ("", 0, false, empty maps) are left out.
 * Variables: {{acc}} the account, {{user}} the bootstrap admin's user id; captures add the tokens.
 * Replayed under the SDK's default base path, /gateway/ng/api.
 */
import { DAY, DEFAULT_TTL, HOUR, S, T, T0, type Exchange } from './support.js';

/** The clock after UpdateApiKey moves it, so that list orders by lastModifiedAt are deterministic. */
export const T1 = T0 + HOUR;
export const SDK_ORG = 'sdk_org';
export const SDK_PROJECT = 'sdk_proj';

const acc = '{{acc}}';
const user = '{{user}}';
const userKeyQuery = { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user };
const userTokenQuery = { ...userKeyQuery, apiKeyIdentifier: 'sdk_user_key' };

const SA = S.serviceAccount({ identifier: 'sdk_sa', name: 'SDK SA', email: 'sdk_sa@service.harness.io', tags: { team: 'platform' } });
const SA_V2 = S.serviceAccount({ identifier: 'sdk_sa', name: 'SDK SA v2', email: 'sdk_sa@service.harness.io', description: 'runs the pipelines' });
const PROJECT_SA = S.serviceAccount({
  identifier: 'sdk_proj_sa',
  name: 'Project SA',
  email: 'sdk_proj_sa@service.harness.io',
  orgIdentifier: SDK_ORG,
  projectIdentifier: SDK_PROJECT,
});
const SA_KEY = S.apiKey({ identifier: 'sdk_sa_key', name: 'SDK SA key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'sdk_sa', defaultTimeToExpireToken: DAY });
const USER_KEY = S.apiKey({ identifier: 'sdk_user_key', name: 'sdk user key', description: 'for scripts', tags: { env: 'ci' }, apiKeyType: 'USER', parentIdentifier: user });
const USER_KEY_V2 = S.apiKey({ identifier: 'sdk_user_key', name: 'sdk user key v2', apiKeyType: 'USER', parentIdentifier: user, defaultTimeToExpireToken: 7 * DAY });
const ADMIN_KEY = S.apiKey({ identifier: 'admin', name: 'admin', description: 'Created with the account', apiKeyType: 'USER', parentIdentifier: user });
const USER_TOKEN = {
  identifier: 'sdk_tok',
  name: 'sdk tok',
  validFrom: T1,
  validTo: T1 + 7 * DAY,
  apiKeyIdentifier: 'sdk_user_key',
  parentIdentifier: user,
  apiKeyType: 'USER',
  description: 'ci token',
};
const USER_TOKEN_V2 = { ...USER_TOKEN, name: 'sdk tok renamed', validTo: T1 + 3 * DAY, description: null };

export const SDK_EXCHANGES: Exchange[] = [
  // ---- service accounts ----
  {
    call: 'ServiceAccountApi.CreateServiceAccount',
    cite: '§5.1; §1.3 POST /serviceaccount; ServiceAccount JSON (email stored lower-cased)',
    request: {
      method: 'POST',
      path: '/serviceaccount',
      query: { accountIdentifier: acc },
      body: { identifier: 'sdk_sa', name: 'SDK SA', email: 'SDK_SA@service.harness.io', tags: { team: 'platform' }, accountIdentifier: acc },
    },
    status: 200,
    body: S.success(SA),
  },
  {
    call: 'ServiceAccountApi.CreateServiceAccount (project scope)',
    cite: '§5.1 {Org,Project}; §1.3 shared query params',
    request: {
      method: 'POST',
      path: '/serviceaccount',
      query: { accountIdentifier: acc, orgIdentifier: SDK_ORG, projectIdentifier: SDK_PROJECT },
      body: { identifier: 'sdk_proj_sa', name: 'Project SA', email: 'sdk_proj_sa@service.harness.io', accountIdentifier: acc, orgIdentifier: SDK_ORG, projectIdentifier: SDK_PROJECT },
    },
    status: 200,
    body: S.success(PROJECT_SA),
  },
  {
    call: 'ServiceAccountApi.UpdateServiceAccount',
    cite: '§5.1; §1.3 PUT /serviceaccount/{identifier} (the document is replaced: tags omitted become {})',
    request: {
      method: 'PUT',
      path: '/serviceaccount/sdk_sa',
      query: { accountIdentifier: acc },
      body: { identifier: 'sdk_sa', name: 'SDK SA v2', email: 'sdk_sa@service.harness.io', description: 'runs the pipelines', accountIdentifier: acc },
    },
    status: 200,
    body: S.success(SA_V2),
  },
  {
    call: 'ServiceAccountApi.GetAggregatedServiceAccount',
    cite: '§5.1; §1.3 GET /serviceaccount/aggregate/{identifier}; ServiceAccountAggregate',
    request: { method: 'GET', path: '/serviceaccount/aggregate/sdk_sa', query: { accountIdentifier: acc } },
    status: 200,
    body: S.success(S.serviceAccountAggregate(SA_V2, { createdAt: T0, lastModifiedAt: T0, tokensCount: 0, roleAssignmentsMetadataDTO: [] })),
  },

  // ---- API keys ----
  {
    call: 'ApiKeyApi.CreateApiKey (SERVICE_ACCOUNT)',
    cite: '§5.1 CreateApiKey; §1.1 POST /apikey; ApiKey JSON',
    request: {
      method: 'POST',
      path: '/apikey',
      query: { accountIdentifier: acc },
      body: { identifier: 'sdk_sa_key', name: 'SDK SA key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'sdk_sa', defaultTimeToExpireToken: DAY, accountIdentifier: acc },
    },
    status: 200,
    body: S.success(SA_KEY),
  },
  {
    call: 'ApiKeyApi.CreateApiKey (SERVICE_ACCOUNT, project scope)',
    cite: '§5.1 CreateApiKey; §3 SERVICE_ACCOUNT keys live in the service account\'s scope',
    request: {
      method: 'POST',
      path: '/apikey',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'sdk_proj_key',
        name: 'Project key',
        apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'sdk_proj_sa',
        accountIdentifier: acc,
        projectIdentifier: SDK_PROJECT,
        orgIdentifier: SDK_ORG,
      },
    },
    status: 200,
    body: S.success(
      S.apiKey({ identifier: 'sdk_proj_key', name: 'Project key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'sdk_proj_sa', projectIdentifier: SDK_PROJECT, orgIdentifier: SDK_ORG }),
    ),
  },
  {
    call: 'ApiKeyApi.CreateApiKey (USER)',
    cite: '§5.1 CreateApiKey; §1.1 (defaultTimeToExpireToken defaults to 30 days)',
    request: {
      method: 'POST',
      path: '/apikey',
      query: { accountIdentifier: acc },
      body: { identifier: 'sdk_user_key', name: 'sdk user key', description: 'for scripts', tags: { env: 'ci' }, apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc },
    },
    status: 200,
    body: S.success(USER_KEY),
  },
  {
    call: 'ApiKeyApi.UpdateApiKey',
    cite: '§5.1 UpdateApiKey: PUT /ng/api/apikey/{identifier} with no query; §0 account from the token; §1.1 whole-document replace',
    advanceClock: HOUR,
    request: {
      method: 'PUT',
      path: '/apikey/sdk_user_key',
      body: { identifier: 'sdk_user_key', name: 'sdk user key v2', apiKeyType: 'USER', parentIdentifier: user, defaultTimeToExpireToken: 7 * DAY, accountIdentifier: acc },
    },
    status: 200,
    body: S.success(USER_KEY_V2),
  },
  {
    call: 'ApiKeyApi.GetAggregatedApiKey',
    cite: '§5.1; §1.1 GET /apikey/aggregate/{identifier}; ApiKeyAggregate',
    request: { method: 'GET', path: '/apikey/aggregate/sdk_user_key', query: userKeyQuery },
    status: 200,
    body: S.success(S.apiKeyAggregate(USER_KEY_V2, { createdAt: T0, lastModifiedAt: T1, tokensCount: 0 })),
  },

  // ---- tokens ----
  {
    call: 'TokenApi.CreateToken (USER)',
    cite: '§5.1 CreateToken decoded as ResponseDtoString; §1.2 POST /token; §2 format and default validity',
    request: {
      method: 'POST',
      path: '/token',
      query: { accountIdentifier: acc },
      body: { identifier: 'sdk_tok', name: 'sdk tok', accountIdentifier: acc, apiKeyIdentifier: 'sdk_user_key', parentIdentifier: user, apiKeyType: 'USER', description: 'ci token' },
    },
    status: 200,
    body: S.success(T.patToken),
    capture: { userTok: 'data' },
    verify: [{ token: '{{userTok}}', valid: true }],
  },
  {
    call: 'TokenApi.CreateToken (SERVICE_ACCOUNT, explicit window)',
    cite: '§5.1 CreateToken; §2 sat. prefix for service accounts',
    request: {
      method: 'POST',
      path: '/token',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'sdk_sa_tok',
        name: 'sdk sa tok',
        validFrom: T0,
        validTo: T0 + 2 * DAY,
        accountIdentifier: acc,
        apiKeyIdentifier: 'sdk_sa_key',
        parentIdentifier: 'sdk_sa',
        apiKeyType: 'SERVICE_ACCOUNT',
      },
    },
    status: 200,
    body: S.success(T.satToken),
    capture: { saTok: 'data' },
    verify: [{ token: '{{saTok}}', valid: true }],
  },
  {
    call: 'TokenApi.CreateToken (SERVICE_ACCOUNT, project scope)',
    cite: '§5.1 CreateToken; §3 scope of SERVICE_ACCOUNT tokens',
    request: {
      method: 'POST',
      path: '/token',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'sdk_proj_tok',
        name: 'project tok',
        accountIdentifier: acc,
        projectIdentifier: SDK_PROJECT,
        orgIdentifier: SDK_ORG,
        apiKeyIdentifier: 'sdk_proj_key',
        parentIdentifier: 'sdk_proj_sa',
        apiKeyType: 'SERVICE_ACCOUNT',
      },
    },
    status: 200,
    body: S.success(T.satToken),
    capture: { projTok: 'data' },
    verify: [{ token: '{{projTok}}', valid: true }],
  },
  {
    call: 'TokenApi.ListAggregatedTokens (USER)',
    cite: '§5.1 (never sends includeOnlyActiveTokens); §1.2 GET /token/aggregate; TokenAggregate; §0 PageResponse',
    request: { method: 'GET', path: '/token/aggregate', query: { ...userTokenQuery, pageIndex: 0, pageSize: 10 } },
    status: 200,
    body: S.success(S.page([S.tokenAggregate(S.token(USER_TOKEN), { expiryAt: T1 + 7 * DAY, createdAt: T1, lastModifiedAt: T1 })], { pageSize: 10 })),
  },
  {
    call: 'TokenApi.ListAggregatedTokens (project scope, identifiers)',
    cite: '§5.1 {Org,Project,Identifiers}; §1.2',
    request: {
      method: 'GET',
      path: '/token/aggregate',
      query: {
        accountIdentifier: acc,
        orgIdentifier: SDK_ORG,
        projectIdentifier: SDK_PROJECT,
        apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'sdk_proj_sa',
        apiKeyIdentifier: 'sdk_proj_key',
        identifiers: ['sdk_proj_tok'],
      },
    },
    status: 200,
    body: S.success(
      S.page([
        S.tokenAggregate(
          S.token({
            identifier: 'sdk_proj_tok',
            name: 'project tok',
            validFrom: T1,
            validTo: T1 + DEFAULT_TTL,
            projectIdentifier: SDK_PROJECT,
            orgIdentifier: SDK_ORG,
            apiKeyIdentifier: 'sdk_proj_key',
            parentIdentifier: 'sdk_proj_sa',
            apiKeyType: 'SERVICE_ACCOUNT',
          }),
        ),
      ]),
    ),
  },
  {
    call: 'TokenApi.UpdateToken',
    cite: '§5.1 UpdateToken: PUT /token/{id}?accountIdentifier; §1.2 Token',
    request: {
      method: 'PUT',
      path: '/token/sdk_tok',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'sdk_tok',
        name: 'sdk tok renamed',
        validFrom: T1,
        validTo: T1 + 3 * DAY,
        accountIdentifier: acc,
        apiKeyIdentifier: 'sdk_user_key',
        parentIdentifier: user,
        apiKeyType: 'USER',
      },
    },
    status: 200,
    body: S.success(S.token(USER_TOKEN_V2)),
    verify: [{ token: '{{userTok}}', valid: true }],
  },
  {
    call: 'ApiKeyApi.GetAggregatedApiKey (tokensCount)',
    cite: '§1.1 ApiKeyAggregate: tokensCount counts the tokens under that key',
    request: { method: 'GET', path: '/apikey/aggregate/sdk_user_key', query: userKeyQuery },
    status: 200,
    body: S.success(S.apiKeyAggregate(USER_KEY_V2, { createdAt: T0, lastModifiedAt: T1, tokensCount: 1 })),
  },
  {
    call: 'ApiKeyApi.ListApiKeys',
    cite: '§5.1 ListApiKeys = GET /apikey (no paging); §0 multi-valued identifiers',
    request: { method: 'GET', path: '/apikey', query: { ...userKeyQuery, identifiers: ['sdk_user_key', 'admin'] } },
    status: 200,
    body: S.success([USER_KEY_V2, ADMIN_KEY]),
  },
  {
    call: 'ApiKeyApi.ListApiKeys1, first page',
    cite: '§5.1 ListApiKeys1 = GET /apikey/aggregate; §0 paging, sortOrders as Go renders a SortOrder ({name ASC})',
    request: {
      method: 'GET',
      path: '/apikey/aggregate',
      query: { ...userKeyQuery, identifiers: ['sdk_user_key', 'admin'], pageIndex: 0, pageSize: 1, sortOrders: ['{name ASC}'] },
    },
    status: 200,
    body: S.success(S.page([S.apiKeyAggregate(ADMIN_KEY, { createdAt: T0, lastModifiedAt: T0, tokensCount: 1 })], { pageSize: 1, totalItems: 2 })),
  },
  {
    call: 'ApiKeyApi.ListApiKeys1, second page',
    cite: '§5.1 ListApiKeys1; §0 paging',
    request: {
      method: 'GET',
      path: '/apikey/aggregate',
      query: { ...userKeyQuery, identifiers: ['sdk_user_key', 'admin'], pageIndex: 1, pageSize: 1, sortOrders: ['name,ASC'] },
    },
    status: 200,
    body: S.success(S.page([S.apiKeyAggregate(USER_KEY_V2, { createdAt: T0, lastModifiedAt: T1, tokensCount: 1 })], { pageIndex: 1, pageSize: 1, totalItems: 2 })),
  },
  {
    call: 'ApiKeyApi.ListApiKeys1, searchTerm',
    cite: '§0 Search: case-insensitive regex on name and identifier',
    request: { method: 'GET', path: '/apikey/aggregate', query: { ...userKeyQuery, searchTerm: 'SDK' } },
    status: 200,
    body: S.success(S.page([S.apiKeyAggregate(USER_KEY_V2, { tokensCount: 1 })])),
  },
  {
    call: 'TokenApi.RotateToken (rotateTimestamp in two hours)',
    cite: '§5.1 RotateToken; §1.2 POST /token/rotate/{identifier}; §2 Rotation',
    request: { method: 'POST', path: '/token/rotate/sdk_tok', query: { ...userTokenQuery, rotateTimestamp: T1 + 2 * HOUR } },
    status: 200,
    body: S.success(T.patToken),
    capture: { rotatedUserTok: 'data' },
    verify: [
      { token: '{{userTok}}', valid: true },
      { token: '{{rotatedUserTok}}', valid: true },
    ],
  },
  {
    call: 'TokenApi.ListAggregatedTokens after rotation',
    cite: '§2 Rotation: the old token becomes rotated_<15 letters> with scheduledExpireTime; the new one keeps identifier and validTo',
    request: { method: 'GET', path: '/token/aggregate', query: { ...userTokenQuery, sortOrders: ['{identifier ASC}'] } },
    status: 200,
    body: S.success(
      S.page([
        S.tokenAggregate(S.token({ ...USER_TOKEN_V2, identifier: T.rotatedIdentifier, scheduledExpireTime: T1 + 2 * HOUR }), { expiryAt: T1 + 2 * HOUR }),
        S.tokenAggregate(S.token({ ...USER_TOKEN_V2, validFrom: T1 }), { expiryAt: T1 + 3 * DAY }),
      ]),
    ),
  },
  {
    call: 'TokenApi.DeleteToken',
    cite: '§5.1 DeleteToken; §1.2 DELETE /token/{identifier} -> true; §2 Deletion',
    request: { method: 'DELETE', path: '/token/sdk_tok', query: userTokenQuery },
    status: 200,
    body: S.success(true),
    verify: [
      { token: '{{rotatedUserTok}}', valid: false },
      { token: '{{userTok}}', valid: true },
    ],
  },
  {
    call: 'ApiKeyApi.DeleteApiKey',
    cite: '§5.1 DeleteApiKey; §3 deleting a key deletes its tokens',
    request: { method: 'DELETE', path: '/apikey/sdk_user_key', query: userKeyQuery },
    status: 200,
    body: S.success(true),
    verify: [{ token: '{{userTok}}', valid: false }],
  },

  // ---- service accounts, read and delete ----
  {
    call: 'ServiceAccountApi.GetAggregatedServiceAccount (tokensCount holds the number of keys)',
    cite: '§1.3 ServiceAccountAggregate quirk',
    request: { method: 'GET', path: '/serviceaccount/aggregate/sdk_sa', query: { accountIdentifier: acc } },
    status: 200,
    body: S.success(S.serviceAccountAggregate(SA_V2, { tokensCount: 1 })),
  },
  {
    call: 'ServiceAccountApi.ListAggregatedServiceAccounts',
    cite: '§5.1; §1.3 GET /serviceaccount/aggregate (paging, searchTerm); only the request scope',
    request: { method: 'GET', path: '/serviceaccount/aggregate', query: { accountIdentifier: acc, pageIndex: 0, pageSize: 10, searchTerm: 'sdk' } },
    status: 200,
    body: S.success(S.page([S.serviceAccountAggregate(SA_V2, { tokensCount: 1 })], { pageSize: 10 })),
  },
  {
    call: 'ServiceAccountApi.ListServiceAccount',
    cite: '§5.1; §1.3 GET /serviceaccount (identifiers)',
    request: { method: 'GET', path: '/serviceaccount', query: { accountIdentifier: acc, identifiers: ['sdk_sa'] } },
    status: 200,
    body: S.success([SA_V2]),
  },
  {
    call: 'ServiceAccountApi.ListServiceAccount (project scope)',
    cite: '§5.1 {Org,Project}; §1.3',
    request: { method: 'GET', path: '/serviceaccount', query: { accountIdentifier: acc, orgIdentifier: SDK_ORG, projectIdentifier: SDK_PROJECT } },
    status: 200,
    body: S.success([PROJECT_SA]),
  },
  {
    call: 'ServiceAccountApi.DeleteServiceAccount',
    cite: '§5.1; §1.3 DELETE cascades to the service account\'s keys and tokens',
    request: { method: 'DELETE', path: '/serviceaccount/sdk_sa', query: { accountIdentifier: acc } },
    status: 200,
    body: S.success(true),
    verify: [{ token: '{{saTok}}', valid: false }],
  },
  {
    call: 'ServiceAccountApi.GetAggregatedServiceAccount after delete',
    cite: '§1.3 GET aggregate of a missing SA -> 400 INVALID_ARGUMENT',
    request: { method: 'GET', path: '/serviceaccount/aggregate/sdk_sa', query: { accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_ARGUMENT', "Invalid argument(s): Service account [sdk_sa] doesn't exist in scope"),
  },
  {
    call: 'ServiceAccountApi.DeleteServiceAccount (project scope)',
    cite: '§5.1 {Org,Project}; §1.3 cascade',
    request: { method: 'DELETE', path: '/serviceaccount/sdk_proj_sa', query: { accountIdentifier: acc, orgIdentifier: SDK_ORG, projectIdentifier: SDK_PROJECT } },
    status: 200,
    body: S.success(true),
    verify: [{ token: '{{projTok}}', valid: false }],
  },
];
