/**
 * A NUL character is no valid value in any field, and PostgreSQL can neither store nor compare one:
 * every protocol answers it with its own 4xx naming the field, on both databases, never a 500.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

describeEachDb('NUL characters in requests', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k.close());

  const users = () => `/v1/accounts/${k.admin.accountId}/users`;

  it.each([
    ['an email in a body', () => k.http.post(users(), { email: 'a\u0000b@x.io', name: 'n' }), 'email'],
    ['a name in a body', () => k.http.post(users(), { email: 'nul-name@x.io', name: 'n\u0000' }), 'name'],
    ['a query value', () => k.http.get(users(), { query: { search: 'a\u0000' } }), 'search'],
    ['a path segment', () => k.http.get('/v1/accounts/a%00b/users'), 'accountId'],
  ])('native: %s is a 400 INVALID_ARGUMENT naming the field', async (_name, send, field) => {
    const r = await send();
    expect(r.status, r.text).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', fields: [{ field, message: 'must not contain a NUL character' }] });
  });

  it('native: nothing was written by the refused requests', async () => {
    const r = await k.http.get(users(), { query: { pageSize: 100 } });
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body)).not.toContain('nul-name@x.io');
  });

  it('native: POST /v1/verify judges a token with a NUL character as malformed', async () => {
    const r = await k.anon.post('/v1/verify', { token: 'pat.a\u0000b' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it.each([
    ['a service account name', () => k.http.post('/api/v1/service_accounts', { name: 'a\u0000b', description: 'd', active: true }), 'name'],
    ['a name or id in the path', () => k.http.get('/api/v1/service_accounts/a%00b'), 'nameOrId'],
    ['a filter value', () => k.http.get('/api/v1/service_accounts', { query: { name: 'contains:a\u0000' } }), 'name'],
    [
      'a login username',
      () =>
        fetch(`${k.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password&username=a%00b&password=x' }).then(
          async (res) => ({ status: res.status, body: (await res.json()) as unknown, text: '' }),
        ),
      'username',
    ],
  ])('ZenML: %s is a bare-array 422 naming the field', async (_name, send, field) => {
    const r = await send();
    expect(r.status).toBe(422);
    expect(r.body).toEqual(['ValueError', `${field}: must not contain a NUL character`]);
  });

  it('ZenML: the refused service account was not created', async () => {
    const r = await k.http.get('/api/v1/service_accounts', { query: { size: 1000 } });
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: { name: string }) => i.name)).not.toContain('a\u0000b');
  });
});
