/**
 * Error exchanges as data (docs/compat/harness-ng.md "Mapping exceptions to HTTP status and body" and its error tables). Replayed over /ng/api against an account holding: a USER key err_key (token
 * err_tok) of the admin, and a service account err_sa with key err_sa_key (token err_sa_tok).
 */
import { DAY, S, T, T0, type Exchange } from './support.js';

const acc = '{{acc}}';
const user = '{{user}}';
const userKeyBody = (o: Record<string, unknown>) => ({ identifier: 'v_key', name: 'v key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, ...o });
const userTokenBody = (o: Record<string, unknown>) => ({ identifier: 'v_tok', name: 'v tok', apiKeyIdentifier: 'err_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, ...o });
const userKeyQuery = { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user };
const userTokenQuery = { ...userKeyQuery, apiKeyIdentifier: 'err_key' };
const IDENTIFIER_RULE = 'can be 128 characters long and can only contain alphanumeric, underscore and $ characters, and not start with a number or $';
const NAME_RULE = 'can only contain alphanumeric, dot, hyphen, forward slash and underscore characters.';
const unableToProcessJson = { code: 400, message: 'Unable to process JSON' };

const post = (path: string, body: unknown, query: Record<string, string> = { accountIdentifier: acc }) => ({ method: 'POST' as const, path, query, body });

export const ERROR_EXCHANGES: Exchange[] = [
  // ---- bean validation: 400 FAILURE INVALID_REQUEST with errors[] ----
  {
    call: 'POST /apikey without a name',
    cite: '§0 bean validation; §1.1 name @NotBlank',
    request: post('/apikey', userKeyBody({ name: undefined })),
    status: 400,
    body: S.failure('INVALID_REQUEST', 'name: must not be blank', [{ fieldId: 'name', error: 'must not be blank' }]),
  },
  {
    call: 'POST /apikey with an identifier starting with a digit',
    cite: '§3 identifier rules (EntityIdentifierValidator message)',
    request: post('/apikey', userKeyBody({ identifier: '9bad' })),
    status: 400,
    body: S.failure('INVALID_REQUEST', `identifier: ${IDENTIFIER_RULE}`, [{ fieldId: 'identifier', error: IDENTIFIER_RULE }]),
  },
  {
    call: 'POST /apikey with a reserved identifier',
    cite: '§3 reserved words',
    request: post('/apikey', userKeyBody({ identifier: 'class' })),
    status: 400,
    body: S.failure('INVALID_REQUEST', 'identifier: class is a keyword, so cannot be used', [{ fieldId: 'identifier', error: 'class is a keyword, so cannot be used' }]),
  },
  {
    call: 'POST /apikey with a name holding a forbidden character',
    cite: '§3 names: fieldId "name"',
    request: post('/apikey', userKeyBody({ name: 'bad*name' })),
    status: 400,
    body: S.failure('INVALID_REQUEST', `name: ${NAME_RULE}`, [{ fieldId: 'name', error: NAME_RULE }]),
  },
  {
    call: 'POST /apikey with a 129-character name',
    cite: '§3 names ≤128',
    request: post('/apikey', userKeyBody({ name: 'n'.repeat(129) })),
    status: 400,
    body: S.failure('INVALID_REQUEST', 'name: cannot be more than 128 characters long.', [{ fieldId: 'name', error: 'cannot be more than 128 characters long.' }]),
  },
  {
    call: 'POST /apikey with a 1025-character description',
    cite: '§3 description ≤1024',
    request: post('/apikey', userKeyBody({ description: 'd'.repeat(1025) })),
    status: 400,
    body: S.failure('INVALID_REQUEST', 'description: size must be between 0 and 1024', [{ fieldId: 'description', error: 'size must be between 0 and 1024' }]),
  },
  {
    call: 'POST /apikey without accountIdentifier in the body',
    cite: '§1.1 Create: the body must still carry a non-blank accountIdentifier',
    request: post('/apikey', userKeyBody({ accountIdentifier: undefined })),
    status: 400,
    body: S.failure('INVALID_REQUEST', 'accountIdentifier: must not be blank', [{ fieldId: 'accountIdentifier', error: 'must not be blank' }]),
  },
  {
    call: 'POST /apikey with two violations',
    cite: '§0 message "<field>: <msg>, ..."; errors[].fieldId per violation',
    request: post('/apikey', userKeyBody({ identifier: '$x', parentIdentifier: '' })),
    status: 400,
    body: S.failure('INVALID_REQUEST', `identifier: ${IDENTIFIER_RULE}, parentIdentifier: must not be blank`, [
      { fieldId: 'identifier', error: IDENTIFIER_RULE },
      { fieldId: 'parentIdentifier', error: 'must not be blank' },
    ]),
  },
  {
    call: 'POST /token without a name',
    cite: '§1.2 Token name @NotEmpty',
    request: post('/token', userTokenBody({ name: '' })),
    status: 400,
    body: S.failure('INVALID_REQUEST', T.startsWith('name: '), [{ fieldId: 'name', error: T.nonEmpty }]),
  },
  {
    call: 'POST /token with a bad apiKeyIdentifier',
    cite: '§1.2 apiKeyIdentifier: EntityIdentifier',
    request: post('/token', userTokenBody({ apiKeyIdentifier: '1key' })),
    status: 400,
    body: S.failure('INVALID_REQUEST', `apiKeyIdentifier: ${IDENTIFIER_RULE}`, [{ fieldId: 'apiKeyIdentifier', error: IDENTIFIER_RULE }]),
  },
  {
    call: 'POST /serviceaccount without an email',
    cite: '§1.3 email @NotBlank',
    request: post('/serviceaccount', { identifier: 'v_sa', name: 'v sa', accountIdentifier: acc }),
    status: 400,
    body: S.failure('INVALID_REQUEST', 'email: must not be blank', [{ fieldId: 'email', error: 'must not be blank' }]),
  },
  {
    call: 'POST /serviceaccount with a malformed email',
    cite: '§1.3 email @Email',
    request: post('/serviceaccount', { identifier: 'v_sa', name: 'v sa', email: 'not-an-email', accountIdentifier: acc }),
    status: 400,
    body: S.failure('INVALID_REQUEST', T.startsWith('email: '), [{ fieldId: 'email', error: T.nonEmpty }]),
  },
  {
    call: 'DELETE /apikey/{id} without apiKeyType and parentIdentifier',
    cite: '§0 @NotNull query params are bean validation; §1.1 shared query params',
    request: { method: 'DELETE', path: '/apikey/err_key', query: { accountIdentifier: acc } },
    status: 400,
    body: S.failure('INVALID_REQUEST', 'apiKeyType: must not be null, parentIdentifier: must not be null', [
      { fieldId: 'apiKeyType', error: 'must not be null' },
      { fieldId: 'parentIdentifier', error: 'must not be null' },
    ]),
  },
  {
    call: 'GET /token/aggregate without apiKeyType',
    cite: '§1.2 apiKeyType required',
    request: { method: 'GET', path: '/token/aggregate', query: { accountIdentifier: acc } },
    status: 400,
    body: S.failure('INVALID_REQUEST', 'apiKeyType: must not be null', [{ fieldId: 'apiKeyType', error: 'must not be null' }]),
  },

  // ---- JAX-RS NotFound: unknown routes and unconvertible query parameters ----
  {
    call: 'GET an unknown route',
    cite: '§0 unknown route -> 400 FAILURE RESOURCE_NOT_FOUND_EXCEPTION "HTTP 404 Not Found"',
    request: { method: 'GET', path: '/apikeys', query: { accountIdentifier: acc } },
    status: 400,
    body: S.resourceNotFound(),
  },
  {
    call: 'POST an unknown route under /token',
    cite: '§0 unknown route',
    request: post('/token/renew/err_tok', {}),
    status: 400,
    body: S.resourceNotFound(),
  },
  {
    call: 'GET /apikey/aggregate?apiKeyType=FOO',
    cite: '§0 a query param that cannot be converted -> NotFound',
    request: { method: 'GET', path: '/apikey/aggregate', query: { ...userKeyQuery, apiKeyType: 'FOO' } },
    status: 400,
    body: S.resourceNotFound(),
  },
  {
    call: 'DELETE /token/{id}?apiKeyType=user (enum names are case-sensitive)',
    cite: '§0 unconvertible enum',
    request: { method: 'DELETE', path: '/token/err_tok', query: { ...userTokenQuery, apiKeyType: 'user' } },
    status: 400,
    body: S.resourceNotFound(),
  },
  {
    call: 'GET /token/aggregate?pageIndex=one',
    cite: '§0 unconvertible int query param',
    request: { method: 'GET', path: '/token/aggregate', query: { ...userTokenQuery, pageIndex: 'one' } },
    status: 400,
    body: S.resourceNotFound(),
  },
  {
    call: 'POST /token/rotate/{id}?rotateTimestamp=tomorrow',
    cite: '§0 unconvertible Long query param',
    request: { method: 'POST', path: '/token/rotate/err_tok', query: { ...userTokenQuery, rotateTimestamp: 'tomorrow' } },
    status: 400,
    body: S.resourceNotFound(),
  },

  // ---- malformed JSON: Dropwizard's shape ----
  ...(['/apikey', '/token', '/serviceaccount'] as const).map(
    (path): Exchange => ({
      call: `POST ${path} with a truncated JSON body`,
      cite: '§0 malformed JSON -> 400 {"code":400,"message":"Unable to process JSON"}',
      request: { method: 'POST', path, query: { accountIdentifier: acc }, rawBody: '{"identifier":' },
      status: 400,
      body: unableToProcessJson,
    }),
  ),
  {
    call: 'POST /apikey with tags as an array',
    cite: '§0 Jackson cannot map the body -> Unable to process JSON',
    request: post('/apikey', userKeyBody({ tags: ['a'] })),
    status: 400,
    body: unableToProcessJson,
  },
  {
    call: 'POST /apikey with apiKeyType FOO in the body',
    cite: '§0 an enum Jackson cannot read -> Unable to process JSON',
    request: post('/apikey', userKeyBody({ apiKeyType: 'FOO' })),
    status: 400,
    body: unableToProcessJson,
  },
  {
    call: 'PUT /token/{id} with validTo as an object',
    cite: '§0 Long field Jackson cannot read',
    request: { method: 'PUT', path: '/token/err_tok', query: { accountIdentifier: acc }, body: userTokenBody({ identifier: 'err_tok', validTo: { at: 1 } }) },
    status: 400,
    body: unableToProcessJson,
  },

  // ---- duplicates: 400 ERROR DUPLICATE_FIELD, message without prefix ----
  {
    call: 'POST /apikey with an existing identifier',
    cite: '§1.1 Duplicate',
    request: post('/apikey', userKeyBody({ identifier: 'err_key' })),
    status: 400,
    body: S.error('DUPLICATE_FIELD', 'Try using different Key name, [err_key] already exists'),
  },
  {
    call: 'POST /apikey with an existing identifier in another case',
    cite: '§3 uniqueness: collation strength PRIMARY, case-insensitive for duplicates',
    request: post('/apikey', userKeyBody({ identifier: 'ERR_KEY' })),
    status: 400,
    body: S.error('DUPLICATE_FIELD', 'Try using different Key name, [ERR_KEY] already exists'),
  },
  {
    call: 'POST /token with an existing identifier',
    cite: '§1.2 Duplicate',
    request: post('/token', userTokenBody({ identifier: 'err_tok' })),
    status: 400,
    body: S.error('DUPLICATE_FIELD', 'Try using different token name, [err_tok] already exists'),
  },
  {
    call: 'POST /token with an existing identifier in another case',
    cite: '§3 token uniqueness is case-insensitive',
    request: post('/token', userTokenBody({ identifier: 'Err_Tok' })),
    status: 400,
    body: S.error('DUPLICATE_FIELD', 'Try using different token name, [Err_Tok] already exists'),
  },
  {
    call: 'POST /serviceaccount with an existing identifier',
    cite: '§1.3 Create: Duplicate',
    request: post('/serviceaccount', { identifier: 'err_sa', name: 'again', email: 'again@service.harness.io', accountIdentifier: acc }),
    status: 400,
    body: S.error('DUPLICATE_FIELD', 'A service account with identifier err_sa is already present or was deleted in scope'),
  },

  // ---- missing entities: 404 ENTITY_NOT_FOUND (Keyward's documented difference from 2023's 500) ----
  {
    call: 'PUT /apikey/{id} of a missing key',
    cite: '§1.1 PUT of a missing key (HC 500; Keyward 404 ENTITY_NOT_FOUND as HCN)',
    request: { method: 'PUT', path: '/apikey/nope', body: userKeyBody({ identifier: 'nope' }) },
    status: 404,
    body: S.error('ENTITY_NOT_FOUND', T.startsWith('API key with identifier [nope] does not exist in account [{{acc}}]')),
  },
  {
    call: 'DELETE /apikey/{id} of a missing key',
    cite: '§1.1 HCN: DELETE -> 404 ENTITY_NOT_FOUND',
    request: { method: 'DELETE', path: '/apikey/nope', query: userKeyQuery },
    status: 404,
    body: S.error('ENTITY_NOT_FOUND', T.startsWith('API key with identifier [nope] does not exist in account [{{acc}}]')),
  },
  {
    call: 'PUT /token/{id} of a missing token',
    cite: '§1.2 PUT of a missing token',
    request: { method: 'PUT', path: '/token/nope', query: { accountIdentifier: acc }, body: userTokenBody({ identifier: 'nope' }) },
    status: 404,
    body: S.error('ENTITY_NOT_FOUND', T.nonEmpty),
  },
  {
    call: 'DELETE /token/{id} of a missing token',
    cite: '§1.2 DELETE of a missing token',
    request: { method: 'DELETE', path: '/token/nope', query: userTokenQuery },
    status: 404,
    body: S.error('ENTITY_NOT_FOUND', T.nonEmpty),
  },
  {
    call: 'POST /token/rotate/{id} of a missing token',
    cite: '§1.2 rotate of a missing token',
    request: { method: 'POST', path: '/token/rotate/nope', query: { ...userTokenQuery, rotateTimestamp: T0 + DAY } },
    status: 404,
    body: S.error('ENTITY_NOT_FOUND', T.nonEmpty),
  },
  {
    call: 'DELETE /token/{id} under a missing key',
    cite: '§1.2 DELETE of a missing token',
    request: { method: 'DELETE', path: '/token/err_tok', query: { ...userTokenQuery, apiKeyIdentifier: 'no_such_key' } },
    status: 404,
    body: S.error('ENTITY_NOT_FOUND', T.nonEmpty),
  },

  // ---- INVALID_ARGUMENT ----
  {
    call: 'GET /apikey/aggregate/{id} of a missing key',
    cite: '§1.1 GET aggregate of a missing key',
    request: { method: 'GET', path: '/apikey/aggregate/nope', query: userKeyQuery },
    status: 400,
    body: S.error('INVALID_ARGUMENT', "Invalid argument(s): Api key [nope] doesn't exist in scope"),
  },
  {
    call: 'GET /serviceaccount/aggregate/{id} of a missing service account',
    cite: '§1.3 GET aggregate of a missing SA',
    request: { method: 'GET', path: '/serviceaccount/aggregate/nope', query: { accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_ARGUMENT', "Invalid argument(s): Service account [nope] doesn't exist in scope"),
  },
  {
    call: 'POST /serviceaccount in a project that does not exist',
    cite: '§1.3 Create: the scope must exist -> INVALID_ARGUMENT',
    request: {
      method: 'POST',
      path: '/serviceaccount',
      query: { accountIdentifier: acc, orgIdentifier: 'nope_org', projectIdentifier: 'nope_proj' },
      body: { identifier: 'v_sa', name: 'v sa', email: 'v_sa@service.harness.io', accountIdentifier: acc },
    },
    status: 400,
    body: S.error('INVALID_ARGUMENT', 'Invalid argument(s): Project [nope_proj] in Org [nope_org] and Account [{{acc}}] does not exist'),
  },
  {
    call: 'POST /apikey (SERVICE_ACCOUNT) for a service account that does not exist',
    cite: '§1.1 SERVICE_ACCOUNT key whose service account is missing -> 400 RESOURCE_NOT_FOUND_EXCEPTION',
    request: post('/apikey', userKeyBody({ apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'ghost' })),
    status: 400,
    body: S.failure('RESOURCE_NOT_FOUND_EXCEPTION', T.startsWith('Service account with identifier [ghost] is not found in the given scope accountIdentifier [{{acc}}]')),
  },

  // ---- INVALID_REQUEST (InvalidRequestException) ----
  {
    call: 'GET /token/aggregate with apiKeyIdentifier but no parentIdentifier',
    cite: '§1.2 Aggregate list',
    request: { method: 'GET', path: '/token/aggregate', query: { accountIdentifier: acc, apiKeyType: 'USER', apiKeyIdentifier: 'err_key' } },
    status: 400,
    body: S.error('INVALID_REQUEST', 'Invalid request: Need to pass parentIdentifier along with apikeyIdentifier to list the tokens.'),
  },
  {
    call: 'POST /token with validTo in the past',
    cite: '§1.2 Errors: validTo < now',
    request: post('/token', userTokenBody({ validTo: T0 - 1 })),
    status: 400,
    body: S.error('INVALID_REQUEST', T.startsWith("Invalid request: Token's validTo cannot be set before current time")),
  },
  {
    call: 'POST /token with validFrom after validTo',
    cite: '§1.2 Errors: validFrom > validTo',
    request: post('/token', userTokenBody({ validFrom: T0 + 2 * DAY, validTo: T0 + DAY })),
    status: 400,
    body: S.error('INVALID_REQUEST', T.match(/^Invalid request: .*validFrom time cannot be after validTo time/)),
  },
  {
    call: 'PUT /token/{id} with a scheduledExpireTime',
    cite: '§1.2 Errors: PUT with non-null scheduledExpireTime',
    request: { method: 'PUT', path: '/token/err_tok', query: { accountIdentifier: acc }, body: userTokenBody({ identifier: 'err_tok', scheduledExpireTime: T0 + DAY }) },
    status: 400,
    body: S.error('INVALID_REQUEST', 'Invalid request: Rotated tokens cannot be updated'),
  },
  {
    call: 'POST /serviceaccount with a body accountIdentifier other than the query\'s',
    cite: '§1.3 Create: Value mismatch',
    request: post('/serviceaccount', { identifier: 'v_sa', name: 'v sa', email: 'v_sa@service.harness.io', accountIdentifier: 'someone_else' }),
    status: 400,
    body: S.error('INVALID_REQUEST', 'Invalid request: Value mismatch, previous: {{acc}} current: someone_else'),
  },
  {
    call: 'POST /serviceaccount with a body orgIdentifier the query does not have',
    cite: '§1.3 Create: Value mismatch (any non-null body scope field)',
    request: post('/serviceaccount', { identifier: 'v_sa', name: 'v sa', email: 'v_sa@service.harness.io', accountIdentifier: acc, orgIdentifier: 'other_org' }),
    status: 400,
    body: S.error('INVALID_REQUEST', 'Invalid request: Value mismatch, previous: null current: other_org'),
  },
  {
    call: 'PUT /serviceaccount/{id} with another identifier in the body',
    cite: '§1.3 Update: the path identifier must equal the body identifier',
    request: { method: 'PUT', path: '/serviceaccount/err_sa', query: { accountIdentifier: acc }, body: { identifier: 'other_sa', name: 'x', email: 'err_sa@service.harness.io', accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_REQUEST', 'Invalid request: Value mismatch, previous: err_sa current: other_sa'),
  },
  {
    call: 'PUT /serviceaccount/{id} of a missing service account',
    cite: '§1.3 Update: missing SA',
    request: { method: 'PUT', path: '/serviceaccount/nope', query: { accountIdentifier: acc }, body: { identifier: 'nope', name: 'x', email: 'nope@service.harness.io', accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_REQUEST', "Invalid request: Service account with identifier: nope doesn't exist"),
  },
  {
    call: 'DELETE /serviceaccount/{id} of a missing service account',
    cite: '§1.3 Delete: missing SA',
    request: { method: 'DELETE', path: '/serviceaccount/nope', query: { accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_REQUEST', "Invalid request: Service account with identifier: nope doesn't exist"),
  },
  {
    call: 'PUT /serviceaccount/{id} changing the email',
    cite: '§1.3 Update: the email cannot change',
    request: { method: 'PUT', path: '/serviceaccount/err_sa', query: { accountIdentifier: acc }, body: { identifier: 'err_sa', name: 'err sa', email: 'changed@service.harness.io', accountIdentifier: acc } },
    status: 400,
    body: S.error('INVALID_REQUEST', T.startsWith('Invalid request: ')),
  },
];
