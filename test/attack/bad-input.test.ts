/**
 * The fuzzer's findings, pinned (issue 12): huge and non-finite numbers in query strings and a NUL
 * character on CG REST and GraphQL answered 500 on PostgreSQL. Each is now a 4xx in the protocol's
 * own shape, by one shared mechanism (src/server/validation.ts boundNumbers, src/server/nul.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { boundNumbers } from '../../src/server/validation.js';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

it('boundNumbers gives every unbounded integer and number the safe-integer range, and keeps bounds a schema has', () => {
  const s = boundNumbers({ type: 'object', properties: { a: { type: 'integer' }, b: { type: ['number', 'null'], maximum: 5 }, c: { type: 'string' }, d: { type: 'integer', default: 3 } } });
  expect(s.properties.a).toEqual({ type: 'integer', maximum: Number.MAX_SAFE_INTEGER, minimum: -Number.MAX_SAFE_INTEGER });
  expect(s.properties.b).toEqual({ type: ['number', 'null'], maximum: 5, minimum: -Number.MAX_SAFE_INTEGER });
  expect(s.properties.c).toEqual({ type: 'string' });
  expect(s.properties.d.default).toBe(3);
});

describeEachDb('bad input is a 4xx, never a 500', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { logLevel: 'fatal' } });
  });
  afterAll(async () => k.close());

  it.each([
    ['/v1/accounts', 'pageIndex', '1e309'],
    ['/v1/accounts', 'pageIndex', '99999999999999999999'],
    ['/v1/accounts', 'pageSize', '-1e309'],
    ['/v1/accounts/{account}/audit', 'from', '1e309'],
    ['/v1/accounts/{account}/audit', 'to', '99999999999999999999'],
    ['/v1/accounts/{account}/users', 'pageIndex', '1e300'],
  ])('native: GET %s?%s=%s is a 400 naming the parameter', async (path, name, value) => {
    const r = await k.http.get(path.replace('{account}', k.admin.accountId), { query: { [name]: value } });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', fields: [{ field: name }] });
  });

  it('CG REST: a NUL in the path and in a body is a 400 in the RestResponse envelope, and nothing is created', async () => {
    const q = { accountId: k.admin.accountId };
    const get = await k.http.get('/api/api-keys/%00', { query: q });
    expect(get.status, get.text).toBe(400);
    expect(get.body).toMatchObject({ resource: null, responseMessages: [{ code: 'INVALID_ARGUMENT', message: 'apiKeyId: must not contain a NUL character' }] });
    const post = await k.http.post('/api/api-keys', { name: '\u0000' }, { query: q });
    expect(post.status, post.text).toBe(400);
    expect(post.body.responseMessages[0]).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'name: must not contain a NUL character' });
    const list = await k.http.get('/api/api-keys', { query: q });
    expect(list.body.resource.total).toBe(0);
  });

  it('CG GraphQL: a NUL in the request is a 400 with a GraphQL error', async () => {
    const r = await k.http.post('/api/graphql', { query: '{ userGroups(limit: 1) { nodes { id } } }', variables: { x: 'a\u0000' } });
    expect(r.status, r.text).toBe(400);
    expect(r.body).toEqual({ errors: [{ message: 'variables.x: must not contain a NUL character', extensions: { classification: 'ValidationError' } }] });
  });

  it('NG: a NUL is a FAILURE naming the field with a credential, and still a 401 without one', async () => {
    const q = { accountIdentifier: k.admin.accountId };
    const body = { identifier: 'nul_sa', name: 'a\u0000', email: 'nul@service.harness.io', accountIdentifier: k.admin.accountId };
    const r = await k.http.post('/ng/api/serviceaccount', body, { query: q });
    expect(r.status, r.text).toBe(400);
    expect(r.body).toMatchObject({ status: 'FAILURE', errors: [{ fieldId: 'name', error: 'must not contain a NUL character' }] });
    const anon = await k.anon.post('/ng/api/serviceaccount', body, { query: q });
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('an unknown route with a NUL in its path is still that protocol\'s not-found', async () => {
    const r = await k.http.get('/ng/api/apikey/%00', { query: { accountIdentifier: k.admin.accountId } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'RESOURCE_NOT_FOUND_EXCEPTION' });
  });
});
