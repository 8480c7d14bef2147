/**
 * What a caller with no token, a bad token, another account's token or too few permissions gets from
 * the native API: a 401, 403 or 404 in the native shape, never another account's data, and no change.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeScope } from '../../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { describeEachDb } from '../../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, userWithToken } from '../../helpers/nativeApi.js';

describeEachDb('native API security', (kind) => {
  let k: TestKeyward;
  /** Account A is the bootstrap account; B is a second account with its own (non-operator) admin. */
  let a: { accountId: string; victim: { id: string; email: string; token: string } };
  let b: { accountId: string; adminId: string; http: HttpClient };

  beforeAll(async () => {
    k = await startKeyward(kind);
    const victim = await userWithToken(k, k.admin.accountId, 'victim@a.example', { password: 'victims-password-1' });
    a = { accountId: k.admin.accountId, victim };
    const res = await k.http.post('/v1/accounts', { name: 'Account B', admin: { email: 'admin@b.example' } });
    expect(res.status).toBe(201);
    b = { accountId: res.body.account.id, adminId: res.body.admin.id, http: k.anon.withToken(res.body.token) };
  });
  afterAll(async () => k?.close());

  function expectNoLeak(text: string): void {
    expect(text).not.toContain('victim@a.example');
    expect(text).not.toContain('"hasPassword"');
  }

  it('another account\'s user id read through the caller\'s own account is a 404 without data', async () => {
    const res = await b.http.get(`/v1/accounts/${b.accountId}/users/${a.victim.id}`);
    expectNativeError(res, 404, { code: 'NOT_FOUND' });
    expectNoLeak(res.text);
  });

  it('another account\'s users read through that account are a 403 without data', async () => {
    const one = await b.http.get(`/v1/accounts/${a.accountId}/users/${a.victim.id}`);
    expectNativeError(one, 403, { code: 'PERMISSION_DENIED' });
    expectNoLeak(one.text);
    const list = await b.http.get(`/v1/accounts/${a.accountId}/users`, { query: { search: 'victim' } });
    expectNativeError(list, 403);
    expectNoLeak(list.text);
    expectNativeError(await b.http.get(`/v1/accounts/${a.accountId}`), 404);
  });

  it('another account\'s user cannot be deactivated, renamed or have their password reset', async () => {
    expectNativeError(await b.http.patch(`/v1/accounts/${b.accountId}/users/${a.victim.id}`, { active: false }), 404);
    expectNativeError(await b.http.patch(`/v1/accounts/${a.accountId}/users/${a.victim.id}`, { active: false }), 403);
    expectNativeError(await b.http.patch(`/v1/accounts/${a.accountId}/users/${a.victim.id}`, { name: 'Owned' }), 403);
    expectNativeError(await b.http.put(`/v1/accounts/${b.accountId}/users/${a.victim.id}/password`, { password: 'taken-over-1' }), 404);
    expectNativeError(await b.http.put(`/v1/accounts/${a.accountId}/users/${a.victim.id}/password`, { password: 'taken-over-1' }), 403);

    // Nothing changed.
    expect((await k.anon.post('/v1/verify', { token: a.victim.token })).body).toMatchObject({ valid: true, principal: { id: a.victim.id } });
    const victim = await k.http.get(`/v1/accounts/${a.accountId}/users/${a.victim.id}`);
    expect(victim.body).toMatchObject({ active: true, name: 'victim' });
    await expect(k.keyward.services.users.authenticate('victim@a.example', 'victims-password-1')).resolves.toBeTruthy();
    await expect(k.keyward.services.users.authenticate('victim@a.example', 'taken-over-1')).rejects.toThrow();
  });

  it('users cannot be created in another account', async () => {
    expectNativeError(await b.http.post(`/v1/accounts/${a.accountId}/users`, { email: 'planted@b.example' }), 403);
    expect((await k.http.get(`/v1/accounts/${a.accountId}/users`, { query: { search: 'planted' } })).body.total).toBe(0);
  });

  it('a system operator still needs a role in an account to read its users', async () => {
    const res = await k.http.get(`/v1/accounts/${b.accountId}/users`);
    expect([403, 404]).toContain(res.status);
    expectNativeError(res, res.status);
    expect(res.text).not.toContain('admin@b.example');
    // ... but sees the account itself.
    expect((await k.http.get(`/v1/accounts/${b.accountId}`)).body.name).toBe('Account B');
  });

  it('only an operator can make an operator', async () => {
    const res = await b.http.post(`/v1/accounts/${b.accountId}/users`, { email: 'wannabe@b.example', isOperator: true });
    expectNativeError(res, 400, { field: 'isOperator' });
    const ok = await k.http.post(`/v1/accounts/${a.accountId}/users`, { email: 'op2@a.example', isOperator: true });
    expect(ok.status).toBe(201);
    expect(ok.body.isOperator).toBe(true);
  });

  it('a user with a valid token but no role is refused every management route', async () => {
    const as = k.anon.withToken(a.victim.token);
    const base = `/v1/accounts/${a.accountId}`;
    expectNativeError(await as.get(`${base}/users`), 403);
    expectNativeError(await as.post(`${base}/users`, { email: 'x1@a.example' }), 403);
    expectNativeError(await as.patch(`${base}/users/${k.admin.userId}`, { active: false }), 403);
    expectNativeError(await as.put(`${base}/users/${k.admin.userId}/password`, { password: 'admin-taken-1' }), 403);
    expectNativeError(await as.get(`${base}/audit`), 403);
    expectNativeError(await as.post('/v1/accounts', { name: 'Mine', admin: { email: 'x2@a.example' } }), 403);
    expectNativeError(await as.get('/v1/accounts'), 403);
    // The refused deactivation did not happen.
    expect((await k.anon.post('/v1/verify', { token: k.admin.token })).body.valid).toBe(true);
  });

  it('every protected route answers 401 with no token, a malformed one, or a wrong secret', async () => {
    const wrong = a.victim.token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'));
    const base = `/v1/accounts/${a.accountId}`;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/whoami'],
      ['GET', '/v1/accounts'],
      ['POST', '/v1/accounts', { name: 'N', admin: { email: 'n@example.com' } }],
      ['GET', base],
      ['GET', `${base}/users`],
      ['POST', `${base}/users`, { email: 'n2@example.com' }],
      ['GET', `${base}/users/${a.victim.id}`],
      ['PATCH', `${base}/users/${a.victim.id}`, { active: false }],
      ['PUT', `${base}/users/${a.victim.id}/password`, { password: 'long-enough-1' }],
      ['GET', `${base}/audit`],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [null, 'not-a-token', wrong]) {
        const res = await k.anon.request(method, path, { token, ...(body !== undefined ? { body } : {}) });
        expectNativeError(res, 401, { code: 'UNAUTHENTICATED' });
        expectNoLeak(res.text);
      }
    }
    expect((await k.anon.post('/v1/verify', { token: a.victim.token })).body.valid).toBe(true);
  });

  it('a deactivated user\'s token opens nothing', async () => {
    const u = await userWithToken(k, a.accountId, 'soon-gone@a.example', { role: '_account_admin' });
    const as = k.anon.withToken(u.token);
    expect((await as.get(`/v1/accounts/${a.accountId}/users`)).status).toBe(200);
    expect((await k.http.patch(`/v1/accounts/${a.accountId}/users/${u.id}`, { active: false })).status).toBe(200);
    expectNativeError(await as.get(`/v1/accounts/${a.accountId}/users`), 401);
    expectNativeError(await as.post(`/v1/accounts/${a.accountId}/users`, { email: 'after@a.example' }), 401);
  });

  it('a removed role takes effect at once', async () => {
    const u = await userWithToken(k, a.accountId, 'demoted@a.example', { role: '_account_viewer' });
    const as = k.anon.withToken(u.token);
    expect((await as.get(`/v1/accounts/${a.accountId}/audit`)).status).toBe(200);
    const scope = makeScope(a.accountId);
    const assignments = await k.keyward.services.access.listAssignments(SYSTEM_CALLER, scope, { principalId: u.id }, { offset: 0, limit: 10 });
    expect(assignments.items).toHaveLength(1);
    await k.keyward.services.access.deleteAssignment(SYSTEM_CALLER, scope, assignments.items[0]!.identifier);
    expectNativeError(await as.get(`/v1/accounts/${a.accountId}/audit`), 403);
  });
});
