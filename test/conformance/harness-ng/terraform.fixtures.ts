/**
 * The Terraform provider's exchanges (docs/compat/harness-ng.md) as data: each resource's create, read-after-write,
 * update, delete and read-after-delete, with the bodies TF's build* functions send (Go omitempty).
 * TF goes through the Go SDK, so these replay under /gateway/ng/api with the SDK's headers.
 */
import { DAY, S, T, T0, type Exchange } from './support.js';

export const TF_ORG = 'tf_org';
export const TF_PROJECT = 'tf_proj';

const acc = '{{acc}}';
const user = '{{user}}';
const saKeyQuery = { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_sa' };
const saTokenQuery = { ...saKeyQuery, apiKeyIdentifier: 'tf_key' };
/** What TF's buildToken copies from state and Harness must ignore (§1.2: valid is computed; email, username, encodedPassword are response-only). */
const TF_TOKEN_EXTRAS = { valid: false, email: 'terraform@example.com', username: 'terraform', encodedPassword: '$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy' };

const SA = S.serviceAccount({ identifier: 'tf_sa', name: 'tf_sa', email: 'tf_sa@service.harness.io', description: 'managed by terraform', tags: { owner: 'tf' } });
const SA_V2 = S.serviceAccount({ identifier: 'tf_sa', name: 'tf_sa renamed', email: 'tf_sa@service.harness.io', description: 'managed by terraform', tags: { owner: 'tf' } });
const KEY = S.apiKey({
  identifier: 'tf_key',
  name: 'tf_key',
  description: 'tf key',
  tags: { owner: 'tf' },
  apiKeyType: 'SERVICE_ACCOUNT',
  parentIdentifier: 'tf_sa',
  defaultTimeToExpireToken: 10 * DAY,
});
const KEY_V2 = S.apiKey({
  identifier: 'tf_key',
  name: 'tf_key renamed',
  description: 'tf key',
  tags: { owner: 'tf', env: 'prod' },
  apiKeyType: 'SERVICE_ACCOUNT',
  parentIdentifier: 'tf_sa',
  defaultTimeToExpireToken: 20 * DAY,
});
const TOKEN = {
  identifier: 'tf_tok',
  name: 'tf_tok',
  validFrom: T0,
  validTo: T0 + 5 * DAY,
  apiKeyIdentifier: 'tf_key',
  parentIdentifier: 'tf_sa',
  apiKeyType: 'SERVICE_ACCOUNT',
};
const TOKEN_V2 = { ...TOKEN, name: 'tf_tok renamed', validTo: T0 + 6 * DAY, description: 'edited in tf', tags: { owner: 'tf' } };
const USER_KEY = S.apiKey({ identifier: 'tf_user_key', name: 'tf_user_key', apiKeyType: 'USER', parentIdentifier: user });

export const TF_EXCHANGES: Exchange[] = [
  // ---- harness_platform_service_account ----
  {
    call: 'harness_platform_service_account: Create (CreateServiceAccount)',
    cite: '§5.2 service account; §1.3 (email is required)',
    request: {
      method: 'POST',
      path: '/serviceaccount',
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_sa', name: 'tf_sa', email: 'tf_sa@service.harness.io', description: 'managed by terraform', tags: { owner: 'tf' }, accountIdentifier: acc },
    },
    status: 200,
    body: S.success(SA),
  },
  {
    call: 'harness_platform_service_account: Read (GetAggregatedServiceAccount)',
    cite: '§5.2 "Read and the data source -> GetAggregatedServiceAccount"; §1.3 no plain GET /serviceaccount/{id}',
    request: { method: 'GET', path: '/serviceaccount/aggregate/tf_sa', query: { accountIdentifier: acc } },
    status: 200,
    body: S.success(S.serviceAccountAggregate(SA, { createdAt: T0, lastModifiedAt: T0 })),
  },

  // ---- harness_platform_apikey ----
  {
    call: 'harness_platform_apikey: Create (CreateApiKey)',
    cite: '§5.2 apikey body: identifier, name, description, tags, apiKeyType, parentIdentifier, defaultTimeToExpireToken, accountIdentifier',
    request: {
      method: 'POST',
      path: '/apikey',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'tf_key',
        name: 'tf_key',
        description: 'tf key',
        tags: { owner: 'tf' },
        apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'tf_sa',
        defaultTimeToExpireToken: 10 * DAY,
        accountIdentifier: acc,
      },
    },
    status: 200,
    body: S.success(KEY),
  },
  {
    call: 'harness_platform_apikey: Read (GetAggregatedApiKey)',
    cite: '§5.2 "Read and the data source -> GetAggregatedApiKey"',
    request: { method: 'GET', path: '/apikey/aggregate/tf_key', query: saKeyQuery },
    status: 200,
    body: S.success(S.apiKeyAggregate(KEY, { createdAt: T0, lastModifiedAt: T0, tokensCount: 0 })),
  },
  {
    call: 'harness_platform_apikey: Update (UpdateApiKey(ctx, c.AccountId, ...))',
    cite: '§5.2 and §1.1 TF quirk: PUT /apikey/<accountId>, the path segment is ignored',
    request: {
      method: 'PUT',
      path: '/apikey/{{acc}}',
      body: {
        identifier: 'tf_key',
        name: 'tf_key renamed',
        description: 'tf key',
        tags: { owner: 'tf', env: 'prod' },
        apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'tf_sa',
        defaultTimeToExpireToken: 20 * DAY,
        accountIdentifier: acc,
      },
    },
    status: 200,
    body: S.success(KEY_V2),
  },
  {
    call: 'harness_platform_apikey: Read after update',
    cite: '§5.2 read-after-write',
    request: { method: 'GET', path: '/apikey/aggregate/tf_key', query: saKeyQuery },
    status: 200,
    body: S.success(S.apiKeyAggregate(KEY_V2, { createdAt: T0, tokensCount: 0 })),
  },

  // ---- harness_platform_token ----
  {
    call: 'harness_platform_token: Create (CreateToken) with TF body extras',
    cite: '§5.2 token: data stored as `value`; §1.2 TF sends valid, email, username, encodedPassword: ignore them',
    request: {
      method: 'POST',
      path: '/token',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'tf_tok',
        name: 'tf_tok',
        apiKeyIdentifier: 'tf_key',
        apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'tf_sa',
        validTo: T0 + 5 * DAY,
        accountIdentifier: acc,
        ...TF_TOKEN_EXTRAS,
      },
    },
    status: 200,
    body: S.success(T.satToken),
    capture: { tfTok: 'data' },
    verify: [{ token: '{{tfTok}}', valid: true }],
  },
  {
    call: 'harness_platform_token: Read (ListAggregatedTokens, Identifiers=id)',
    cite: '§5.2 token read takes content[0] when exactly one item comes back',
    request: { method: 'GET', path: '/token/aggregate', query: { ...saTokenQuery, identifiers: 'tf_tok' } },
    status: 200,
    body: S.success(S.page([S.tokenAggregate(S.token(TOKEN), { createdAt: T0, lastModifiedAt: T0 })])),
  },
  {
    call: 'harness_platform_token: Create a second token under the same key',
    cite: '§5.2 token create',
    request: {
      method: 'POST',
      path: '/token',
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_tok2', name: 'tf_tok2', apiKeyIdentifier: 'tf_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_sa', accountIdentifier: acc },
    },
    status: 200,
    body: S.success(T.satToken),
    capture: { tfTok2: 'data' },
  },
  {
    call: 'harness_platform_token: Read still finds exactly one',
    cite: '§5.2 ListAggregatedTokens with identifiers=<id> returns exactly one content item',
    request: { method: 'GET', path: '/token/aggregate', query: { ...saTokenQuery, identifiers: 'tf_tok' } },
    status: 200,
    body: S.success(S.page([S.tokenAggregate(S.token(TOKEN))])),
  },
  {
    call: 'harness_platform_token: Update (UpdateToken(ctx, acc, id, ...)) with the state TF read back',
    cite: '§5.2 token update; §1.2 valid is computed in responses and ignored in requests; email/username/encodedPassword null in CRUD responses',
    request: {
      method: 'PUT',
      path: '/token/tf_tok',
      query: { accountIdentifier: acc },
      body: {
        identifier: 'tf_tok',
        name: 'tf_tok renamed',
        description: 'edited in tf',
        tags: { owner: 'tf' },
        apiKeyIdentifier: 'tf_key',
        apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'tf_sa',
        validFrom: T0,
        validTo: T0 + 6 * DAY,
        accountIdentifier: acc,
        ...TF_TOKEN_EXTRAS,
      },
    },
    status: 200,
    body: S.success(S.token(TOKEN_V2)),
    verify: [{ token: '{{tfTok}}', valid: true }],
  },
  {
    call: 'harness_platform_token: Read after update',
    cite: '§5.2 read-after-write',
    request: { method: 'GET', path: '/token/aggregate', query: { ...saTokenQuery, identifiers: 'tf_tok' } },
    status: 200,
    body: S.success(S.page([S.tokenAggregate(S.token(TOKEN_V2), { expiryAt: T0 + 6 * DAY })])),
  },
  {
    call: 'harness_platform_token: Delete (DeleteToken)',
    cite: '§5.2 token delete; §2 deletion ends the token at once',
    request: { method: 'DELETE', path: '/token/tf_tok', query: saTokenQuery },
    status: 200,
    body: S.success(true),
    verify: [
      { token: '{{tfTok}}', valid: false },
      { token: '{{tfTok2}}', valid: true },
    ],
  },
  {
    call: 'harness_platform_token: Read after delete finds nothing',
    cite: '§5.2 token read; §0 an empty page',
    request: { method: 'GET', path: '/token/aggregate', query: { ...saTokenQuery, identifiers: 'tf_tok' } },
    status: 200,
    body: S.success(S.page([])),
  },

  // ---- updates and deletes ----
  {
    call: 'harness_platform_service_account: Update (UpdateServiceAccount)',
    cite: '§5.2; §1.3 PUT /serviceaccount/{identifier}',
    request: {
      method: 'PUT',
      path: '/serviceaccount/tf_sa',
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_sa', name: 'tf_sa renamed', email: 'tf_sa@service.harness.io', description: 'managed by terraform', tags: { owner: 'tf' }, accountIdentifier: acc },
    },
    status: 200,
    body: S.success(SA_V2),
  },
  {
    call: 'harness_platform_service_account: Read after update',
    cite: '§5.2; §1.3 tokensCount holds the number of API keys',
    request: { method: 'GET', path: '/serviceaccount/aggregate/tf_sa', query: { accountIdentifier: acc } },
    status: 200,
    body: S.success(S.serviceAccountAggregate(SA_V2, { tokensCount: 1 })),
  },
  {
    call: 'harness_platform_apikey: Delete (DeleteApiKey)',
    cite: '§5.2; §3 deleting a key deletes its tokens',
    request: { method: 'DELETE', path: '/apikey/tf_key', query: saKeyQuery },
    status: 200,
    body: S.success(true),
    verify: [{ token: '{{tfTok2}}', valid: false }],
  },
  {
    call: 'harness_platform_apikey: Read after delete',
    cite: '§1.1 GET aggregate of a missing key -> 400 INVALID_ARGUMENT',
    request: { method: 'GET', path: '/apikey/aggregate/tf_key', query: saKeyQuery },
    status: 400,
    body: S.error('INVALID_ARGUMENT', "Invalid argument(s): Api key [tf_key] doesn't exist in scope"),
  },
  {
    call: 'harness_platform_service_account: Delete (DeleteServiceAccount)',
    cite: '§5.2; §1.3',
    request: { method: 'DELETE', path: '/serviceaccount/tf_sa', query: { accountIdentifier: acc } },
    status: 200,
    body: S.success(true),
  },
  {
    call: 'harness_platform_service_account: Read after delete',
    cite: '§1.3 GET aggregate of a missing SA -> 400 INVALID_ARGUMENT',
    request: { method: 'GET', path: '/serviceaccount/aggregate/tf_sa', query: { accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_ARGUMENT', "Invalid argument(s): Service account [tf_sa] doesn't exist in scope"),
  },

  // ---- a USER key written the way TF's examples do, with org and project ----
  {
    call: 'harness_platform_apikey: Create a USER key with org_id and project_id',
    cite: '§3 personal keys are account-scope only: accept org/project, store and return null (HCN)',
    request: {
      method: 'POST',
      path: '/apikey',
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_user_key', name: 'tf_user_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, projectIdentifier: TF_PROJECT, orgIdentifier: TF_ORG },
    },
    status: 200,
    body: S.success(USER_KEY),
  },
  {
    call: 'harness_platform_apikey: Read with org and project in the query',
    cite: '§5.2 GetAggregatedApiKey {Org,Project}; §3',
    request: { method: 'GET', path: '/apikey/aggregate/tf_user_key', query: { accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT, apiKeyType: 'USER', parentIdentifier: user } },
    status: 200,
    body: S.success(S.apiKeyAggregate(USER_KEY)),
  },
  {
    call: 'harness_platform_apikey: Update with org and project in the body',
    cite: '§5.2 PUT /apikey/<accountId>; §3',
    request: {
      method: 'PUT',
      path: '/apikey/{{acc}}',
      body: { identifier: 'tf_user_key', name: 'tf_user_key', description: 'personal', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, projectIdentifier: TF_PROJECT, orgIdentifier: TF_ORG },
    },
    status: 200,
    body: S.success(S.apiKey({ identifier: 'tf_user_key', name: 'tf_user_key', description: 'personal', apiKeyType: 'USER', parentIdentifier: user })),
  },
  {
    call: 'harness_platform_token: Create a USER token with org and project',
    cite: '§3 HCN forces org and project to null for USER tokens',
    request: {
      method: 'POST',
      path: '/token',
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_user_tok', name: 'tf_user_tok', apiKeyIdentifier: 'tf_user_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT },
    },
    status: 200,
    body: S.success(T.patToken),
    capture: { tfUserTok: 'data' },
    verify: [{ token: '{{tfUserTok}}', valid: true }],
  },
  {
    call: 'harness_platform_token: Read the USER token with org and project in the query',
    cite: '§5.2 token read; §3',
    request: {
      method: 'GET',
      path: '/token/aggregate',
      query: { accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT, apiKeyType: 'USER', parentIdentifier: user, apiKeyIdentifier: 'tf_user_key', identifiers: 'tf_user_tok' },
    },
    status: 200,
    body: S.success(S.page([S.tokenAggregate(S.token({ identifier: 'tf_user_tok', name: 'tf_user_tok', apiKeyIdentifier: 'tf_user_key', parentIdentifier: user, apiKeyType: 'USER' }))])),
  },
  {
    call: 'harness_platform_apikey: Delete the USER key with org and project in the query',
    cite: '§5.2 DeleteApiKey {Org,Project}; §3 cascade',
    request: { method: 'DELETE', path: '/apikey/tf_user_key', query: { accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT, apiKeyType: 'USER', parentIdentifier: user } },
    status: 200,
    body: S.success(true),
    verify: [{ token: '{{tfUserTok}}', valid: false }],
  },
];
