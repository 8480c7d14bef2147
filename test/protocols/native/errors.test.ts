/**
 * Bad input on every native route: each is a 4xx in the shape
 * `{"error":{"code","message","fields"?},"requestId"}` whose message names what was wrong; never a 500.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type RequestOptions, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError } from '../../helpers/nativeApi.js';

interface Case {
  name: string;
  method: string;
  path: (k: TestKeyward) => string;
  opts?: RequestOptions;
  status: number;
  code?: string;
  /** The message must name this field. */
  field?: string;
  /** The message must contain this text. */
  says?: string | RegExp;
}

const json = (raw: string): RequestOptions => ({ rawBody: raw, headers: { 'content-type': 'application/json' } });
const users = (k: TestKeyward) => `/v1/accounts/${k.admin.accountId}/users`;
const user = (k: TestKeyward) => `/v1/accounts/${k.admin.accountId}/users/${k.admin.userId}`;
const audit = (k: TestKeyward) => `/v1/accounts/${k.admin.accountId}/audit`;
const accounts = () => '/v1/accounts';

const CASES: Case[] = [
  // The JSON itself.
  { name: 'malformed JSON', method: 'POST', path: users, opts: json('{"email": "a@b.c",'), status: 400, code: 'INVALID_ARGUMENT', says: /json/i },
  { name: 'malformed JSON on verify', method: 'POST', path: () => '/v1/verify', opts: json('{token:'), status: 400, says: /json/i },
  { name: 'empty JSON body', method: 'POST', path: users, opts: json(''), status: 400, says: 'body is empty' },
  { name: 'no body at all', method: 'POST', path: users, opts: {}, status: 400, field: 'body' },
  { name: 'a JSON array for an object', method: 'POST', path: users, opts: { body: [] }, status: 400, field: 'body' },
  { name: 'a JSON string for an object', method: 'POST', path: () => '/v1/verify', opts: { body: 'pat.x.y.z' }, status: 400, field: 'body' },
  { name: 'JSON null for an object', method: 'PATCH', path: user, opts: json('null'), status: 400, field: 'body' },
  { name: 'a text body', method: 'POST', path: users, opts: { rawBody: 'email=a@b.c', headers: { 'content-type': 'text/plain' } }, status: 400, field: 'body' },
  { name: 'a body of an unsupported media type', method: 'POST', path: users, opts: { rawBody: '<email>a@b.c</email>', headers: { 'content-type': 'application/xml' } }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'a body over the size limit', method: 'POST', path: () => '/v1/verify', opts: json(JSON.stringify({ token: 'x'.repeat(1024 * 1024 + 10) })), status: 413, code: 'PAYLOAD_TOO_LARGE' },

  // Wrong JSON types are refused, never coerced.
  { name: 'name: 123 on user create', method: 'POST', path: users, opts: { body: { email: 'type1@example.com', name: 123 } }, status: 400, field: 'name' },
  { name: 'email: 123', method: 'POST', path: users, opts: { body: { email: 123 } }, status: 400, field: 'email' },
  { name: 'isOperator: "true"', method: 'POST', path: users, opts: { body: { email: 'type2@example.com', isOperator: 'true' } }, status: 400, field: 'isOperator' },
  { name: 'name: 123 on account create', method: 'POST', path: accounts, opts: { body: { name: 123, admin: { email: 'type3@example.com' } } }, status: 400, field: 'name' },
  { name: 'admin: "x" on account create', method: 'POST', path: accounts, opts: { body: { name: 'T', admin: 'x' } }, status: 400, field: 'admin' },
  { name: 'active: "false" on PATCH', method: 'PATCH', path: user, opts: { body: { active: 'false' } }, status: 400, field: 'active' },
  { name: 'name: null on PATCH', method: 'PATCH', path: user, opts: { body: { name: null } }, status: 400, field: 'name' },
  { name: 'password: 12345678', method: 'PUT', path: (k) => `${user(k)}/password`, opts: { body: { password: 12345678 } }, status: 400, field: 'password' },
  { name: 'token: 123 on verify', method: 'POST', path: () => '/v1/verify', opts: { body: { token: 123 } }, status: 400, field: 'token' },
  { name: 'token: ["a"] on verify', method: 'POST', path: () => '/v1/verify', opts: { body: { token: ['a'] } }, status: 400, field: 'token' },

  // Missing required fields.
  { name: 'missing email', method: 'POST', path: users, opts: { body: { name: 'No Email' } }, status: 400, field: 'email' },
  { name: 'missing admin', method: 'POST', path: accounts, opts: { body: { name: 'No Admin' } }, status: 400, field: 'admin' },
  { name: 'missing admin.email', method: 'POST', path: accounts, opts: { body: { name: 'No Admin Email', admin: {} } }, status: 400, field: 'admin.email' },
  { name: 'missing account name', method: 'POST', path: accounts, opts: { body: { admin: { email: 'noname@example.com' } } }, status: 400, field: 'name' },
  { name: 'missing token on verify', method: 'POST', path: () => '/v1/verify', opts: { body: {} }, status: 400, field: 'token' },
  { name: 'missing password', method: 'PUT', path: (k) => `${user(k)}/password`, opts: { body: { currentPassword: 'whatever-1' } }, status: 400, field: 'password' },
  { name: 'an empty PATCH', method: 'PATCH', path: user, opts: { body: {} }, status: 400 },

  // Unknown fields.
  { name: 'unknown field on user create', method: 'POST', path: users, opts: { body: { email: 'unk@example.com', role: 'admin' } }, status: 400, field: 'role' },
  { name: 'unknown field on PATCH', method: 'PATCH', path: user, opts: { body: { email: 'new@example.com' } }, status: 400, field: 'email' },
  { name: 'unknown nested field on account create', method: 'POST', path: accounts, opts: { body: { name: 'U', admin: { email: 'u@example.com', isOperator: true } } }, status: 400, field: 'admin.isOperator' },
  { name: 'unknown field on password', method: 'PUT', path: (k) => `${user(k)}/password`, opts: { body: { password: 'long-enough-1', hash: 'x' } }, status: 400, field: 'hash' },

  // Over-long and ill-formed values.
  { name: 'name of 129 characters', method: 'POST', path: users, opts: { body: { email: 'long1@example.com', name: 'n'.repeat(129) } }, status: 400, field: 'name' },
  { name: 'email of 255 characters', method: 'POST', path: users, opts: { body: { email: `${'e'.repeat(243)}@example.com` } }, status: 400, field: 'email' },
  { name: 'an email that is no email', method: 'POST', path: users, opts: { body: { email: 'not-an-email' } }, status: 400, field: 'email' },
  { name: 'a blank email', method: 'POST', path: users, opts: { body: { email: '   ' } }, status: 400, field: 'email' },
  { name: 'account name of 129 characters', method: 'POST', path: accounts, opts: { body: { name: 'a'.repeat(129), admin: { email: 'long2@example.com' } } }, status: 400, field: 'name' },
  { name: 'an empty account name', method: 'POST', path: accounts, opts: { body: { name: '', admin: { email: 'long3@example.com' } } }, status: 400, field: 'name' },
  { name: 'a blank account name', method: 'POST', path: accounts, opts: { body: { name: '   ', admin: { email: 'long4@example.com' } } }, status: 400, field: 'accountName' },
  { name: 'an account id with a slash', method: 'POST', path: accounts, opts: { body: { id: 'a/b', name: 'Slash', admin: { email: 'long5@example.com' } } }, status: 400, field: 'id' },
  { name: 'an invalid admin email', method: 'POST', path: accounts, opts: { body: { name: 'Bad Email', admin: { email: 'nope' } } }, status: 400, field: 'adminEmail' },
  { name: 'PATCH name of 129 characters', method: 'PATCH', path: user, opts: { body: { name: 'x'.repeat(129) } }, status: 400, field: 'name' },
  { name: 'a password of 257 characters', method: 'PUT', path: (k) => `${user(k)}/password`, opts: { body: { password: 'p'.repeat(257) } }, status: 400, field: 'password' },
  { name: 'an empty token on verify', method: 'POST', path: () => '/v1/verify', opts: { body: { token: '' } }, status: 400, field: 'token' },
  { name: 'a token of 4097 characters on verify', method: 'POST', path: () => '/v1/verify', opts: { body: { token: 't'.repeat(4097) } }, status: 400, field: 'token' },
  { name: 'an account id path parameter of 65 characters', method: 'GET', path: () => `/v1/accounts/${'a'.repeat(65)}`, status: 400, field: 'accountId' },
  { name: 'a user id path parameter of 65 characters', method: 'GET', path: (k) => `${users(k)}/${'u'.repeat(65)}`, status: 400, field: 'userId' },

  // Query parameters.
  { name: 'pageSize=1000', method: 'GET', path: users, opts: { query: { pageSize: 1000 } }, status: 400, field: 'pageSize' },
  { name: 'pageSize=0', method: 'GET', path: accounts, opts: { query: { pageSize: 0 } }, status: 400, field: 'pageSize' },
  { name: 'pageIndex=-1', method: 'GET', path: users, opts: { query: { pageIndex: -1 } }, status: 400, field: 'pageIndex' },
  { name: 'pageIndex=abc', method: 'GET', path: accounts, opts: { query: { pageIndex: 'abc' } }, status: 400, field: 'pageIndex' },
  { name: 'pageSize=1.5', method: 'GET', path: users, opts: { query: { pageSize: '1.5' } }, status: 400, field: 'pageSize' },
  { name: 'search of 129 characters', method: 'GET', path: users, opts: { query: { search: 's'.repeat(129) } }, status: 400, field: 'search' },
  { name: 'audit limit=0', method: 'GET', path: audit, opts: { query: { limit: 0 } }, status: 400, field: 'limit' },
  { name: 'audit limit=501', method: 'GET', path: audit, opts: { query: { limit: 501 } }, status: 400, field: 'limit' },
  { name: 'audit from=-5', method: 'GET', path: audit, opts: { query: { from: -5 } }, status: 400, field: 'from' },
  { name: 'audit to=yesterday', method: 'GET', path: audit, opts: { query: { to: 'yesterday' } }, status: 400, field: 'to' },
  { name: 'audit cursor that is not one', method: 'GET', path: audit, opts: { query: { cursor: 'zzzz' } }, status: 400, field: 'cursor' },

  // Routes that do not exist.
  { name: 'an unknown route', method: 'GET', path: () => '/v1/nothing-here', status: 404, code: 'NOT_FOUND', says: '/v1/nothing-here' },
  { name: 'an unknown route under an account', method: 'GET', path: (k) => `/v1/accounts/${k.admin.accountId}/widgets`, status: 404, code: 'NOT_FOUND' },
  { name: 'a known path with the wrong method', method: 'DELETE', path: () => '/v1/verify', status: 404, code: 'NOT_FOUND', says: 'DELETE' },
  { name: 'an unknown route with a query string', method: 'GET', path: () => '/nope', opts: { query: { a: 1 } }, status: 404, code: 'NOT_FOUND' },
];

describeEachDb('native API bad input', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  it.each(CASES)('$name: $status', async (c) => {
    const res = await k.http.request(c.method, c.path(k), c.opts ?? {});
    expect(res.status, res.text).toBeLessThan(500);
    expectNativeError(res, c.status, { ...(c.code ? { code: c.code } : {}), ...(c.field ? { field: c.field } : {}) });
    if (c.says) expect(res.body.error.message).toMatch(c.says);
    if (c.field && c.status === 400 && res.body.error.fields) {
      expect(res.body.error.fields.map((f: { field: string }) => f.field).join(' ')).toContain(c.field.split('.').pop());
    }
  });

  it('refused input changed nothing: no user or account was created', async () => {
    const list = await k.http.get(`/v1/accounts/${k.admin.accountId}/users`, { query: { pageSize: 100 } });
    expect(list.body.items.map((u: { email: string }) => u.email)).toEqual([k.admin.email]);
    const accs = await k.http.get('/v1/accounts', { query: { pageSize: 100 } });
    expect(accs.body.total).toBe(1);
  });

  it('a request without a token is refused before its body is looked at', async () => {
    // 401 or 400 are both 4xx; what matters is that an anonymous caller learns nothing and gets the shape.
    const res = await k.anon.post(`/v1/accounts/${k.admin.accountId}/users`, { email: 'anon@example.com' });
    expectNativeError(res, 401, { code: 'UNAUTHENTICATED' });
  });
});
